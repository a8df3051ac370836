"""`shopmind serve --workers 2` on PostgreSQL + Redis: requests spread over both workers, which share one rate
limit, one chat session and one event log (each worker tails it by seq)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest

from shopmind.engine import ShopMind
from tests.conftest import _free_port

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.redis]

ADMIN, FRONT = "workers-admin-key", "workers-front-key"
BURST = 6  # events a caller may send at once, across every worker


@pytest.fixture(scope="module")
def database(postgres_server):
    name = "w_" + uuid.uuid4().hex[:12]
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{postgres_server.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def served(tmp_path_factory, demo_data, database, redis_server):
    """Two API workers over a demo catalog; yields (the base URL, the `serve` process). Stopped (the whole process
    group) at the end."""
    import redis

    redis.Redis.from_url(redis_server).flushall()
    home = tmp_path_factory.mktemp("workers") / "shop"
    home.mkdir()
    rate = f"{{ rate = 0.001, burst = {BURST} }}"
    (home / "shopmind.toml").write_text(f"""
[store]
url = "{database}"
[cluster]
shared_url = "{redis_server}"
[api]
admin_keys = ["{ADMIN}"]
public_keys = ["{FRONT}"]
[api.rate_limits.per_key]
events = {rate}
[api.rate_limits.per_ip]
events = {rate}
[assistant]
llm = "none"
""")
    with ShopMind.open(home) as shop:
        shop.import_file("products", demo_data / "products.jsonl")
    port = _free_port()
    log = (home / "serve.log").open("wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPMIND_")}
    proc = subprocess.Popen([str(Path(sys.executable).parent / "shopmind"), "serve", "--home", str(home), "--port", str(port), "--workers", "2"],
                            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"shopmind serve exited: {(home / 'serve.log').read_text()[-3000:]}")
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200 and len(_workers(base, 40)) == 2:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"two workers never answered: {(home / 'serve.log').read_text()[-3000:]}")
            time.sleep(0.3)
        yield base, proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        log.close()


@pytest.fixture(scope="module")
def server(served):
    """The base URL of the two workers."""
    return served[0]


def _call(base: str, method: str, path: str, **kw) -> httpx.Response:
    """One request on a fresh connection (a kept-alive one would stay with one worker)."""
    with httpx.Client(base_url=base, timeout=30) as c:
        return c.request(method, path, **kw)


def _workers(base: str, n: int) -> set[str]:
    return {_call(base, "GET", "/healthz").headers["x-worker"] for _ in range(n)}


def _on_other_worker(base: str, not_worker: str, method: str, path: str, **kw) -> httpx.Response:
    """The same request repeated until a worker other than `not_worker` answers it."""
    for _ in range(200):
        r = _call(base, method, path, **kw)
        if r.headers["x-worker"] != not_worker:
            return r
    raise AssertionError("only one worker ever answered")


def test_requests_spread_over_both_workers(server):
    assert len(_workers(server, 40)) == 2


def test_one_rate_limit_across_workers(server):
    """Requests go on until both workers have answered at least 3 each (which worker accepts a connection is the
    kernel's choice): with per-process buckets each worker would grant its own BURST; with one shared bucket exactly
    BURST are granted in all, whoever answers."""
    answers: list[httpx.Response] = []
    for i in range(300):
        answers.append(_call(server, "POST", "/events", headers={"X-API-Key": FRONT},
                             json={"type": "view", "user_id": f"rl{i}", "item_id": "m1"}))
        seen = [r.headers["x-worker"] for r in answers]
        if len(answers) > BURST and len(set(seen)) == 2 and min(seen.count(w) for w in set(seen)) >= 3:
            break
    codes = [r.status_code for r in answers]
    assert len({r.headers["x-worker"] for r in answers}) == 2, "only one worker ever answered"
    assert codes.count(202) == BURST and codes.count(429) == len(answers) - BURST, codes
    assert all(r.headers.get("retry-after") for r in answers if r.status_code == 429)


def test_chat_session_continues_on_the_other_worker(server):
    admin = {"X-API-Key": ADMIN}  # admin keys are exempt from rate limits
    first = _call(server, "POST", "/chat", headers=admin, json={"session_id": "w-s1", "message": "hello"})
    assert first.status_code == 200 and first.json()["session"]["turns"] == 1
    second = _on_other_worker(server, first.headers["x-worker"], "POST", "/chat", headers=admin,
                              json={"session_id": "w-s1", "message": "thanks"})
    assert second.json()["session"]["turns"] >= 2  # the other worker read the turn the first one stored


def test_event_sent_to_one_worker_is_seen_by_the_other(server):
    admin = {"X-API-Key": ADMIN}
    sent = _call(server, "POST", "/events", headers=admin, json={"type": "add_to_cart", "user_id": "w-shopper", "item_id": "m1"})
    assert sent.status_code == 202
    profile = _on_other_worker(server, sent.headers["x-worker"], "GET", "/users/w-shopper/profile", headers=admin)
    assert profile.status_code == 200
    body = profile.json()
    assert body["known"] and [r["item_id"] for r in body["recent"]] == ["m1"]


def test_keys_were_generated_once_before_the_workers(tmp_path, demo_data):
    """A shop without keys: `prepare` (what serve runs before spawning) makes one pair; a worker makes none."""
    from shopmind.api.asgi import prepare
    from shopmind.security.keys import count

    with ShopMind.open(tmp_path / "shop") as shop:
        generated = prepare(shop)
        assert generated is not None and set(generated) >= {"admin", "storefront"}
        assert prepare(shop) is None and count(shop.store.engine) == 2
    assert Path(generated["file"]).stat().st_mode & 0o777 == 0o600


def _children(pid: int) -> list[int]:
    return [int(c) for task in Path(f"/proc/{pid}/task").glob("*") for c in (task / "children").read_text().split()]


def test_each_worker_gets_its_share_of_the_cpus(served):
    """`serve --workers 2` starts every worker with OMP_NUM_THREADS = its share of the CPUs (unless the operator set
    one): two workers' OpenMP teams on 2 cores otherwise spin against each other (issue 16: search 49 -> 0.4 req/s)."""
    from shopmind.text.encoders import available_cpus

    _, proc = served
    envs = []
    for pid in _children(proc.pid):
        raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        env = dict(kv.decode(errors="replace").split("=", 1) for kv in raw if b"=" in kv)
        if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():  # a worker (not multiprocessing's resource tracker)
            envs.append(env)
    assert len(envs) == 2
    expected = os.environ.get("OMP_NUM_THREADS") or str(max(1, available_cpus() // 2))
    assert {e.get("OMP_NUM_THREADS") for e in envs} == {expected}
    assert {e.get("WEB_CONCURRENCY") for e in envs} == {"2"}
