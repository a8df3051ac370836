"""Experiments through the facade on a real demo-slice shop (MovieLens titles, its first 5,000 events; search built twice,
dense off): exposure is logged only when a response is returned; a variant with a stage switched off serves its users
exactly what a shop configured that way serves, and the other users the default; a version variant serves the other
registry version; an interleaving merges both arms' lists with teams; two ShopMind instances on one store assign alike
and see a start and a stop within the refresh interval; definitions naming knobs or versions that do not exist fail."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from shopmind.engine import ShopMind
from shopmind.experiments.exposures import read_exposures
from shopmind.experiments.model import ExperimentError
from shopmind.facade.variants import overlay
from shopmind.store.schema import exposures

pytestmark = pytest.mark.integration  # whole-part builds

REC = {"models": ["popular", "itemknn"], "content_encoder": "none", "rising": False, "evaluate": False, "select": {"enabled": False},
       "placements": {"home": {"sources": {"itemknn": 1.0, "popular": 0.2}}}}
SETTINGS = {"search": {"stages": {"dense": False}}, "recommend": REC}
POPULAR = {"sources": {"popular": 1.0}, "diversity": 0.0}
QUERIES = ["star warz", "godfathr", "jurasic park", "toy stroy", "termnator", "batman"]
USERS = [f"u{i}" for i in range(1, 41)]
SPELL_OFF = {"name": "nospell", "overrides": {"stages": {"spelling": False}}}


def _open(home: Path, **extra: dict) -> ShopMind:
    return ShopMind.open(home, **{**SETTINGS, **extra})


def _exp(exp_id: str, other: dict, **kw: object) -> dict:
    return {"id": exp_id, "surface": "search", "variants": [{"name": "control", "control": True}, other], **kw}


def _count(shop: ShopMind, exp_id: str) -> int:
    assert shop.experiments.writer.flush(10)
    with shop.store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(exposures).where(exposures.c.experiment_id == exp_id)).scalar())


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, demo_data: Path) -> Path:
    home = tmp_path_factory.mktemp("experiments") / "home"
    with _open(home) as shop:
        shop.import_file("products", demo_data / "products.jsonl")
        pq.write_table(pq.read_table(demo_data / "events.parquet").slice(0, 5000), home / "events.parquet")
        shop.import_file("events", home / "events.parquet")
        shop.build(["search"])
        shop.build(["search"])
        shop.build(["recommend"])
    return home


def test_exposure_is_logged_when_the_response_is_returned(home: Path) -> None:
    with _open(home) as shop:
        shop.experiments.start(shop.experiments.create(_exp("shown", SPELL_OFF)).id)
        a = shop.variant_for("search", "u1", None)
        assert a is not None and a.experiment_id == "shown"
        assert _count(shop, "shown") == 0  # assigned, not shown
        with pytest.raises(ValueError, match="sort"):
            shop.search("star wars", user_id="u1", sort="bogus")
        assert _count(shop, "shown") == 0  # failed: nothing was shown
        r = shop.search("star wars", user_id="u1", session_id="s1")
        assert r.experiment == {"id": "shown", "variant": a.variant}
        shop.search("star wars")  # no user: not in the experiment (unit = user)
        assert _count(shop, "shown") == 1
        (variant, unit, _, user, session, extra), = read_exposures(shop.store.engine, "shown")
        assert (variant, unit, user, session, orjson.loads(extra)) == (a.variant, "u1", "u1", "s1", {})
        shop.experiments.stop("shown")
        assert shop.search("star wars", user_id="u1").experiment is None


def test_a_stage_switched_off_serves_that_variants_users_only(home: Path) -> None:
    with _open(home) as shop:
        shop.experiments.start(shop.experiments.create(_exp("spell", SPELL_OFF)).id)
        arms = {u: shop.variant_for("search", u, None).variant for u in USERS}  # type: ignore[union-attr]
        assert set(arms.values()) == {"control", "nospell"}
        during = {(u, q): shop.search(q, user_id=u) for u in USERS for q in QUERIES}
        shop.experiments.stop("spell")
        default = {k: [h.id for h in shop.search(k[1], user_id=k[0]).hits] for k in during}
    with _open(home, search={"stages": {"dense": False, "spelling": False}}) as off:
        no_spelling = {k: [h.id for h in off.search(k[1], user_id=k[0]).hits] for k in during}
    assert sum(default[k] != no_spelling[k] for k in during) >= len(USERS)  # the switch changes answers: the test can fail
    for (u, q), r in during.items():
        assert r.experiment == {"id": "spell", "variant": arms[u]}
        want = no_spelling if arms[u] == "nospell" else default
        assert [h.id for h in r.hits] == want[(u, q)], (u, q, arms[u])
        assert ("spelling" in r.query.stages) == (arms[u] == "control")


def test_a_placement_variant_serves_its_sources_to_its_users_only(home: Path) -> None:
    with _open(home) as shop:
        shop.experiments.start(shop.experiments.create({**_exp("rec", {"name": "pop", "overrides": POPULAR}), "surface": "recommend:home"}).id)
        arms = {u: shop.variant_for("recommend:home", u, None).variant for u in USERS}  # type: ignore[union-attr]
        during = {u: shop.recommend(user_id=u, k=10) for u in USERS}
        shop.experiments.stop("rec")
        default = {u: [i.id for i in shop.recommend(user_id=u, k=10).items] for u in USERS}
    with _open(home, recommend={**REC, "placements": {"home": POPULAR}}) as pop:
        popular = {u: [i.id for i in pop.recommend(user_id=u, k=10).items] for u in USERS}
    assert set(arms.values()) == {"control", "pop"} and sum(default[u] != popular[u] for u in USERS) >= len(USERS) // 2
    for u, r in during.items():
        assert r.experiment == {"id": "rec", "variant": arms[u]}
        assert [i.id for i in r.items] == (popular if arms[u] == "pop" else default)[u], (u, arms[u])


def test_an_assistant_variant_changes_its_sessions_turns(home: Path) -> None:
    with _open(home) as shop:
        shop.experiments.start(shop.experiments.create({**_exp("bot", {"name": "two", "overrides": {"results": 2}}), "surface": "assistant",
                                                        "unit": "session"}).id)
        sizes: dict[str, list[int]] = {"control": [], "two": []}
        for i in range(16):
            r = shop.chat(f"chat-{i}", "star wars movies")
            sizes[r.experiment["variant"]].append(len(r.products))  # type: ignore[index]
        shop.experiments.stop("bot")
        assert _count(shop, "bot") == 16
    assert sizes["two"] and max(sizes["two"]) <= 2 and sizes["control"] and max(sizes["control"]) > 2


def test_a_version_variant_serves_the_other_registry_version(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with _open(home) as shop:
        newest, older = (r["version"] for r in shop.models("search")["search"]["versions"][:2])
        shop.experiments.start(shop.experiments.create(_exp("ver", {"name": "old", "version": {"search": older}})).id)
        promoted = shop.service("search")
        calls: list[str] = []
        real = promoted.search
        monkeypatch.setattr(promoted, "search", lambda *a, **k: calls.append("promoted") or real(*a, **k))
        for u in USERS[:20]:
            calls.clear()
            arm = shop.variant_for("search", u, None).variant  # type: ignore[union-attr]
            r = shop.search("star wars", user_id=u)
            assert r.experiment == {"id": "ver", "variant": arm}
            assert calls == ([] if arm == "old" else ["promoted"])
        side = shop._side[("search", older)][0]
        assert side is not promoted and side.out_dir.name == older and promoted.out_dir.name == newest
        shop.experiments.stop("ver")


def test_an_interleaving_merges_both_arms_with_teams(home: Path) -> None:
    with _open(home) as shop:
        shop.experiments.start(shop.experiments.create(_exp("il", SPELL_OFF, kind="interleave")).id)
        svc = shop.service("search")
        off = overlay(svc, config=svc.config.model_copy(update={"stages": svc.config.stages.model_copy(update={"spelling": False})}))
        merged = 0
        for q in QUERIES:
            r = shop.search(q, user_id="u3", per_page=10)
            history = shop.state.history("u3")  # as engine.search passes it
            a = [h.id for h in svc.search(q, user_id="u3", per_page=10, history=history).hits]
            b = [h.id for h in off.search(q, user_id="u3", per_page=10, history=history).hits]
            ids, teams = [h.id for h in r.hits], r.experiment["teams"]
            assert r.experiment["variant"] == "interleaved" and len(teams) == len(ids) == min(10, len(set(a) | set(b)))
            assert all(i in (a if t == 0 else b) for i, t in zip(ids, teams, strict=True)) and len(set(ids)) == len(ids)
            merged += set(teams) == {0, 1}
            again = shop.search(q, user_id="u3", per_page=10)  # a reload shows the same merge: the draw is seeded per unit and query
            assert [h.id for h in again.hits] == ids and again.experiment["teams"] == teams
        assert merged >= 1
        shop.experiments.stop("il")
        assert _count(shop, "il") == 2 * len(QUERIES)  # flushed
        extra = orjson.loads(read_exposures(shop.store.engine, "il")[0][5])
        assert set(extra) == {"ids", "teams"} and len(extra["ids"]) == len(extra["teams"])


def test_an_optimized_interleaving_serves_a_fair_list_with_credits(home: Path) -> None:
    with _open(home) as shop:
        shop.experiments.start(shop.experiments.create(_exp("oi", SPELL_OFF, kind="interleave", method="optimized")).id)
        svc = shop.service("search")
        off = overlay(svc, config=svc.config.model_copy(update={"stages": svc.config.stages.model_copy(update={"spelling": False})}))
        for q in QUERIES:
            r = shop.search(q, user_id="u3", per_page=10)
            history = shop.state.history("u3")
            a = [h.id for h in svc.search(q, user_id="u3", per_page=10, history=history).hits]
            b = [h.id for h in off.search(q, user_id="u3", per_page=10, history=history).hits]
            ids, credits = [h.id for h in r.hits], r.experiment["credits"]
            assert "teams" not in r.experiment and len(credits) == len(ids) == min(10, len(set(a) | set(b)))
            rank = lambda own, i: own.index(i) + 1 if i in own else 11  # missing from the top 10: rank 11
            assert credits == pytest.approx([rank(a, i) - rank(b, i) for i in ids])  # the default credit, rank_A - rank_B
            assert [h.id for h in shop.search(q, user_id="u3", per_page=10).hits] == ids  # seeded per unit and query
        shop.experiments.stop("oi")
        assert _count(shop, "oi") == 2 * len(QUERIES)
        extra = orjson.loads(read_exposures(shop.store.engine, "oi")[0][5])
        assert set(extra) == {"ids", "credits", "method", "credit", "fair_depth"} and extra["method"] == "optimized"


@pytest.mark.parametrize("method", ["team_draft", "optimized"])
def test_interleaved_pages_continue_one_merge(home: Path, method: str) -> None:
    """Page p of an interleaving is cut from the merge of both arms' top p x per_page: no product shows on two pages,
    a reload shows the same page, and team draft's pages are exactly the slices of one draft."""
    with _open(home) as shop:
        shop.experiments.start(shop.experiments.create(_exp(f"pg-{method}", SPELL_OFF, kind="interleave", method=method)).id)
        try:
            differ = 0
            for q in QUERIES:
                pages = [shop.search(q, user_id="u5", per_page=5, page=p) for p in (1, 2, 3)]
                differ += len({t for r in pages for t in r.experiment.get("teams", [])}) == 2 or any(
                    c for c in pages[0].experiment.get("credits", []))
                ids = [h.id for r in pages for h in r.hits]
                assert len(ids) == len(set(ids)) and all(r.page == p and r.per_page == 5 for p, r in zip((1, 2, 3), pages, strict=True))
                assert [h.id for h in shop.search(q, user_id="u5", per_page=5, page=2).hits] == [h.id for h in pages[1].hits]
                if method == "team_draft":
                    teams = [t for r in pages for t in r.experiment["teams"]]
                    whole = shop.search(q, user_id="u5", per_page=15, page=1)
                    assert [h.id for h in whole.hits] == ids and whole.experiment["teams"] == teams
                else:
                    assert not any(c for r in pages[1:] for c in r.experiment["credits"])  # later pages are not scored
            assert differ >= 2  # the arms disagree on some queries: the merge is not one arm's list
        finally:
            shop.experiments.stop(f"pg-{method}")


def test_two_workers_assign_alike_and_follow_a_start_and_a_stop(home: Path) -> None:
    with _open(home) as a, _open(home) as b:
        b.experiments.refresh_s = 0.2
        assert b.variant_for("search", "u1", None) is None  # read and cached: nothing runs
        a.experiments.start(a.experiments.create(_exp("two", SPELL_OFF)).id)
        started = time.monotonic()
        while b.variant_for("search", "u1", None) is None:
            assert time.monotonic() - started < 5, "the other worker never saw the start"
            time.sleep(0.05)
        assert [a.variant_for("search", u, None) for u in USERS] == [b.variant_for("search", u, None) for u in USERS]
        a.experiments.stop("two")
        started = time.monotonic()
        while b.variant_for("search", "u1", None) is not None:
            assert time.monotonic() - started < 5, "the other worker never saw the stop"
            time.sleep(0.05)


@pytest.mark.parametrize(("other", "words"), [
    ({"name": "b", "overrides": {"stages": {"spelink": False}}}, "variants[1].overrides.stages.spelink: Extra inputs are not permitted"),
    ({"name": "b", "overrides": {"encoder": "other"}}, "variants[1].overrides: ['encoder'] cannot change per request"),
    ({"name": "b", "overrides": {"dense_weight": 2}}, "variants[1].overrides.dense_weight: Input should be less than or equal to 1"),
    ({"name": "b", "overrides": {"mode": "fuzzy"}}, "variants[1].overrides.mode: 'fuzzy' is not one of"),
    ({"name": "b", "version": {"search": "nope"}}, "variants[1].version: search 'nope' is not a kept version"),
    ({"name": "b", "version": {"recommend": "x"}}, "variants[1].version: search cannot pin 'recommend'"),
])
def test_definitions_that_name_what_does_not_exist_fail(home: Path, other: dict, words: str) -> None:
    with _open(home) as shop, pytest.raises(ExperimentError) as err:
        shop.experiments.create(_exp("bad", other))
    assert words in str(err.value)
