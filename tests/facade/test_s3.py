"""Artifacts on S3 (moto's S3 server, started here on a free port): a storage round trip, then two hosts sharing a
store and a bucket — B downloads and serves what A built; a deletion on A scrubs the version in the bucket too."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from shopmind.artifacts import StorageError, open_storage
from shopmind.engine import ShopMind

pytestmark = pytest.mark.integration  # a server on loopback; whole-part builds


@pytest.fixture(scope="module")
def s3_endpoint():
    """An S3-compatible endpoint (moto in server mode) with one bucket; the AWS env points at it."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
           "AWS_DEFAULT_REGION": "us-east-1"}
    try:
        with pytest.MonkeyPatch.context() as mp:
            for k, v in env.items():
                mp.setenv(k, v)
            import boto3

            boto3.client("s3").create_bucket(Bucket="shop")
            yield env["AWS_ENDPOINT_URL"]
    finally:
        server.stop()


def test_storage_round_trip(s3_endpoint: str, tmp_path: Path) -> None:
    host_a = open_storage("s3://shop/prod/artifacts", tmp_path / "a")
    host_b = open_storage("s3://shop/prod/artifacts", tmp_path / "b")
    assert host_a.remote and host_a.uri("search", "v1") == "s3://shop/prod/artifacts/search/v1"
    built = host_a.root / "search" / "v1"
    (built / "lexical").mkdir(parents=True)
    (built / "meta.json").write_text('{"ndcg": 0.5}')
    (built / "lexical" / "vocab.npy").write_bytes(bytes(range(256)) * 40)
    host_a.upload("search", "v1")
    assert host_b.versions("search") == ["v1"]
    got = host_b.fetch("search", "v1")  # downloaded into b's cache
    assert got == tmp_path / "b" / "artifacts" / "search" / "v1"
    assert (got / "lexical" / "vocab.npy").read_bytes() == bytes(range(256)) * 40 and (got / "meta.json").read_text() == '{"ndcg": 0.5}'
    host_b.remove("search", "v1")
    assert host_a.versions("search") == [] and not got.exists()
    with pytest.raises(StorageError, match="nothing at s3://shop/prod/artifacts/search/v1"):
        host_b.fetch("search", "v1")


def test_two_hosts_share_builds_and_deletions_through_the_bucket(s3_endpoint: str, tmp_path: Path, demo_data: Path) -> None:
    settings = {"store": {"url": f"sqlite:///{tmp_path / 'shared.db'}"}, "search": {"stages": {"dense": False}},
                "cluster": {"artifacts_url": "s3://shop/two-hosts"}}
    a = ShopMind.open(tmp_path / "a", **settings)
    a.import_file("products", demo_data / "products.jsonl")
    events = pq.read_table(demo_data / "events.parquet").slice(0, 5000)
    pq.write_table(events, tmp_path / "events.parquet")
    a.import_file("events", tmp_path / "events.parquet")
    version = a.build(["search"])["search"]["version"]
    assert a.models("search")["search"]["versions"][0]["uri"] == f"s3://shop/two-hosts/search/{version}"

    b = ShopMind.open(tmp_path / "b", **settings)
    assert [h.title for h in b.search("star wars").hits][:1] == ["Star Wars"]
    assert (tmp_path / "b" / "artifacts" / "search" / version / "meta.json").is_file()  # downloaded into B's cache

    users = events.column("user_id").to_pylist()
    victim = max(set(users), key=lambda u: (users.count(u), u))
    token = re.compile(rb"(?<![\w])" + re.escape(victim.encode()) + rb"(?![\w])")

    def holding(folder: Path) -> list[str]:
        return [p.name for p in folder.rglob("*") if p.is_file() and token.search(p.read_bytes())]

    b_copy = tmp_path / "b" / "artifacts" / "search" / version
    assert holding(b_copy)  # the victim's search preferences are in the version
    b._follower.poll()  # B starts following deletions from here
    removed = a.delete_user(victim)
    assert removed["artifacts"]["search"]["versions"] == 1
    assert not holding(open_storage("s3://shop/two-hosts", tmp_path / "c").fetch("search", version))  # the bucket's copy
    assert b._follower.poll()["refreshed"] == 1 and not holding(b_copy)  # and B's cache, after its next poll
    assert [h.title for h in b.search("star wars").hits][:1] == ["Star Wars"]
    for shop in (a, b):
        shop.close()
