"""What bench/scale.py starts and stops: PostgreSQL, redis-server, ShopMind homes ("hosts") and API workers.

Everything runs on loopback on free ports, writes its output to files (a pipe nobody reads would stall it), and
is stopped by `Cluster.close()` — also on Ctrl-C, SIGTERM or an error (the bench wraps it in a `with`).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from _common import free_port

BIN = Path(sys.executable).parent / "shopmind"
ADMIN, PUBLIC = "bench-admin", "bench-pub"


def _sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _rss_kib(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def child_pids(pid: int) -> list[int]:
    """Direct children of a process (any of its threads may have started them)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(c) for c in (task / "children").read_text().split()]
    return out


def rss_mb(pid: int, *, children: bool = True) -> float:
    """Resident memory of a process (and, with `children`, of its direct children: uvicorn's workers), in MiB."""
    return round(sum(_rss_kib(p) for p in [pid, *(child_pids(pid) if children else [])]) / 1024, 1)


def worker_rss_mb(pid: int) -> tuple[float, list[float]]:
    """(the parent's RSS, each child's RSS) in MiB: `serve --workers N` is a supervisor plus N worker processes
    (and maybe a small multiprocessing helper); with N = 1 the parent is the worker and the list is empty."""
    return round(_rss_kib(pid) / 1024, 1), sorted((round(_rss_kib(c) / 1024, 1) for c in child_pids(pid)), reverse=True)


def cli_supports(command: list[str], flag: str) -> bool:
    """Whether `shopmind <command> --help` mentions `flag` (features of other helpers land while this bench exists)."""
    out = subprocess.run([str(BIN), *command, "--help"], capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})
    return out.returncode == 0 and flag in out.stdout


def _toml_value(v: Any) -> str:
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return orjson.dumps(str(v)).decode()


def write_config(home: Path, sections: dict[str, dict[str, Any]]) -> None:
    """`<home>/shopmind.toml` from {section: {key: value}} (nested tables as inline tables)."""
    home.mkdir(parents=True, exist_ok=True)
    lines = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in values.items()]
        lines.append("")
    (home / "shopmind.toml").write_text("\n".join(lines))


class Cluster:
    """Servers and worker processes of one bench run, all stopped on close (reverse start order)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.stops: list[tuple[str, list[str]]] = []
        self.pg_url: str | None = None
        self.redis_url: str | None = None
        self.server_omp: int | None = None  # OMP_NUM_THREADS for every server (--server-omp-threads); None: the product's own
        signal.signal(signal.SIGTERM, _sigterm)

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for _name, proc in reversed(self.procs):
            self.stop(proc)
        self.procs.clear()
        for _name, cmd in reversed(self.stops):
            subprocess.run(cmd, capture_output=True, timeout=60)
        self.stops.clear()

    def stop(self, proc: subprocess.Popen) -> None:
        """SIGTERM, then SIGKILL after 20 s; the process group goes too (uvicorn's worker processes)."""
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        self.procs = [(n, p) for n, p in self.procs if p is not proc]

    # -- servers ---------------------------------------------------------------------------------------------
    def postgres(self) -> str:
        """A throwaway PostgreSQL (as tests/conftest.py starts it: trust auth, fsync off); its admin URL."""
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        bindir = Path(found[-1]).parent if found else (Path(shutil.which("initdb") or "").resolve().parent if shutil.which("initdb") else None)
        if bindir is None:
            raise SystemExit("scale.py: PostgreSQL is not installed (make sysdeps)")
        root = self.root / "pg"
        data, sock = root / "data", root / "sock"
        sock.mkdir(parents=True)
        prefix: list[str] = []
        if os.geteuid() == 0:  # postgres refuses to run as root
            shutil.chown(root, "postgres")
            shutil.chown(sock, "postgres")
            os.chmod(self.root, 0o755)
            prefix = ["runuser", "-u", "postgres", "--"]
        port = free_port()
        subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "shopmind", "--no-sync", "-E", "UTF8"],
                       check=True, capture_output=True, timeout=120)
        opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", "start"],
                       check=True, capture_output=True, timeout=120)
        self.stops.append(("postgres", [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]))
        self.pg_url = f"postgresql://shopmind@127.0.0.1:{port}/postgres"
        return self.pg_url

    def database(self, name: str) -> str:
        """A fresh database on the bench's PostgreSQL; its URL."""
        import psycopg

        assert self.pg_url
        with psycopg.connect(self.pg_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"{self.pg_url.rsplit('/', 1)[0]}/{name}"

    def redis(self) -> str:
        """A redis-server without persistence; its URL."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("scale.py: redis-server is not installed (make sysdeps)")
        root = self.root / "redis"
        root.mkdir(parents=True)
        port = free_port()
        proc = self.spawn("redis", [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                    "--dir", str(root), "--logfile", str(root / "log")], env=dict(os.environ), log=root / "out")
        for _ in range(400):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None:
                break
            time.sleep(0.025)
        else:
            raise RuntimeError(f"redis-server did not start; see {root / 'log'}")
        self.redis_url = f"redis://127.0.0.1:{port}/0"
        return self.redis_url

    def spawn(self, name: str, cmd: list[str], *, env: dict[str, str], log: Path, cwd: Path | None = None) -> subprocess.Popen:
        """Start a process in its own process group, output to `log`; stopped by close()."""
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as fh:
            proc = subprocess.Popen(cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True, cwd=cwd)
        self.procs.append((name, proc))
        return proc

    # -- ShopMind hosts and workers ----------------------------------------------------------------------------
    def env(self, home: Path, *, server: bool = False) -> dict[str, str]:
        """The environment of a `shopmind` command in `home`. CLI commands (imports, builds) run with OMP_NUM_THREADS=1
        unless the caller's environment says otherwise; a server gets no OMP_NUM_THREADS from the bench: what is measured
        is the product's own default (`serve --workers N` gives each worker its share of the CPUs; one worker keeps
        `search.query_threads`), as a deployment that sets nothing would run it."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPMIND_") or k == "SHOPMIND_CACHE"}
        env["SHOPMIND_HOME"] = str(home)
        if server:
            env.pop("OMP_NUM_THREADS", None)
            env.pop("WEB_CONCURRENCY", None)
        else:
            env.setdefault("OMP_NUM_THREADS", "1")
        return env

    def shopmind(self, home: Path, *args: str, timeout: float = 3600) -> dict:
        """Run a `shopmind` command with --json in `home`; its last JSON line (an error shows the command's stderr)."""
        out = subprocess.run([str(BIN), *args, "--json"], env=self.env(home), capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError(f"shopmind {' '.join(args)} failed ({out.returncode}): {out.stderr[-2000:]}")
        lines = [ln for ln in out.stdout.strip().splitlines() if ln.startswith(("{", "["))]
        return orjson.loads(lines[-1]) if lines else {}

    def serve(self, home: Path, *, workers: int = 1, name: str = "api", omp_threads: int | None = None) -> tuple[subprocess.Popen, int]:
        """`shopmind serve` (with `--workers N` when N > 1) on a free port; returns once /readyz answers 200.
        `omp_threads`: OMP_NUM_THREADS for it, as an operator sets it for separate single-process servers sharing a host."""
        port = free_port()
        cmd = [str(BIN), "serve", "--port", str(port), *(["--workers", str(workers)] if workers > 1 else [])]
        log = home / "logs" / f"{name}-{port}.log"
        omp_threads = omp_threads or self.server_omp
        env = self.env(home, server=True) | ({"OMP_NUM_THREADS": str(omp_threads)} if omp_threads else {})
        proc = self.spawn(name, cmd, env=env, log=log)
        wait_ready(port, proc, log)
        return proc, port


def wait_ready(port: int, proc: subprocess.Popen, log: Path, timeout: float = 300) -> None:
    """Poll /readyz until 200; a process that exits first is an error naming its log."""
    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"worker on port {port} exited with {proc.returncode}; see {log}:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"worker on port {port} not ready in {timeout:.0f} s; see {log}")


def host_config(home: Path, *, store_url: str, shared_url: str | None, artifacts: Path, secret: str, extra: dict | None = None) -> None:
    """A "host": its own home, sharing the store, Redis, the artifact path and the cluster secret with the others."""
    cluster: dict[str, Any] = {"artifacts_url": str(artifacts), "secret": secret, "follow_interval_s": 1.0}
    if shared_url:
        cluster["shared_url"] = shared_url
    sections: dict[str, dict[str, Any]] = {
        "store": {"url": store_url},
        "api": {"admin_keys": [ADMIN], "public_keys": [PUBLIC], "rate_limits": {"enabled": False}},
        "cluster": cluster,
        # one campaign whose every click costs exactly 1.0 (reserve = bid), no pacing, no per-address click cap:
        # the bench's 100 clickers share one loopback address on purpose
        "ads": {"min_relevance": -1.0, "reserve_cpc": 1.0, "max_clicks_per_ip": 0, "pacing": {"enabled": False}, "campaign_refresh_s": 0.5},
    }
    for k, v in (extra or {}).items():
        sections.setdefault(k, {}).update(v)
    write_config(home, sections)
