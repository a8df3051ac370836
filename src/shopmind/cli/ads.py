"""`shopmind ads …`: campaign CRUD, ad selection and reports (mounted by cli.main as `ads`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from shopmind.cli.common import (
    DEFAULT_HOME,
    HomeOpt,
    JsonOpt,
    emit_json,
    fail,
    shop_at,
)

ads_app = typer.Typer(name="ads", help="Sponsored products: campaigns, ad selection, reports.", no_args_is_help=True)
console = Console()


def _service(shop: Any) -> Any:
    """The shop's campaign manager (held by the facade)."""
    return shop.ads_service


def _spec_from(file: Path | None, fields: dict[str, Any]) -> dict[str, Any]:
    """A campaign body from a JSON file (if given) with command-line fields on top."""
    body: dict[str, Any] = {}
    if file is not None:
        if not file.is_file():
            fail(f"no such file: {file}", 2)
        try:
            body = orjson.loads(file.read_bytes())
        except orjson.JSONDecodeError as exc:
            fail(f"{file} is not valid JSON: {exc}", 2)
    body.update({k: v for k, v in fields.items() if v is not None})
    return body


def _errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())


ProductsOpt = Annotated[str | None, typer.Option("--products", help="comma-separated promoted product ids")]


@ads_app.command("create")
def create(
    file: Annotated[Path | None, typer.Option("--file", help="campaign JSON (see CampaignSpec)")] = None,
    advertiser: Annotated[str | None, typer.Option("--advertiser")] = None,
    products: ProductsOpt = None,
    bid: Annotated[float | None, typer.Option("--bid")] = None,
    bid_type: Annotated[str | None, typer.Option("--bid-type", help="cpc | cpm")] = None,
    daily_budget: Annotated[float | None, typer.Option("--daily-budget")] = None,
    total_budget: Annotated[float | None, typer.Option("--total-budget")] = None,
    frequency_cap: Annotated[int | None, typer.Option("--frequency-cap")] = None,
    campaign_id: Annotated[str | None, typer.Option("--id")] = None,
    home: HomeOpt = DEFAULT_HOME,
    as_json: JsonOpt = False,
) -> None:
    """Create a campaign from --file and/or options."""
    body = _spec_from(file, {"advertiser": advertiser, "products": products, "bid": bid, "bid_type": bid_type,
                             "daily_budget": daily_budget, "total_budget": total_budget, "frequency_cap": frequency_cap})
    with shop_at(home) as shop:
        try:
            c = _service(shop).create_campaign(body, campaign_id)
        except ValidationError as exc:
            fail(_errors(exc), 2)
        except ValueError as exc:
            fail(str(exc))
    if as_json:
        emit_json(c.model_dump(mode="json"))
    else:
        console.print(f"created campaign {c.id} ({c.advertiser}, {len(c.products)} products, {c.bid_type.value} {c.bid:g})")


@ads_app.command("list")
def list_cmd(advertiser: Annotated[str | None, typer.Option("--advertiser")] = None, home: HomeOpt = DEFAULT_HOME, as_json: JsonOpt = False) -> None:
    """List campaigns."""
    with shop_at(home) as shop:
        rows = _service(shop).list_campaigns(advertiser)
    if as_json:
        emit_json([c.model_dump(mode="json") for c in rows])
        return
    table = Table(title="campaigns")
    for col in ("id", "advertiser", "status", "bid", "daily budget", "products"):
        table.add_column(col)
    for c in rows:
        table.add_row(c.id, c.advertiser, c.status.value, f"{c.bid:g} {c.bid_type.value}", f"{c.daily_budget:g}", str(len(c.products)))
    console.print(table)


@ads_app.command("update")
def update(
    campaign_id: str,
    file: Annotated[Path | None, typer.Option("--file", help="JSON with the fields to change")] = None,
    bid: Annotated[float | None, typer.Option("--bid")] = None,
    daily_budget: Annotated[float | None, typer.Option("--daily-budget")] = None,
    status: Annotated[str | None, typer.Option("--status", help="active | paused | ended")] = None,
    products: ProductsOpt = None,
    home: HomeOpt = DEFAULT_HOME,
    as_json: JsonOpt = False,
) -> None:
    """Change fields of a campaign."""
    from shopmind.errors import CampaignNotFound

    body = _spec_from(file, {"bid": bid, "daily_budget": daily_budget, "status": status,
                             "products": products.split(",") if products else None})
    with shop_at(home) as shop:
        try:
            c = _service(shop).update_campaign(campaign_id, body)
        except CampaignNotFound:
            fail(f"no campaign {campaign_id!r}")
        except ValidationError as exc:
            fail(_errors(exc), 2)
    if as_json:
        emit_json(c.model_dump(mode="json"))
    else:
        console.print(f"updated campaign {c.id}")


@ads_app.command("delete")
def delete(campaign_id: str, home: HomeOpt = DEFAULT_HOME, as_json: JsonOpt = False) -> None:
    """Delete a campaign (its ledger stays for invoices)."""
    with shop_at(home) as shop:
        ok = _service(shop).delete_campaign(campaign_id)
    if not ok:
        fail(f"no campaign {campaign_id!r}")
    if as_json:
        emit_json({"deleted": campaign_id})
    else:
        console.print(f"deleted campaign {campaign_id}")


@ads_app.command("report")
def report(
    campaign_id: Annotated[str | None, typer.Option("--campaign")] = None,
    start: Annotated[str | None, typer.Option("--start", help="YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option("--end", help="YYYY-MM-DD")] = None,
    home: HomeOpt = DEFAULT_HOME,
    as_json: JsonOpt = False,
) -> None:
    """Impressions, clicks, CTR, spend, CPC, conversions and ROAS per campaign and day."""
    with shop_at(home) as shop:
        rows = shop.ads_report(campaign_id, start, end)
    if as_json:
        emit_json(rows)
        return
    table = Table(title="ads report")
    cols = ("campaign_id", "day", "impressions", "clicks", "ctr", "spend", "cpc", "conversions", "roas")
    for col in cols:
        table.add_column(col)
    for r in rows:
        table.add_row(*("" if r[c] is None else str(r[c]) for c in cols))
    console.print(table)


@ads_app.command("select")
def select(
    placement: Annotated[str, typer.Argument(help="search | product | home | cart | category …")],
    user_id: Annotated[str | None, typer.Option("--user")] = None,
    query: Annotated[str | None, typer.Option("--query")] = None,
    item_id: Annotated[str | None, typer.Option("--item")] = None,
    k: Annotated[int, typer.Option("--k", min=1, max=10)] = 2,
    home: HomeOpt = DEFAULT_HOME,
    as_json: JsonOpt = False,
) -> None:
    """Run one ad auction for a slot and show the winners, their prices and why."""
    with shop_at(home) as shop:
        resp = shop.ads(placement, user_id=user_id, query=query, item_id=item_id, k=k)
    if as_json:
        emit_json(resp.model_dump(mode="json"))
        return
    console.print(f"{len(resp.ads)} ad(s) from {resp.candidates} candidates ({resp.eligible} relevant) in {resp.took_ms:.1f} ms")
    for a in resp.ads:
        console.print(f"  #{a.position} {a.item_id} [{a.campaign_id}] price {a.price:g} {a.bid_type.value} — {a.reason}")
