"""Shared fixtures: where the real data lives, and throwaway ShopMind homes; the test tiers.

Tiers (README "Tests"): every test is `unit` or `integration`, decided here at collection so nobody has to
remember a marker. A test is `integration` when it uses a fixture that starts a server (PostgreSQL, Chromium
through Playwright, llama.cpp), is parametrised onto PostgreSQL, carries a server marker (`postgres`, `browser`,
`llm`, `fuzz`, `slow`) or an explicit `integration` marker (subprocesses, large builds). Everything else is `unit`:
`make test-unit` (`pytest -m unit`) runs those in under a minute with no servers.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _shared_data() -> Path:
    env = os.environ.get("SHOPMIND_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the checkout (CI clones with shared/ beside it)."""
    path = _shared_data()
    if not path.is_dir():
        pytest.fail(f"real data not found at {path}; set SHOPMIND_SHARED_DATA")
    return path


@pytest.fixture(scope="session")
def demo_data() -> Path:
    """The demo slice committed in the repo (src/shopmind/data/demo)."""
    return REPO / "src" / "shopmind" / "data" / "demo"


# -- PostgreSQL: a real server on loopback, started once per test session ------------------------------
def _pg_bindir() -> Path | None:
    import glob
    import shutil

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server():
    """URL of a PostgreSQL server: SHOPMIND_TEST_POSTGRES_URL, or one this fixture starts and stops."""
    import shutil
    import subprocess
    import tempfile

    url = os.environ.get("SHOPMIND_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    bindir = _pg_bindir()
    if bindir is None:
        pytest.fail("PostgreSQL is not installed: `apt-get install postgresql` (.ci/run does this)")
    root = Path(tempfile.mkdtemp(prefix="shopmind-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    prefix: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "shopmind", "--no-sync", "-E", "UTF8"], check=True, capture_output=True)
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", "start"], check=True, capture_output=True)
    try:
        yield f"postgresql://shopmind@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str):
    """A fresh, empty database on the session's server for one test."""
    import uuid

    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    base = postgres_server.rsplit("/", 1)[0]
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{base}/{name}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path: Path) -> str:
    """Every store test runs against both backends (congruence, as qdrant-client does)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shop.db'}"
    return request.getfixturevalue("postgres_url")


# -- Redis: a real server on loopback, started once per test session (per xdist worker) ------------------------
@pytest.fixture(scope="session")
def redis_server():
    """URL of a Redis server: SHOPMIND_TEST_REDIS_URL, or a `redis-server` this fixture starts (no persistence) and stops."""
    import shutil
    import subprocess
    import tempfile
    import time

    url = os.environ.get("SHOPMIND_TEST_REDIS_URL")
    if url:
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("Redis is not installed: `apt-get install redis-server` (.ci/run does this)")
    root = Path(tempfile.mkdtemp(prefix="shopmind-redis-"))
    port = _free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(root), "--logfile", str(root / "log")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import socket

    for _ in range(200):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.025)
    else:
        proc.kill()
        pytest.fail(f"redis-server did not start; see {root / 'log'}")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def redis_url(redis_server: str):
    """The session's Redis, emptied for one test."""
    import redis

    client = redis.Redis.from_url(redis_server)
    client.flushall()
    client.close()
    yield redis_server


# -- test tiers ----------------------------------------------------------------------------------------------
# Fixtures that start a server, and the marker each implies.
SERVER_FIXTURES = {
    "postgres_server": "postgres",
    "postgres_url": "postgres",
    "redis_server": "redis",
    "redis_url": "redis",
    "browser": "browser",
    "page": "browser",
    "llama_server": "llm",
}
# Markers that put a test in the integration tier by themselves.
INTEGRATION_MARKERS = {"integration", "postgres", "redis", "browser", "llm", "fuzz", "slow"}


def _tier_markers(item: pytest.Item) -> set[str]:
    """The server markers this test implies, from its fixtures and its parameters (a `postgres` backend param)."""
    names = set(getattr(item, "fixturenames", ()))
    found = {SERVER_FIXTURES[n] for n in names & SERVER_FIXTURES.keys()}
    callspec = getattr(item, "callspec", None)
    params = {v for v in callspec.params.values() if isinstance(v, str)} if callspec is not None else set()
    found |= params & {"postgres", "redis"}  # store_url / backend / make_sessions parametrised onto a server
    return found


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test `unit` or `integration` (and with the server marker its fixtures imply)."""
    for item in items:
        for name in sorted(_tier_markers(item)):
            if item.get_closest_marker(name) is None:
                item.add_marker(name)
        own = {m.name for m in item.iter_markers()}
        item.add_marker("integration" if own & INTEGRATION_MARKERS else "unit")
