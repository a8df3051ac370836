"""Top-level commands: import, stats, serve, delete-user; `eval` is a sub-command group."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from shopmind.cli.ads import ads_app
from shopmind.cli.assistant import assistant_app
from shopmind.cli.common import DEFAULT_HOME, HomeOpt, JsonOpt, emit_json, fail, open_shop, shop_at
from shopmind.cli.evaluate import eval_app
from shopmind.cli.experiments import experiments_app
from shopmind.cli.images import images_app
from shopmind.cli.keys import keys_app
from shopmind.cli.models import models_app
from shopmind.cli.simulate import simulate
from shopmind.cli.train import train_cmd
from shopmind.errors import BuildFailed

app = typer.Typer(name="shopmind", help="ShopMind: search, recommendations, ads and a shopping assistant for your shop.", no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(eval_app, name="eval")
app.add_typer(ads_app, name="ads")
app.add_typer(assistant_app, name="assistant")
app.add_typer(keys_app, name="keys")
app.add_typer(models_app, name="models")
app.add_typer(experiments_app, name="experiments")
app.add_typer(images_app, name="images")
app.command("simulate")(simulate)
console = Console()


@app.command("import")
def import_cmd(
    kind: Annotated[str, typer.Argument(help="products | users | events | sales | reviews")],
    file: Annotated[Path, typer.Argument(help="JSONL, CSV or Parquet file (optionally .gz for JSONL/CSV)", exists=False)],
    home: HomeOpt = DEFAULT_HOME,
    on_error: Annotated[str, typer.Option("--on-error", help="fail: stop at the first bad batch; skip: report bad rows, keep the good")] = "fail",
    report: Annotated[Path | None, typer.Option("--report", help="where --on-error skip writes rejected rows (JSONL)")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="jsonl | csv | parquet (default: from the file name)")] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", min=1)] = None,
    workers: Annotated[int | None, typer.Option("--workers", min=1, help="processes validating JSONL events (default: imports.workers for large files)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import products, users or events from a file; replays are idempotent."""
    from shopmind.domain import RECORD_TYPES
    from shopmind.importer import ImportFailed

    if kind not in RECORD_TYPES:
        fail(f"unknown kind {kind!r}; use one of: {', '.join(RECORD_TYPES)}", 2)
    if on_error not in ("fail", "skip"):
        fail("--on-error must be 'fail' or 'skip'", 2)
    if not file.is_file():
        fail(f"no such file: {file}", 2)
    with shop_at(home) as shop:
        try:
            result = shop.import_file(kind, file, fmt=fmt, on_error=on_error, batch_size=batch_size, report_path=report, workers=workers)
        except ImportFailed as exc:
            if as_json:
                emit_json(exc.report.to_json())
            for err in exc.report.errors[:20]:
                typer.secho(f"  {err}", err=True)
            fail(str(exc))
        except (ValueError, OSError) as exc:
            fail(str(exc))
        if kind in ("products", "users", "sales"):  # catalog and sales-history writes are audited; events are the shop's traffic
            from shopmind.security import audit

            audit.record(shop.store.engine, "cli", f"{kind}.import", "", {"stored": result.stored, "rejected": result.rejected})
    if as_json:
        emit_json(result.to_json())
        return
    console.print(
        f"imported {result.kind} from {result.source}: read {result.read}, stored {result.stored}, "
        f"duplicates {result.duplicates}, rejected {result.rejected} "
        f"in {result.seconds:.2f}s ({result.per_second:,.0f}/s)"
    )
    if result.report_path:
        console.print(f"rejected rows written to {result.report_path}")
    for err in result.errors[:10]:
        console.print(f"  [yellow]{err}[/yellow]")


@app.command()
def stats(home: HomeOpt = DEFAULT_HOME, as_json: JsonOpt = False) -> None:
    """Counts of products, users and events, and what is built."""
    with shop_at(home) as shop:
        data = shop.stats()
    if as_json:
        emit_json(data)
        return
    table = Table(title=f"ShopMind at {data['home']} ({data['store']})")
    table.add_column("what")
    table.add_column("value", justify="right")
    for key in ("products", "users", "events"):
        table.add_row(key, f"{data[key]:,}")
    for etype, n in sorted(data["event_types"].items()):
        table.add_row(f"  {etype}", f"{n:,}")
    for part, version in data["artifacts"].items():
        table.add_row(f"artifact {part}", version)
    console.print(table)


@app.command("delete-user")
def delete_user(user_id: str, home: HomeOpt = DEFAULT_HOME, as_json: JsonOpt = False) -> None:
    """Delete a user everywhere: record, events and derived state; print what was removed."""
    from shopmind.security import audit

    with shop_at(home) as shop:
        removed = shop.delete_user(user_id)
        audit.record(shop.store.engine, "cli", "user.delete", str(removed.get("receipt_id", "") or ""))  # a receipt, never the id
    if as_json:
        emit_json({"user_id": user_id, "removed": removed})
    else:
        console.print(f"deleted user {user_id}: " + ", ".join(f"{k}={v}" for k, v in removed.items()))


@app.command()
def imports(home: HomeOpt = DEFAULT_HOME, as_json: JsonOpt = False) -> None:
    """Recent import runs with their committed checkpoint (what survived a crash)."""
    with shop_at(home) as shop:
        rows = shop.store.list_imports()
    if as_json:
        emit_json(rows)
        return
    table = Table(title="imports")
    for col in ("kind", "status", "lines_committed", "records_committed", "rejected", "source"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["kind"], r["status"], str(r["lines_committed"]), str(r["records_committed"]), str(r["rejected"]), r["source"])
    console.print(table)


@app.command()
def serve(
    home: HomeOpt = DEFAULT_HOME,
    host: Annotated[str | None, typer.Option("--host", help="default: server.host (127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option("--port", help="default: server.port (8000)")] = None,
    workers: Annotated[int | None, typer.Option("--workers", min=1, help="API worker processes (default: server.workers, 1)")] = None,
    log_level: Annotated[str | None, typer.Option("--log-level", help="default: logging.level (INFO)")] = None,
    log_json: Annotated[bool, typer.Option("--log-json", help="JSON-lines logs (default: logging.format)")] = False,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs); with --workers N, N processes share the port.

    Several workers share the store, and with `cluster.shared_url = "redis://…"` rate limits, frequency caps
    and chat sessions too (README "Many workers and hosts"). What must happen once (migrations, a first start's
    API keys) is done here before any worker starts; each worker then opens the shop itself."""
    import os

    import uvicorn

    from shopmind.logs import setup_logging

    shop = open_shop(home)
    setup_logging(log_level or shop.settings.logging.level, "json" if log_json else shop.settings.logging.format)
    host = host or shop.settings.server.host
    port = port if port is not None else shop.settings.server.port
    workers = workers or shop.settings.server.workers
    console.print(f"ShopMind serving {shop.home} at http://{host}:{port}/  (API docs: http://{host}:{port}/docs)"
                  + (f", {workers} workers" if workers > 1 else ""))
    if workers > 1 and shop.store.dialect == "sqlite":
        console.print("warning: SQLite serialises writes: with several workers, writes wait on each other (it still works); "
                      "set store.url to PostgreSQL for concurrent writes", style="yellow")
    if workers > 1 and not shop.shared.shared:
        console.print("note: cluster.shared_url is memory://: each worker keeps its own rate-limit buckets and frequency "
                      "caps (a caller may get N times the rate); set it to redis://… to share them", style="yellow")
    if workers > 1:
        from shopmind.api.asgi import prepare, worker_environment

        try:
            _print_keys(shop, prepare(shop))  # once, before the workers would race to do it
        finally:
            shop.close()
        os.environ["SHOPMIND_HOME"] = str(shop.home)  # what each worker opens (other settings: the same env and file)
        os.environ.update({"SHOPMIND_LOGGING__LEVEL": log_level.upper()} if log_level else {})
        os.environ.update({"SHOPMIND_LOGGING__FORMAT": "json"} if log_json else {})
        os.environ.update(worker_environment(workers))  # each worker's OpenMP share of the CPUs (no oversubscription)
        uvicorn.run("shopmind.api.asgi:app", factory=True, workers=workers, host=host, port=port,
                    log_level=(log_level or "warning").lower(), access_log=False, server_header=False)
        return
    try:
        from shopmind.api import create_app

        app_ = create_app(shop)
        _print_keys(shop, app_.state.keyring.generated)
        uvicorn.run(app_, host=host, port=port, log_level=(log_level or "warning").lower(), access_log=False, server_header=False)
    finally:
        shop.close()


def _print_keys(shop: Any, generated: dict[str, str] | None) -> None:
    if generated:  # the first start of a shop without keys: shown this once, kept only in the 0600 file
        console.print(f"generated admin key: {generated['admin']}   storefront key: {generated['storefront']}   (saved once to {generated['file']})", soft_wrap=True)
    elif (shop.home / "api_keys.json").is_file():
        console.print(f"the demo's keys are in {shop.home / 'api_keys.json'}; `shopmind keys` lists every key")


@app.command()
def build(
    home: HomeOpt = DEFAULT_HOME,
    part: Annotated[list[str] | None, typer.Option("--part", help="build only this part (repeatable): search, recommend")] = None,
    ray: Annotated[str | None, typer.Option("--ray", help="run the build as parallel Ray tasks: 'auto' (a local Ray, or "
                                            "RAY_ADDRESS's cluster) or ray://HOST:PORT (Ray Client); needs the cluster extra")] = None,
    no_promote: Annotated[bool, typer.Option("--no-promote", help="register the new versions without serving them "
                                             "(then `shopmind models promote`); default: cluster.auto_promote")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Build indexes and models from the store as new versioned artifacts, then swap them in."""
    if ray is not None and ray != "auto" and not ray.startswith("ray://"):
        fail(f"--ray takes 'auto' or ray://HOST:PORT, not {ray!r}", 2)
    with shop_at(home) as shop:
        try:
            summary = shop.build(part or None, executor=ray, promote=False if no_promote else None)
        except ValueError as exc:
            fail(str(exc), 2)
        except BuildFailed as exc:
            fail(str(exc), 1)
        except ImportError as exc:
            if ray is None:
                raise
            fail(str(exc), 1)  # the cluster extra is not installed
    if as_json:
        emit_json(summary)
    else:
        for name, info in summary.items():
            console.print(f"{name}: {info}")


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="the query, any language")],
    home: HomeOpt = DEFAULT_HOME,
    user: Annotated[str | None, typer.Option("--user", help="personalise for this user")] = None,
    filters: Annotated[str | None, typer.Option("--filters", help='JSON, e.g. {"price":{"max":50}}')] = None,
    facet: Annotated[list[str] | None, typer.Option("--facet", help="facet to count (repeatable)")] = None,
    sort: Annotated[str, typer.Option("--sort")] = "relevance",
    page: Annotated[int, typer.Option("--page", min=1)] = 1,
    per_page: Annotated[int, typer.Option("--per-page", min=1, max=100)] = 10,
    as_json: JsonOpt = False,
) -> None:
    """Search the built index."""
    import orjson

    from shopmind.errors import NotBuilt

    try:
        parsed = orjson.loads(filters) if filters else None
    except orjson.JSONDecodeError as exc:
        fail(f"--filters is not valid JSON: {exc}", 2)
    with shop_at(home) as shop:
        try:
            resp = shop.search(query, user_id=user, filters=parsed, facets=facet, sort=sort, page=page, per_page=per_page)
        except (NotBuilt, ValueError) as exc:
            fail(str(exc))
    if as_json:
        emit_json(resp.model_dump(mode="json"))
        return
    u = resp.query
    console.print(f"{resp.total} results for [bold]{query}[/bold]" + (f" — did you mean [italic]{u.did_you_mean}[/italic]?" if getattr(u, "did_you_mean", None) else ""))
    for n, hit in enumerate(resp.hits, start=(page - 1) * per_page + 1):
        price = f"  {hit.price:.2f}" if hit.price is not None else ""
        console.print(f"{n:3}. {hit.title}{price}  [dim]{hit.id} · {hit.score:.3f}[/dim]")


@app.command()
def recommend(
    home: HomeOpt = DEFAULT_HOME,
    user: Annotated[str | None, typer.Option("--user")] = None,
    placement: Annotated[str, typer.Option("--placement", help="home, product, cart, search, new, substitute, promotion")] = "home",
    item: Annotated[str | None, typer.Option("--item", help="the product on the page (product/substitute placements)")] = None,
    cart: Annotated[str | None, typer.Option("--cart", help="comma-separated product ids")] = None,
    k: Annotated[int, typer.Option("--k", min=1, max=100)] = 10,
    as_json: JsonOpt = False,
) -> None:
    """Recommendations for a placement, each with its reason."""
    from shopmind.errors import NotBuilt

    with shop_at(home) as shop:
        try:
            resp = shop.recommend(user_id=user, placement=placement, item_id=item, cart=[c for c in (cart or "").split(",") if c], k=k)
            titles = shop.catalog.get_many([i.id for i in resp.items])
        except (NotBuilt, KeyError) as exc:
            fail(str(exc.args[0] if exc.args else exc))
    if as_json:
        emit_json(resp.model_dump(mode="json"))
        return
    for n, item_ in enumerate(resp.items, start=1):
        title = titles[item_.id].title if item_.id in titles else item_.id
        console.print(f"{n:3}. {title}  [dim]{item_.id} · {item_.reason}[/dim]")


app.command("train")(train_cmd)  # continuous training behind the promotion gate (cli/train.py)


@app.command("rebuild-state")
def rebuild_state(home: HomeOpt = DEFAULT_HOME, as_json: JsonOpt = False) -> None:
    """Recompute online state (profiles, counters, trending, bot flags) from the event log."""
    with shop_at(home) as shop:
        result = shop.rebuild_state()
    emit_json(result) if as_json else console.print(result)


@app.command()
def profile(user_id: str, home: HomeOpt = DEFAULT_HOME, as_json: JsonOpt = False) -> None:
    """A user's profile: interests, segment, recent activity, heat, value and churn risk."""
    with shop_at(home) as shop:
        prof = shop.profile(user_id)
    if as_json:
        emit_json(prof.model_dump(mode="json"))
        return
    console.print(f"[bold]{prof.user_id}[/bold]: {prof.summary}")
    console.print(f"segment: {prof.segment} ({prof.segment_why}); churn risk {prof.churn_risk:.2f} ({prof.churn_why}); {prof.heat_why}")
    for i in prof.interests[:10]:
        console.print(f"  {i.kind:9} {i.value:30} {i.weight:.3f}")


@app.command()
def report(
    name: Annotated[str, typer.Argument(help="funnel | rfm | cohorts | queries | items | forecast")],
    home: HomeOpt = DEFAULT_HOME,
    by: Annotated[str, typer.Option("--by", help="funnel: category | day")] = "category",
) -> None:
    """Behaviour analytics over the event log (bots excluded); prints JSON."""
    if name == "forecast":
        from shopmind.cli.forecast import report_forecast

        return report_forecast(home)
    with shop_at(home) as shop:
        try:
            emit_json(shop.report(name, **({"by": by} if name == "funnel" else {})))
        except ValueError as exc:
            fail(str(exc), 2)


def _demo_campaigns(shop) -> None:
    """Three labelled demo campaigns over the most-watched movies of three genres (no real ad data exists)."""
    ads = shop.ads_service
    if ads.list_campaigns():
        return
    stats = shop.state.item_stats()
    order = sorted(range(len(stats["ids"])), key=lambda i: -stats["counts"]["view"][i])
    by_genre: dict[str, list[str]] = {}
    for i in order:
        item = stats["ids"][i]
        meta = shop.state.items.get(item)
        if meta is not None and meta.top in ("Comedy", "Action", "Drama"):
            by_genre.setdefault(meta.top, []).append(item)
    for genre, items in sorted(by_genre.items()):
        ads.create_campaign({"advertiser": f"Demo advertiser ({genre})", "name": f"{genre} favourites (demo)", "products": items[5:15],
                             "bid": 0.5, "daily_budget": 25.0}, campaign_id=f"demo-{genre.lower()}")
    console.print(f"created {len(by_genre)} demo ad campaigns (advertiser 'Demo advertiser …')")


def demo_files() -> dict[str, Path]:
    """The bundled demo shop (MovieLens-100K slice; see data/demo/SOURCE.md)."""
    from importlib.resources import files

    root = Path(str(files("shopmind") / "data" / "demo"))
    return {"products": root / "products.jsonl", "users": root / "users.csv", "events": root / "events.parquet"}


@app.command()
def demo(
    home: Annotated[Path, typer.Option("--home", envvar="SHOPMIND_HOME")] = Path("demo-shop"),
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="load and build, then exit")] = False,
    simulate_n: Annotated[int, typer.Option("--simulate", min=0, help="simulated shopper sessions (labelled) seeded for the dashboard; 0: none")] = 200,
) -> None:
    """Load the bundled demo shop (idempotent), build it, and serve it."""
    with shop_at(home) as shop:
        for kind, path in demo_files().items():
            report = shop.import_file(kind, path)
            console.print(f"{kind}: {report.read:,} read, {report.stored:,} new/updated ({report.seconds:.1f}s)")
        console.print("building indexes and models …")
        console.print(shop.build())
        _demo_campaigns(shop)
        if simulate_n:
            from shopmind.simulate.demo import seed_demo_traffic  # labelled simulated traffic: funnels, queries, CTR, an experiment

            console.print(seed_demo_traffic(shop, demo_files(), sessions=simulate_n))
    if not no_serve:
        import os

        os.environ.setdefault("SHOPMIND_API__DEMO_SHOPPERS", "50")  # the demo storefront offers sample shoppers to pick
        serve(home=home, host=host, port=port)


def main() -> None:
    """The `shopmind` command: warnings and errors of every command go to stderr (`serve` sets its own level)."""
    import os

    from shopmind.logs import setup_logging

    json_logs = os.environ.get("SHOPMIND_LOGGING__FORMAT", "text") == "json"
    setup_logging(os.environ.get("SHOPMIND_LOGGING__LEVEL", "WARNING"), "json" if json_logs else "text")
    app()
