"""`shopmind eval ope`: off-policy estimates of other exploration shares from a shop's logged impressions and clicks."""

from __future__ import annotations

from typing import Annotated

import typer

from shopmind.cli.common import DEFAULT_HOME, HomeOpt, JsonOpt, emit_json, fail, shop_at


def eval_ope(
    placement: Annotated[str, typer.Option("--placement", help="the recommendation placement whose impressions are evaluated")] = "home",
    epsilon: Annotated[list[float] | None, typer.Option(
        "--epsilon", min=0.0, max=1.0, help="target exploration shares (repeat; default 0 = ranked only, and 1 = uniform)")] = None,
    window_s: Annotated[float, typer.Option(
        "--window-s", min=1.0, help="a click within this many seconds after the impression counts")] = 1800.0,
    clip: Annotated[float | None, typer.Option("--clip", min=1.0, help="clip importance weights at this value")] = None,
    home: HomeOpt = DEFAULT_HOME,
    as_json: JsonOpt = False,
) -> None:
    """IPS, SNIPS and DR CTR of each target share from impressions logged with context.propensity (recommend epsilon > 0)."""
    from shopmind.experiments.ope_log import evaluate_placement

    with shop_at(home) as shop:
        events = shop.store.scan_events()
    result = evaluate_placement(events, placement, epsilons=tuple(epsilon or (0.0, 1.0)), window_s=window_s, clip=clip)
    if "error" in result:
        fail(result["error"], 2)
    if as_json:
        emit_json(result)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"off-policy CTR, placement {placement}: {result['impressions']} impressions, "
                        f"{result['explored']} explored, served CTR {result['served_ctr']:.4%}")
    for col in ("target", "estimator", "CTR", "interval", "ESS"):
        table.add_column(col)
    for key, rows in result.items():
        if key.startswith("epsilon="):
            for name, e in rows.items():
                table.add_row(key, name, f"{e['value']:.4%}", f"[{e['ci_low']:.4%}, {e['ci_high']:.4%}]", f"{e['ess']:.0f}")
    Console().print(table)
