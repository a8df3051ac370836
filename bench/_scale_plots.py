"""The plots of bench/scale.py (docs/img/scale_*.png), from its flat result dict; a section that did not run is skipped."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plots(r: dict[str, Any], img: Path) -> list[Path]:
    """Throughput and per-route p99 by workers; latency, build time and memory by catalog size; event → recs delays."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    img.mkdir(parents=True, exist_ok=True)
    made = []
    workers = [n for n in (1, 2, 4) if f"a.workers_{n}.rps" in r]
    if workers:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
        ax1.bar([str(n) for n in workers], [r[f"a.workers_{n}.rps"] for n in workers], color="#4C72B0")
        ax1.set(xlabel="API workers (2 cores)", ylabel="requests/s (mixed: 40/40/20)", title="throughput")
        width = 0.25
        for j, route in enumerate(("search", "recommend", "events")):
            ax2.bar([i + j * width for i in range(len(workers))], [r.get(f"a.workers_{n}.{route}.p99_ms") or 0 for n in workers], width, label=route)
        ax2.set_xticks([i + width for i in range(len(workers))], [str(n) for n in workers])
        ax2.set(xlabel="API workers", ylabel="p99 ms (route alone, same connections)", title="latency per route")
        ax2.legend()
        fig.tight_layout()
        made.append(_save(fig, img / "scale_throughput.png"))
    sizes = [n for n in r.get("e.sizes", []) if f"e.products_{n}.search_p50_ms" in r]
    if sizes:
        fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
        k = [n / 1000 for n in sizes]
        axes[0].plot(k, [r[f"e.products_{n}.search_p50_ms"] for n in sizes], "o-", label="p50")
        axes[0].plot(k, [r[f"e.products_{n}.search_p99_ms"] for n in sizes], "o-", label="p99")
        axes[0].set(xlabel="products (thousands)", ylabel="ms", title="search latency, one worker")
        axes[0].legend()
        axes[1].plot(k, [r[f"e.products_{n}.build_search_s"] for n in sizes], "o-")
        axes[1].set(xlabel="products (thousands)", ylabel="s", title="search build (embedding cache warm)")
        axes[2].plot(k, [r[f"e.products_{n}.rss_worker_mb"] for n in sizes], "o-", label="worker RSS")
        axes[2].plot(k, [r[f"e.products_{n}.artifacts_bytes"] / 2**20 for n in sizes], "o-", label="artifacts on disk")
        axes[2].plot(k, [r[f"e.products_{n}.pg_db_bytes"] / 2**20 for n in sizes], "o-", label="PostgreSQL database")
        axes[2].set(xlabel="products (thousands)", ylabel="MiB", title="memory and disk")
        axes[2].legend(fontsize=8)
        if any(r.get(f"e.products_{n}.repeated") for n in sizes):
            fig.suptitle("above 54,667 products: the real Home Depot titles REPEATED under new ids (labelled)", fontsize=9)
        fig.tight_layout()
        made.append(_save(fig, img / "scale_growth.png"))
    delays = r.get("c.delays_ms") or []
    if delays:
        import numpy as np

        fig, ax = plt.subplots(figsize=(5.5, 3.6))
        d = np.sort(delays)
        ax.plot(d, np.arange(1, len(d) + 1) / len(d))
        ax.axvline(1000, color="red", linestyle="--", label="bar: 1 s")
        ax.set(xscale="log", xlabel="ms from A's 2xx to B's changed recommendations", ylabel="fraction of trials",
               title="event at worker A → recommendations at worker B")
        ax.legend()
        fig.tight_layout()
        made.append(_save(fig, img / "scale_event_to_recs.png"))
    return made


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
