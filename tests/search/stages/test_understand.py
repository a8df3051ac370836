"""understand stage: price, spelling, entities and tokens land in the context, and open its stage list."""

from __future__ import annotations

from tests.search.stages.conftest import known_brand, run_until


def test_price_and_spelling_are_understood(hd_svc) -> None:
    ctx = run_until(hd_svc, "cordles drill under $50", "understand")
    u = ctx.u
    assert u.price is not None and u.price.max == 50.0
    assert u.corrections == {"cordles": "cordless"} and u.text == "cordless drill"
    assert u.tokens and "drill" in u.tokens
    assert ctx.stages[: len(u.stages)] == u.stages and {"price", "spelling"} <= set(ctx.stages)


def test_brand_is_recognised(ob_svc) -> None:
    brand = known_brand(ob_svc)
    ctx = run_until(ob_svc, f"{brand.lower()} 连衣裙", "understand")
    assert brand in ctx.u.brands


def test_switched_off_steps_do_not_run(hd_svc) -> None:
    off = hd_svc.config.stages.model_copy(update={"spelling": False, "price": False})
    saved = hd_svc.config
    hd_svc.config = saved.model_copy(update={"stages": off})
    try:
        ctx = run_until(hd_svc, "cordles drill under $50", "understand")
    finally:
        hd_svc.config = saved
    assert ctx.u.corrections == {} and ctx.u.price is None and "spelling" not in ctx.stages
