"""Small built services over real slices, and a helper that runs the pipeline up to a named stage."""

from __future__ import annotations

import pytest

from shopmind.search import SearchConfig, SearchService, StageSwitches
from shopmind.search.stages import PIPELINE, SearchContext, SearchRequest

LEXICAL_ONLY = SearchConfig(stages=StageSwitches(dense=False), facet_size=10_000)


@pytest.fixture(scope="package")
def hd_svc(hd_slice, tmp_path_factory) -> SearchService:
    """BM25-only service over 2,000 Home Depot titles (with an invented price: the title's length)."""
    prods = [p.model_copy(update={"price": float(len(p.title))}) for p in hd_slice]
    return SearchService.build(prods, None, tmp_path_factory.mktemp("hd-stages"), LEXICAL_ONLY)


@pytest.fixture(scope="package")
def ob_svc(openbg, tmp_path_factory) -> SearchService:
    """BM25-only service over 400 OpenBG Taobao items (brands, attributes, categories)."""
    return SearchService.build(openbg[:400], None, tmp_path_factory.mktemp("ob-stages"), LEXICAL_ONLY)


def known_brand(svc: SearchService) -> str:
    """A Latin-letter brand of the catalog that the entity matcher recognises by its plain name."""
    return next(b for b in svc.table.brands.values if b and b.isascii() and b.isalpha() and len(b) > 3
                and svc.entities.brands.get(b.lower()) == b)


def run_until(svc: SearchService, query: str, last: str, **request) -> SearchContext:
    """A context after running the pipeline's stages up to and including `last`."""
    ctx = SearchContext(parts=svc, request=SearchRequest(query, **request))
    for name, stage in PIPELINE:
        stage(ctx)
        if name == last:
            return ctx
    raise AssertionError(f"no stage {last}")
