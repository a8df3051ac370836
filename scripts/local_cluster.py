"""The compose topology (deploy/compose.yaml) as local processes: no container engine needed.

Starts what `docker compose --profile demo up` starts, with the same commands and the same environment, read from
deploy/compose.yaml and deploy/.env.example: a PostgreSQL, a redis-server (compose's own redis command line), a
Milvus server (Milvus Lite's gRPC server, `milvus-lite server`, in place of Milvus standalone: the same
`milvus://host:port` URL and client code), the one-shot jobs migrate, seed (the bundled demo shop, or a slice of it)
and build, N `shopmind serve` hosts with their own home folders sharing store, Redis, artifacts path and secret,
and a load balancer: nginx with deploy/nginx.conf when `nginx` is installed, else a least-connections TCP proxy of
this script's own (it says which). Compose hostnames and container paths are mapped to 127.0.0.1 ports and folders
under --root; the secrets are made fresh. Every process writes to a log file under <root>/logs.

    python scripts/local_cluster.py                  # start; prints the URLs and keys; processes keep running
    python scripts/local_cluster.py --check          # start, smoke-test through the load balancer, stop
    python scripts/local_cluster.py --down           # stop everything a previous start left running

Prints one JSON object last (the cluster, or the check's results); exit 1 when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import glob
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
BIN = Path(sys.executable).parent
DEMO = REPO / "src" / "shopmind" / "data" / "demo"
IMAGE_DEMO = "/opt/shopmind-demo"  # where the image keeps the demo shop (deploy/Dockerfile)
STATE_FILE = "cluster.json"


def say(message: str) -> None:
    """Progress on stderr; stdout carries only the final JSON object."""
    print(f"[local-cluster] {message}", file=sys.stderr, flush=True)


# -- compose: the commands and environment to reproduce -------------------------------------------------------
def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a compose env file (comments and blank lines skipped)."""
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


_VAR = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} in every string of a parsed compose value."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(m: re.Match[str]) -> str:
        name, op, arg = m.group(1), m.group(2), m.group(3) or ""
        if env.get(name):
            return env[name]
        if op == "?":
            raise SystemExit(f"compose variable {name} is not set: {arg}")
        return arg if op == "-" else env.get(name, "")

    return _VAR.sub(one, value)


def compose_model(env: dict[str, str]) -> dict[str, Any]:
    """deploy/compose.yaml parsed (YAML anchors and merge keys resolved) and interpolated with `env`."""
    return interpolate(yaml.safe_load((DEPLOY / "compose.yaml").read_text()), env)


def fresh_secrets() -> tuple[dict[str, str], dict[str, str]]:
    """Values for the secrets .env.example leaves empty, and the plaintext keys the smoke test uses."""
    admin, public = "sm_admin_" + secrets.token_urlsafe(24), "sm_storefront_" + secrets.token_urlsafe(24)
    values = {"POSTGRES_PASSWORD": secrets.token_hex(16), "SHOPMIND_SECRET": secrets.token_hex(32),
              "SHOPMIND_ADMIN_KEY_SHA256": hashlib.sha256(admin.encode()).hexdigest(), "SHOPMIND_PUBLIC_KEY": public}
    return values, {"admin": admin, "storefront": public}


# -- processes ------------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float, proc: subprocess.Popen | None = None, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(1)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode} before listening on {port}")
        time.sleep(0.1)
    raise SystemExit(f"{what or 'a server'} is not listening on {port} after {timeout:.0f}s")


def http(method: str, url: str, body: Any = None, key: str | None = None, timeout: float = 30) -> tuple[int, Any]:
    """One request on a fresh connection (so a load balancer sees each); (status, parsed JSON or text)."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data else {}
    if key:
        headers["X-API-Key"] = key
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode("utf-8", "replace")


class Cluster:
    """The processes of one local cluster and the file that lets `--down` find them again."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.logs = root / "logs"
        self.state: dict[str, Any] = {"root": str(root), "procs": [], "postgres": None}

    def save(self) -> None:
        (self.root / STATE_FILE).write_text(json.dumps(self.state, indent=1))

    def spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.Popen:
        """Start a long-running process in its own session (its group is stopped as one), output to logs/NAME.log."""
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps it open
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.state["procs"].append({"name": name, "pid": proc.pid, "argv": argv})
        self.save()
        return proc

    def job(self, name: str, argv: list[str], env: dict[str, str], timeout: float) -> None:
        """A one-shot job (migrate, seed, build): runs to the end; its output to logs/NAME.log; fails loudly."""
        say(f"job {name}: {' '.join(argv)}")
        with open(self.logs / f"{name}.log", "ab") as log:
            rc = subprocess.run(argv, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=timeout).returncode
        if rc:
            tail = (self.logs / f"{name}.log").read_text(errors="replace")[-2000:]
            raise SystemExit(f"job {name} failed with exit code {rc}; {self.logs / name}.log ends:\n{tail}")


def stop(root: Path) -> list[str]:
    """Stop what the state file under `root` names: each process group (TERM, then KILL), then PostgreSQL."""
    path = root / STATE_FILE
    if not path.is_file():
        return []
    state = json.loads(path.read_text())
    stopped: list[str] = []
    for proc in reversed(state["procs"]):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc["pid"], signal.SIGTERM)
            stopped.append(proc["name"])
    deadline = time.monotonic() + 15
    for proc in state["procs"]:
        while time.monotonic() < deadline and _alive(proc["pid"]):
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc["pid"], signal.SIGKILL)
    pg = state.get("postgres")
    if pg:
        subprocess.run([*pg["prefix"], pg["pg_ctl"], "-D", pg["data"], "-m", "fast", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(pg["dir"], ignore_errors=True)
        stopped.append("postgres")
    path.unlink()
    return stopped


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(ChildProcessError):
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    return True


# -- the services -----------------------------------------------------------------------------------------------
def start_postgres(cluster: Cluster, db: str, user: str) -> int:
    """A throwaway PostgreSQL on a free port (as tests/conftest.py starts one), with the compose database in it."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or ([shutil.which("initdb")] if shutil.which("initdb") else [])
    if not found:
        raise SystemExit("PostgreSQL is not installed: apt-get install postgresql (make sysdeps)")
    bindir = Path(found[-1]).resolve().parent
    pgdir = Path(tempfile.mkdtemp(prefix="shopmind-cluster-pg-"))  # outside --root: the postgres user must reach it
    prefix: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        shutil.chown(pgdir, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    data = pgdir / "data"
    cluster.state["postgres"] = {"dir": str(pgdir), "data": str(data), "prefix": prefix, "pg_ctl": str(bindir / "pg_ctl"), "log": str(pgdir / "log")}
    subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", user, "--no-sync", "-E", "UTF8"],
                   check=True, capture_output=True, timeout=120)
    opts = f"-p {port} -k {pgdir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=200"
    subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(pgdir / "log"), "-w", "start"],
                   check=True, capture_output=True, timeout=120)
    cluster.save()
    import psycopg

    with psycopg.connect(f"postgresql://{user}@127.0.0.1:{port}/postgres", autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')
    say(f"postgres on 127.0.0.1:{port} (log {pgdir / 'log'})")
    return port


def start_redis(cluster: Cluster, command: list[str]) -> int:
    """redis-server with compose's own arguments, on a free loopback port."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed: apt-get install redis-server (make sysdeps)")
    port = free_port()
    (cluster.root / "redis").mkdir(exist_ok=True)
    proc = cluster.spawn("redis", [binary, *command[1:], "--port", str(port), "--bind", "127.0.0.1", "--dir", str(cluster.root / "redis")])
    wait_port(port, 30, proc, "redis-server")
    say(f"redis on 127.0.0.1:{port}")
    return port


def start_milvus(cluster: Cluster) -> int:
    """Milvus Lite's gRPC server: a Milvus endpoint at milvus://127.0.0.1:PORT, as the compose `milvus` service is."""
    binary = BIN / "milvus-lite"
    if not binary.is_file():
        raise SystemExit("milvus-lite is not installed: pip install 'shopmind[milvus]' (or run with --no-milvus)")
    port = free_port()
    proc = cluster.spawn("milvus", [str(binary), "server", "--data-dir", str(cluster.root / "milvus"), "--host", "127.0.0.1", "--port", str(port)])
    wait_port(port, 60, proc, "milvus-lite server")
    say(f"milvus (Milvus Lite server) on 127.0.0.1:{port}")
    return port


def seed_files(target: Path, products: int, events: int) -> Path:
    """The demo shop, or its first `products` products with at most `events` of their events (same file names)."""
    if not products:
        return DEMO
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    target.mkdir(parents=True, exist_ok=True)
    lines = (DEMO / "products.jsonl").read_text().splitlines()[:products]
    (target / "products.jsonl").write_text("\n".join(lines) + "\n")
    shutil.copy(DEMO / "users.csv", target / "users.csv")
    ids = pa.array([json.loads(line)["id"] for line in lines])
    table = pq.read_table(DEMO / "events.parquet")
    table = table.filter(pc.is_in(table["item_id"], value_set=ids))
    pq.write_table(table.slice(0, events) if events else table, target / "events.parquet")
    return target


def local_env(base: dict[str, str], mapping: dict[str, str], home: Path) -> dict[str, str]:
    """Compose's SHOPMIND_* environment with compose hostnames and container paths replaced by local ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPMIND_")}
    for key, value in base.items():
        for old, new in mapping.items():
            value = value.replace(old, new)
        env[key] = value
    env["SHOPMIND_HOME"] = str(home)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def check_settings(env: dict[str, str]) -> None:
    """Every SHOPMIND_* variable is a real setting: load them as a host will (ConfigError names the bad key)."""
    sys.path.insert(0, str(REPO / "src"))
    from shopmind.config import ConfigError, load_settings

    try:
        load_settings(Path(env["SHOPMIND_HOME"]), environ=env)
    except ConfigError as exc:
        raise SystemExit(f"compose's environment does not load: {exc}") from exc


@functools.cache
def serve_has_workers() -> bool:
    """Whether `shopmind serve` takes --workers (the compose api command passes it)."""
    sys.path.insert(0, str(REPO / "src"))
    import typer.main

    from shopmind.cli import app

    command = typer.main.get_command(app)
    serve = command.commands["serve"]  # type: ignore[attr-defined]
    return any("--workers" in p.opts for p in serve.params)


def api_argv(command: list[str], port: int, workers: int) -> list[str]:
    """The compose api command with the local host, port and worker count."""
    values = {"--host": "127.0.0.1", "--port": str(port), "--workers": str(workers)}
    argv, i = [str(BIN / "shopmind")], 0
    while i < len(command):
        argv.append(command[i])
        if command[i] in values:
            argv.append(values[command[i]])
            i += 1
        i += 1
    if "--workers" in argv and not serve_has_workers():
        j = argv.index("--workers")
        del argv[j : j + 2]
        say(f"NOTE: `shopmind serve` has no --workers option yet: port {port} runs one worker")
    return argv


def start_lb(cluster: Cluster, backends: list[int]) -> tuple[int, str]:
    """nginx with deploy/nginx.conf (the upstream pointed at the hosts) when installed, else this script's proxy."""
    port = free_port()
    nginx = shutil.which("nginx")
    if nginx:
        conf = (DEPLOY / "nginx.conf").read_text()
        servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=3 fail_timeout=10s;" for p in backends)
        conf = re.sub(r"^\s*server api:8000[^;]*;", servers, conf, flags=re.M)
        conf = re.sub(r"^\s*resolver [^;]*;.*$", "", conf, flags=re.M).replace("listen 8080;", f"listen 127.0.0.1:{port};")
        conf = conf.replace("/tmp/", f"{cluster.root}/nginx/")
        (cluster.root / "nginx").mkdir(exist_ok=True)
        (cluster.root / "nginx" / "nginx.conf").write_text(conf)
        proc = cluster.spawn("lb", [nginx, "-p", str(cluster.root / "nginx"), "-c", str(cluster.root / "nginx" / "nginx.conf"), "-g", "daemon off;"])
        kind = "nginx (deploy/nginx.conf)"
    else:
        proc = cluster.spawn("lb", [sys.executable, __file__, "--proxy", str(port), *map(str, backends)])
        kind = "nginx is not installed: this script's least-connections TCP proxy"
    wait_port(port, 30, proc, "load balancer")
    say(f"load balancer on 127.0.0.1:{port}: {kind}")
    return port, kind


async def _proxy(listen: int, backends: list[int]) -> None:
    """Least-connections TCP proxy (what deploy/nginx.conf's least_conn does), each connection to one backend."""
    active = dict.fromkeys(backends, 0)

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(ConnectionError, OSError):
            writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        port = min(backends, key=lambda p: (active[p], backends.index(p)))
        backends.append(backends.pop(backends.index(port)))  # ties go round-robin
        active[port] += 1
        try:
            up_reader, up_writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 3)
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        except (OSError, TimeoutError):
            writer.close()
        finally:
            active[port] -= 1

    server = await asyncio.start_server(handle, "127.0.0.1", listen)
    async with server:
        await server.serve_forever()


def wait_ready(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    """Poll GET /readyz until 200 (the store answers), failing early when the process dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{url}: the server exited with {proc.returncode}; {log} ends:\n{log.read_text(errors='replace')[-2000:]}")
        with contextlib.suppress(OSError):
            if http("GET", f"{url}/readyz", timeout=3)[0] == 200:
                return
        time.sleep(0.25)
    raise SystemExit(f"{url}/readyz did not answer 200 within {timeout:.0f}s; see {log}")


def up(args: argparse.Namespace) -> dict[str, Any]:
    """Start the whole topology; return what the state file records (URLs, keys, logs)."""
    root = Path(args.root).resolve()
    if (root / STATE_FILE).is_file():
        raise SystemExit(f"a cluster is already running from {root} (run with --down first)")
    root.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(root)
    cluster.logs.mkdir(exist_ok=True)
    values, keys = fresh_secrets()
    variables = {**read_env_file(DEPLOY / ".env.example"), **values, "API_REPLICAS": str(args.hosts), "API_WORKERS": str(args.workers)}
    model = compose_model(variables)
    services = model["services"]
    base = {k: str(v) for k, v in model["x-shopmind-env"].items()}
    if args.no_milvus:
        base.pop("SHOPMIND_SEARCH__VECTOR_URL", None)
        say("--no-milvus: vectors in each host's local faiss files (from the shared artifacts), no Milvus server")
    paths = {"/artifacts": str(root / "artifacts"), "/cache": str(root / "cache")}
    base = {k: paths.get(v, v) for k, v in base.items()}

    def env_for(name: str, ports: dict[str, int]) -> dict[str, str]:
        mapping = {"@postgres:5432/": f"@127.0.0.1:{ports['postgres']}/", "redis://redis:6379": f"redis://127.0.0.1:{ports['redis']}",
                   "milvus://milvus:19530": f"milvus://127.0.0.1:{ports['milvus']}", "172.28.0.10": "127.0.0.1"}
        (root / "homes" / name).mkdir(parents=True, exist_ok=True)
        return local_env(base, mapping, root / "homes" / name)

    check_settings(env_for("check", {"postgres": 1, "redis": 1, "milvus": 1}))  # before anything starts
    started = time.monotonic()
    try:
        pg = services["postgres"]["environment"]
        ports = {"postgres": start_postgres(cluster, pg["POSTGRES_DB"], pg["POSTGRES_USER"]),
                 "redis": start_redis(cluster, services["redis"]["command"]),
                 "milvus": 0 if args.no_milvus else start_milvus(cluster)}
        shopmind = str(BIN / "shopmind")
        cluster.job("migrate", [shopmind, *services["migrate"]["command"]], env_for("migrate", ports), args.timeout)
        seed = seed_files(root / "seed", args.products, args.events)
        script = services["seed"]["command"][0].replace(IMAGE_DEMO, str(seed))
        cluster.job("seed", [*services["seed"]["entrypoint"], script], env_for("seed", ports), args.timeout)
        cluster.job("build", [shopmind, *services["build"]["command"]], env_for("build", ports), args.timeout)
        hosts: list[dict[str, Any]] = []
        for i in range(1, args.hosts + 1):
            port = free_port()
            argv = api_argv(services["api"]["command"], port, args.workers)
            proc = cluster.spawn(f"api{i}", argv, env_for(f"api{i}", ports))
            hosts.append({"name": f"api{i}", "url": f"http://127.0.0.1:{port}", "port": port, "proc": proc})
        for host in hosts:
            wait_ready(host["url"], host["proc"], cluster.logs / f"{host['name']}.log", args.timeout)
            say(f"{host['name']} ready at {host['url']}")
        lb_port, lb_kind = start_lb(cluster, [h["port"] for h in hosts])
    except BaseException:
        stop(root)
        raise
    cluster.state.update({
        "lb_url": f"http://127.0.0.1:{lb_port}", "lb": lb_kind, "hosts": [{k: h[k] for k in ("name", "url")} for h in hosts],
        "workers": args.workers, "keys": keys, "logs": str(cluster.logs), "ports": ports, "milvus": not args.no_milvus,
        "seed": {"products": args.products or "all", "events": args.events or "all"}, "start_s": round(time.monotonic() - started, 1),
    })
    cluster.save()
    return cluster.state


def smoke(state: dict[str, Any]) -> dict[str, Any]:
    """Search, recommend, an event and a chat turn through the load balancer; every host answers alike."""
    lb, keys, hosts = state["lb_url"], state["keys"], [h["url"] for h in state["hosts"]]
    shop = keys["storefront"]
    checks: dict[str, Any] = {}

    def check(name: str, ok: bool, detail: Any = None) -> None:
        checks[name] = {"ok": bool(ok), **({"detail": detail} if detail is not None else {})}
        say(f"{'ok  ' if ok else 'FAIL'} {name}" + (f": {detail}" if detail is not None and not ok else ""))

    status, body = http("GET", f"{lb}/readyz")
    check("lb_readyz", status == 200, body)
    hits: list[str] = []
    for _ in range(2 * len(hosts)):  # several, so that every host gets some
        status, body = http("GET", f"{lb}/search?q=star&per_page=5", key=shop)
        hits = [h["id"] for h in body.get("hits", [])] if status == 200 and isinstance(body, dict) else []
    check("search", bool(hits), hits or body)
    status, body = http("GET", f"{lb}/recommend?placement=home&user_id=u1&k=5", key=shop)
    recs = [i["id"] for i in body.get("items", [])] if status == 200 and isinstance(body, dict) else []
    check("recommend", bool(recs), recs or body)
    event = {"type": "view", "user_id": "u1", "session_id": "smoke", "item_id": hits[0] if hits else "m1", "timestamp": int(time.time())}
    status, body = http("POST", f"{lb}/events", event, key=shop)
    check("event", status in (200, 202), body)
    status, body = http("POST", f"{lb}/chat", {"session_id": "smoke", "message": "do you have star wars?"}, key=shop, timeout=120)
    check("chat", status == 200 and isinstance(body, dict) and bool(body.get("text")), body if status != 200 else None)
    answers = {url: [h["id"] for h in http("GET", f"{url}/search?q=star&per_page=5", key=shop)[1].get("hits", [])] for url in hosts}
    check("same_search_on_every_host", len({tuple(v) for v in answers.values()}) == 1 and bool(hits), answers)
    user = {"id": "smoke-user", "attributes": {"device": "smoke-test", "nonce": secrets.token_hex(4)}}
    status, _ = http("PUT", f"{lb}/users/smoke-user", user, key=keys["admin"])
    seen = {url: http("GET", f"{url}/users/smoke-user", key=keys["admin"])[1] for url in hosts}
    check("write_via_lb_seen_by_every_host", status in (200, 201, 202) and all(
        isinstance(v, dict) and (v.get("attributes") or {}).get("nonce") == user["attributes"]["nonce"] for v in seen.values()), seen)
    if state["workers"] == 1:  # one process per host: its /metrics counts every request the host served
        served = {url: _served(http("GET", f"{url}/metrics", key=keys["admin"])[1]) for url in hosts}
        check("lb_spreads_over_hosts", all(n > 0 for n in served.values()), served)
    return {"ok": all(c["ok"] for c in checks.values()), "checks": checks, "lb": state["lb"], "hosts": len(hosts),
            "workers": state["workers"], "milvus": state["milvus"], "seed": state["seed"], "start_s": state["start_s"]}


def _served(metrics: Any) -> int:
    """Requests to search/recommend/events/chat in a Prometheus text page."""
    pattern = re.compile(r'^shopmind_http_requests_total\{[^}]*route="/(search|recommend|events|chat)"[^}]*\} ([0-9.e+]+)$', re.M)
    return int(sum(float(m.group(2)) for m in pattern.finditer(metrics if isinstance(metrics, str) else "")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default=str(Path(tempfile.gettempdir()) / "shopmind-local-cluster"), help="folder for homes, logs, data")
    parser.add_argument("--hosts", type=int, default=2, help="API hosts behind the load balancer (compose's api replicas)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers per host (serve --workers)")
    parser.add_argument("--products", type=int, default=0, help="seed only the first N demo products (0: the whole demo shop)")
    parser.add_argument("--events", type=int, default=0, help="with --products: at most this many of their events (0: all)")
    parser.add_argument("--no-milvus", action="store_true", help="no Milvus: vectors in local faiss files on each host")
    parser.add_argument("--timeout", type=float, default=600, help="seconds each job or server start may take")
    parser.add_argument("--check", action="store_true", help="start, run the smoke test through the load balancer, stop")
    parser.add_argument("--down", action="store_true", help="stop the cluster started from --root")
    parser.add_argument("--proxy", nargs="+", type=int, help=argparse.SUPPRESS)  # internal: LISTEN BACKEND... (the fallback LB)
    args = parser.parse_args()
    if args.proxy:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_proxy(args.proxy[0], args.proxy[1:]))
        return 0
    if args.down:
        stopped = stop(Path(args.root).resolve())
        print(json.dumps({"stopped": stopped}))
        return 0
    state = up(args)
    if not args.check:
        print(json.dumps({k: v for k, v in state.items() if k != "procs"}))
        say(f"up: {state['lb_url']} (storefront key {state['keys']['storefront']}); stop with --down --root {state['root']}")
        return 0
    try:
        result = smoke(state)
    finally:
        stop(Path(state["root"]))
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
