"""The personalised search set from real MovieLens behaviour: a frozen user split, queries judged only by the future
and features only from the past, no ranker column constant in training unless the data lacks its input, the same
personal columns in training and at serving, and the non-personalised ranker really without them."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from shopmind.evaluation.personal_search import (
    Candidates,
    build_index,
    load_personal_set,
    score_users,
    split_of,
    train_rankers,
    training_matrix,
)
from shopmind.ranking.features import USER_FEATURES, constant_features
from shopmind.search.ranker import FEATURES
from shopmind.search.stages import SearchContext, SearchRequest, run_pipeline
from shopmind.text.tokenize import tokenize

pytestmark = pytest.mark.integration  # builds a 1,682-movie index and trains two rankers

MAX_USERS = 300
FROZEN_FIRST_FIVE = ["dev", "train", "train", "train", "train"]  # the split of users 1–5 under personal_search.SALT


@pytest.fixture(scope="module")
def root(shared_data):
    return shared_data / "ml-100k"


@pytest.fixture(scope="module")
def data(root):
    return load_personal_set(root, max_users=MAX_USERS)


@pytest.fixture(scope="module")
def cands(data, tmp_path_factory) -> Candidates:
    return Candidates(build_index(data, tmp_path_factory.mktemp("personal")))


@pytest.fixture(scope="module")
def rankers(data, cands):
    return train_rankers(cands, data.of("train"))


def test_user_split_is_frozen(data) -> None:
    everyone = [str(u) for u in range(1, 944)]
    shares = Counter(split_of(u) for u in everyone)
    assert all(abs(shares[s] / len(everyone) - want) < 0.05 for s, want in (("train", 0.5), ("dev", 0.2), ("final", 0.3)))
    assert [split_of(u) for u in ("1", "2", "3", "4", "5")] == FROZEN_FIRST_FIVE
    assert all(q.split == split_of(q.user) for q in data.queries)


def _ratings(root) -> dict[tuple[str, str], tuple[float, float]]:
    out = {}
    for line in (root / "ml-100k.inter").read_text().splitlines()[1:]:
        user, item, rating, ts = line.split("\t")
        out[(user, f"m{item}")] = (float(rating), float(ts))
    return out


def test_queries_are_judged_by_the_future_and_featured_by_the_past(root, data) -> None:
    ratings = _ratings(root)
    genres = {p.id: {g.lower() for g in p.attributes["genres"]} for p in data.products}
    assert len(data.queries) > 300 and {q.split for q in data.queries} == {"train", "dev", "final"}
    for q in data.queries:
        last_seen = max(ratings[(q.user, i)][1] for i in q.history)
        for item, grade in q.qrel.items():
            rating, ts = ratings[(q.user, item)]
            assert ts > last_seen and grade == rating - 3 >= 1 and q.text in genres[item] and item not in q.history
    # the index learns popularity from the train users' past only: no held-out user, no label
    first_label = {q.user: min(ratings[(q.user, i)][1] for i in q.qrel) for q in data.queries}
    ev = data.events.select(["user_id", "ts"]).to_pydict()
    assert {split_of(u) for u in ev["user_id"]} == {"train"}
    assert all(t < first_label.get(u, np.inf) for u, t in zip(ev["user_id"], ev["ts"], strict=True))


def test_no_ranker_column_is_constant_in_training_unless_its_input_is_missing(data, cands) -> None:
    X, y, groups = training_matrix(cands, data.of("train"))
    assert len(groups) > 100 and y.max() == 2
    constant = set(constant_features(X, FEATURES))
    prods, svc = data.products, cands.svc
    no_rising = not svc.rising.any()  # the build's demand forecast calls nothing rising at the end of these events
    missing = {  # columns whose input this catalog, these queries or these events do not have, each checked on the data
        "bm25_brand": not any(p.brand for p in prods), "user_brand_affinity": not any(p.brand for p in prods),
        "price_fit": all(svc.understand(t).price is None for t in {q.text for q in data.queries}),
        "user_price_affinity": not any(p.price for p in prods), "bm25_description": not any(p.description for p in prods),
        "bm25_pinyin": not any("\u4e00" <= c <= "\u9fff" for p in prods for c in p.title),
        "age_days": not any(p.created_at for p in prods), "in_stock": all(p.available for p in prods),
        "rising_item": no_rising, "rising_category": no_rising,
        # genre queries: no number, and under two terms matched in any title (both columns are NaN then)
        "title_number_share": not any(c.isdigit() for q in data.queries for c in q.text),
        "title_span": not any(len(set(tokenize(t)) & set(tokenize(p.title))) >= 2 for t in {q.text for q in data.queries} for p in prods),
    }
    unexplained = sorted(f for f in constant if not missing.get(f, False))
    assert not unexplained, f"ranker columns constant in training: {unexplained}"
    assert {"user_category_affinity", "user_attribute_affinity", "user_vector_cos", "user_history"}.isdisjoint(constant)


def test_training_and_serving_compute_the_same_personal_columns(data, cands, rankers) -> None:
    svc = cands.svc
    personal, _ = rankers
    q = data.of("dev")[0]
    X, _, ids = cands.of(q)
    svc.ranker = personal
    try:
        ctx = run_pipeline(SearchContext(parts=svc, request=SearchRequest(q.text, user_id=q.user, history=q.history)))
        stranger = svc.search(q.text, per_page=10, explain=False)
        known = svc.search(q.text, user_id=q.user, history=q.history, per_page=10, explain=False)
    finally:
        svc.ranker = None
    served = {svc.table.ids[int(r)]: row for r, row in zip(ctx.r.cand[ctx.head], ctx.X, strict=True)}
    cols = [FEATURES.index(f) for f in USER_FEATURES]
    both = [i for i in ids if i in served]
    assert len(both) > 100
    train_rows = X[[ids.index(i) for i in both]][:, cols]
    assert np.allclose(np.array([served[i][cols] for i in both]), train_rows, atol=1e-6) and train_rows.any()
    assert [h.id for h in known.hits] != [h.id for h in stranger.hits]  # the user's history changes what they see


def test_non_personalised_ranker_is_the_same_model_without_user_columns(data, cands, rankers) -> None:
    personal, plain = rankers
    assert all(plain.dropped[f] == "excluded by the caller" for f in USER_FEATURES)
    assert {"user_category_affinity", "user_attribute_affinity", "user_vector_cos"} <= set(personal.features)
    assert set(plain.features) == set(personal.features) - set(USER_FEATURES)
    scores = score_users(cands, data.of("dev")[:40], {"personalised": personal, "non_personalised": plain, "fused": None})
    assert scores["personalised"].keys() == scores["non_personalised"].keys() and len(scores["fused"]) >= 5
    assert scores["personalised"] != scores["non_personalised"]

