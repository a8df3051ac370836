"""Image verbs of the facade: build the product image vectors, visually similar products, search by image, and the
near-duplicate report for catalog hygiene.

The vectors are an artifact part of their own (`image_vectors`, understand/images_index.py), registered, promoted and
rolled back like any part. Only products' own image files (under the shop's image folder) or URLs on hosts the shop
names are read. No text–image model ships offline, so there is no text→image search.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shopmind.errors import NotBuilt

if TYPE_CHECKING:
    from shopmind.artifacts import ArtifactStorage
    from shopmind.store import SqlStore
    from shopmind.understand.images import ImageEmbedder

__all__ = ["IMAGES_PART", "MAX_QUERY_IMAGE_BYTES", "ImageVerbs"]
log = logging.getLogger(__name__)
IMAGES_PART = "image_vectors"
MAX_QUERY_IMAGE_BYTES = 5_000_000
MAX_K = 100


class ImageVerbs:
    """Image embeddings and what they serve (mixed into `ShopMind` before `ArtifactVerbs`)."""

    home: Path
    store: SqlStore
    artifact_storage: ArtifactStorage
    _image_embedder: ImageEmbedder | None = None

    if TYPE_CHECKING:  # provided by ShopMind, ClusterParts and ArtifactVerbs
        def service(self, name: str) -> Any: ...
        def new_artifact_dir(self, part: str) -> tuple[str, Path]: ...
        def write_snapshot(self, out_dir: Path, last_seq: int, products: int, events: Any, change_seq: int | None = None) -> None: ...
        def publish_artifact(self, part: str, version: str, keep: int = 3, *, service: Any = None, promote: bool | None = None) -> bool: ...

    def image_embedder(self) -> ImageEmbedder:
        """The shop's image embedder, its cache under `<home>/cache/images` (keyed by the sha256 of the bytes)."""
        if self._image_embedder is None:
            from shopmind.understand.images import ImageEmbedder

            self._image_embedder = ImageEmbedder(self.home / "cache" / "images", threads=min(2, os.cpu_count() or 1))
        return self._image_embedder

    def build_images(self, *, promote: bool | None = None, base_dir: str | os.PathLike[str] | None = None,
                     allowed_hosts: Sequence[str] = (), timeout_s: float = 5.0) -> dict[str, Any]:
        """Embed every product's first image into a new `image_vectors` version; {} when no product has an image.

        Relative image paths are read under `base_dir` (default `<home>/images`); http(s) URLs only on `allowed_hosts`."""
        from shopmind.understand.images_fetch import FetchPolicy

        products = [p for p in self.store.iter_products() if p.images]
        if not products:
            return {}
        from shopmind.understand.images_index import ImageIndex

        started = time.perf_counter()
        policy = FetchPolicy(base_dir=Path(base_dir) if base_dir is not None else self.home / "images",
                             allowed_hosts=tuple(allowed_hosts), timeout_s=timeout_s)
        last_seq = self.store.last_event_seq()
        version, out_dir = self.new_artifact_dir(IMAGES_PART)
        service = ImageIndex.build(products, out_dir, self.image_embedder(), policy)
        self.write_snapshot(out_dir, last_seq, len(service.ids), 0)
        self.publish_artifact(IMAGES_PART, version, service=service, promote=promote)
        return {IMAGES_PART: {"version": version, "seconds": round(time.perf_counter() - started, 2),
                              **{k: v for k, v in service.meta.items() if k != "unreadable_examples"}}}

    def _images(self) -> Any:
        try:
            return self.service(IMAGES_PART)
        except NotBuilt as exc:
            raise NotBuilt("image vectors are not built yet: run `shopmind images build` (or ShopMind.build_images())") from exc

    def similar_images(self, product_id: str, k: int = 10) -> dict[str, Any]:
        """Visually similar products (nearest image embeddings); KeyError when the product has no image vector."""
        if not 1 <= k <= MAX_K:
            raise ValueError(f"k: must be 1–{MAX_K}")
        return {"product_id": product_id, "items": self._images().similar(product_id, k)}

    def search_image(self, data: bytes, k: int = 10) -> dict[str, Any]:
        """The products whose image is nearest to the uploaded one (ImageError naming the field for bad bytes)."""
        from shopmind.understand.images import ImageError

        if not 1 <= k <= MAX_K:
            raise ValueError(f"k: must be 1–{MAX_K}")
        if not data:
            raise ImageError("image: empty")
        if len(data) > MAX_QUERY_IMAGE_BYTES:
            raise ImageError(f"image: {len(data)} bytes is over the limit of {MAX_QUERY_IMAGE_BYTES}")
        index = self._images()
        vectors, _ = self.image_embedder().encode_bytes([data], ["image"])
        return {"items": index.search(vectors[0], k)}

    def image_duplicates(self) -> dict[str, Any]:
        """Catalog hygiene: groups of products whose images are near-duplicates (pHash or embedding), largest first."""
        groups = self._images().duplicates()
        return {"groups": groups, "count": len(groups)}

    def _load_version(self, part: str, version: str) -> Any:
        """The `image_vectors` part reads its own folders; every other part loads further down the chain."""
        if part != IMAGES_PART:
            return super()._load_version(part, version)  # type: ignore[misc]
        from shopmind.understand.images_index import ImageIndex

        return ImageIndex.load(self.artifact_storage.fetch(part, version))
