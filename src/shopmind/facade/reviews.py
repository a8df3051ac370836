"""Review verbs of the facade: store reviews, list a product's, build the aspect summaries and serve them.

The summaries are an artifact part of their own (`review_aspects`): `build_reviews` analyses every stored review with the
shipped ABSA models into a new version folder, which is registered, promoted and rolled back like any part and
scrubbed when a user is deleted (security/deletion.py `SCRUBBERS`). `review_summary` reads the promoted version.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shopmind.domain import Review
from shopmind.errors import NotBuilt

if TYPE_CHECKING:
    from shopmind.artifacts import ArtifactStorage
    from shopmind.recommend.config import RecommendResponse
    from shopmind.store import SqlStore

__all__ = ["REVIEWS_PART", "ReviewVerbs"]
log = logging.getLogger(__name__)
REVIEWS_PART = "review_aspects"
MAX_PAGE = 100
REVIEWS_RECHECK_S = 30.0


class ReviewVerbs:
    """Reviews and their aspect summaries (mixed into `ShopMind` before `ArtifactVerbs`)."""

    store: SqlStore
    artifact_storage: ArtifactStorage

    if TYPE_CHECKING:  # provided by ShopMind, ClusterParts and ArtifactVerbs
        @property
        def shop_secret(self) -> bytes: ...
        def service(self, name: str) -> Any: ...
        def new_artifact_dir(self, part: str) -> tuple[str, Path]: ...
        def write_snapshot(self, out_dir: Path, last_seq: int, products: int, events: Any, change_seq: int | None = None) -> None: ...
        def publish_artifact(self, part: str, version: str, keep: int = 3, *, service: Any = None, promote: bool | None = None) -> bool: ...
        def built_part(self, name: str) -> Any | None: ...
        _services: dict[str, Any]

    _reviews_checked_at: float = float("-inf")  # when a shop without built review aspects last looked (REVIEWS_RECHECK_S)

    def add_reviews(self, reviews: Iterable[Review | dict[str, Any]]) -> int:
        """Store reviews (validated; a replayed id replaces the stored review); how many were written."""
        items = [r if isinstance(r, Review) else Review.model_validate(r) for r in reviews]
        return self.store.upsert_reviews(items)

    def product_reviews(self, product_id: str, *, limit: int = 20, offset: int = 0) -> dict[str, Any]:
        """A product's reviews, newest first (paged), with their count and mean rating."""
        from shopmind.store.reviews import product_reviews, review_stats

        if not 1 <= limit <= MAX_PAGE or offset < 0:
            raise ValueError(f"limit: must be 1–{MAX_PAGE} and offset ≥ 0")
        return {**review_stats(self.store, product_id), "reviews": product_reviews(self.store, product_id, limit=limit, offset=offset)}

    def build_reviews(self, *, promote: bool | None = None) -> dict[str, Any]:
        """Analyse every stored review into a new `reviews` version (aspects, polarity, evidence); {} without reviews."""
        from shopmind.security.deletion import last_deletion_seq, scrub_fresh_build
        from shopmind.store.reviews import iter_reviews, review_count
        from shopmind.understand.absa import default_absa
        from shopmind.understand.review_summary import ReviewSummaries

        if review_count(self.store) == 0:
            return {}
        if not default_absa().available():
            log.warning("review aspects not built: no ABSA model files installed (scripts/train_absa.py writes them)")
            return {REVIEWS_PART: {"skipped": "no ABSA model files installed"}}
        started = time.perf_counter()
        deleted_seq = last_deletion_seq(self.store.engine)
        last_seq = self.store.last_event_seq()
        version, out_dir = self.new_artifact_dir(REVIEWS_PART)
        service = ReviewSummaries.build(iter_reviews(self.store), out_dir)
        self.write_snapshot(out_dir, last_seq, int(service.meta.get("products", 0)), 0)
        scrub_fresh_build(self.store.engine, self.shop_secret, REVIEWS_PART, out_dir, service, deleted_seq)
        self.publish_artifact(REVIEWS_PART, version, service=service, promote=promote)
        return {REVIEWS_PART: {"version": version, "seconds": round(time.perf_counter() - started, 2), **service.meta}}

    def review_summary(self, product_id: str) -> dict[str, Any]:
        """What reviewers say about a product, per aspect ("battery: 82 % positive over 57 mentions") with quotes;
        counts and mean rating come from the store, aspects from the last `build_reviews`."""
        from shopmind.store.reviews import review_stats

        stats = review_stats(self.store, product_id)
        try:
            built = self.service(REVIEWS_PART).summary(product_id)
        except NotBuilt:
            built = {"product_id": product_id, "mentions": 0, "reviews": 0, "aspects": [], "built": False}
        return {**built, "review_count": stats["count"], "mean_rating": stats["mean_rating"]}

    def review_reasons(self, response: RecommendResponse, language: str | None = None) -> RecommendResponse:
        """A recommend response whose reasons cite each product's praised review aspect (understand.review_reasons), in
        `language` (the shopper's; else the reviews'); unchanged where review aspects were never built."""
        summaries = self._services.get(REVIEWS_PART)
        if summaries is None and time.monotonic() - self._reviews_checked_at >= REVIEWS_RECHECK_S:
            self._reviews_checked_at = time.monotonic()  # a shop without reviews costs one registry read per interval
            summaries = self.built_part(REVIEWS_PART)
        if summaries is None or not getattr(response, "items", None):
            return response
        from shopmind.understand.review_reasons import with_review_reasons

        out: RecommendResponse = with_review_reasons(response, lambda pid: summaries.summary(pid, evidence=0), language)
        return out

    def _load_version(self, part: str, version: str) -> Any:
        """The `reviews` part reads its own folders; every other part loads through the engine's PARTS."""
        if part != REVIEWS_PART:
            return super()._load_version(part, version)  # type: ignore[misc]
        from shopmind.understand.review_summary import ReviewSummaries

        return ReviewSummaries.load(self.artifact_storage.fetch(part, version))
