"""Promotion gates, migrations, ports, probes, stickiness and secret versions, as rendered."""

from __future__ import annotations

import shlex
import subprocess

import pytest

from components.apps import jobs, traffic
from components.config import CanaryStickiness, SmokeCheck
from components.names import GATE_FOR_LABEL, release_job_name, tag_slug
from tests.conftest import STACKS, run_program
from tools.plan import engine
from tools.plan.diff import diff
from tools.plan.render import kubernetes_objects

JOB = "kubernetes:batch/v1:Job"
ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
SERVICE = "kubernetes:core/v1:Service"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret"
REGISTRY = {"dev": "ghcr.io/broxiva", "staging": "ghcr.io/broxiva", "prod": "broxivaprodacr.azurecr.io"}
TAGS = {"dev": ("dev-3f2c1a9", None), "staging": ("staging-1.4.2", "staging-1.5.0"), "prod": ("v1.4.2", "v1.5.0")}


def _objects(plan: engine.Plan, kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in kubernetes_objects(plan) if o["kind"] == kind}


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("tag", "slug"),
    [("v1.5.0", "v1-5-0"), ("dev-3f2c1a9", "dev-3f2c1a9"), ("Release_2026.11", "release-2026-11"), ("..", "tag")],
)
def test_tag_slug(tag: str, slug: str) -> None:
    assert tag_slug(tag) == slug


def test_job_names_fit_a_label_and_never_collide() -> None:
    assert release_job_name("broxiva-api", "gate", "green", "v1.5.0") == "broxiva-api-gate-green-v1-5-0"
    long_a, long_b = "dev-" + "a" * 40, "dev-" + "a" * 39 + "b"
    a = release_job_name("broxiva-api", "migrate", "green", long_a)
    b = release_job_name("broxiva-api", "migrate", "green", long_b)
    assert len(a) <= 63 and len(b) <= 63 and a != b
    assert a.startswith("broxiva-api-migrate-green-dev-aaa")
    with pytest.raises(ValueError, match="no room"):
        release_job_name("x" * 60, "migrate", "green", "v1")


# --------------------------------------------------------------------------- traffic


@pytest.mark.parametrize(
    ("active", "canary", "deployed", "weights", "gated"),
    [
        ("blue", 0, ("blue", "green"), {"blue": 100, "green": 0}, ("blue",)),
        ("green", 0, ("blue", "green"), {"blue": 0, "green": 100}, ("green",)),
        ("blue", 25, ("blue", "green"), {"blue": 75, "green": 25}, ("blue", "green")),
        ("blue", 100, ("blue", "green"), {"blue": 0, "green": 100}, ("blue", "green")),
        ("blue", 0, ("blue",), {"blue": 100}, ("blue",)),
    ],
)
def test_weights_and_gated_colors(active, canary, deployed, weights, gated) -> None:
    assert traffic.weights(active, canary, deployed) == weights
    assert list(traffic.weights(active, canary, deployed)) == [c for c in ("blue", "green") if c in deployed]
    assert traffic.gated(active, canary) == gated


@pytest.mark.parametrize(("canary", "sticky"), [(0, False), (1, True), (50, True), (99, True), (100, False)])
def test_session_persistence_only_while_a_canary_splits(canary: int, sticky: bool) -> None:
    stickiness = CanaryStickiness(apps=("broxiva-web",), cookie_name="c", absolute_timeout="2h")
    found = traffic.session_persistence("broxiva-web", stickiness, canary)
    assert (found is not None) == sticky
    if sticky:
        assert found == {
            "sessionName": "c",
            "type": "Cookie",
            "absoluteTimeout": "2h",
            "cookieConfig": {"lifetimeType": "Permanent"},
        }
    assert traffic.session_persistence("broxiva-api", stickiness, canary) is None
    assert traffic.session_persistence("broxiva-web", None, canary) is None


def test_sticky_canary_route() -> None:
    sets = {"canaryStickiness.apps[0]": "broxiva-web", "canaryWeight": "10"}
    routes = _objects(run_program("prod", sets), "HTTPRoute")
    (rule,) = routes["broxiva-web"]["spec"]["rules"]
    assert rule["sessionPersistence"]["sessionName"] == "broxiva-canary"
    assert rule["sessionPersistence"]["absoluteTimeout"] == "1h"
    assert "sessionPersistence" not in routes["broxiva-api"]["spec"]["rules"][0]


# --------------------------------------------------------------------------- the gate


def test_smoke_script_runs_in_a_posix_shell(tmp_path) -> None:
    """The script itself, against a fake curl that answers 200 for /ok and 503 for anything else."""
    curl = tmp_path / "curl"
    curl.write_text('#!/bin/sh\nfor a; do url=$a; done\ncase "$url" in */ok) printf 200 ;; *) printf 503 ;; esac\n')
    curl.chmod(0o755)
    sleep = tmp_path / "sleep"
    sleep.write_text("#!/bin/sh\n")
    sleep.chmod(0o755)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin"}
    good = jobs.smoke_script("http://svc", [SmokeCheck(path="/ok", status=200)])
    run = subprocess.run(["sh", "-c", good], env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 0 and "ok 200 http://svc/ok" in run.stdout
    bad = jobs.smoke_script("http://svc", [SmokeCheck(path="/ok"), SmokeCheck(path="/down", status=200)])
    run = subprocess.run(["sh", "-c", bad], env=env, capture_output=True, text=True, check=False)
    assert run.returncode != 0 and "FAILED http://svc/down: got 503, expected 200" in run.stdout
    assert run.stdout.count("FAILED") == 1
    # A 503 the config expects is a pass.
    expected = jobs.smoke_script("http://svc", [SmokeCheck(path="/down", status=503)])
    assert subprocess.run(["sh", "-c", expected], env=env, capture_output=True, check=False).returncode == 0


@pytest.mark.parametrize("stack", STACKS)
def test_gates_check_the_active_color_service_with_a_pinned_image(stack: str) -> None:
    plan = run_program(stack)
    namespace = {"dev": "broxiva-development", "staging": "broxiva-staging", "prod": "broxiva-production"}[stack]
    blue_tag = TAGS[stack][0]
    gates = {r["name"]: r for r in plan.by_type(JOB) if "-gate-" in r["name"]}
    assert set(gates) == {f"{app}-gate-blue" for app in ("broxiva-api", "broxiva-web")}
    for app in ("broxiva-api", "broxiva-web"):
        gate = gates[f"{app}-gate-blue"]
        job = gate["inputs"]
        assert job["metadata"]["name"] == jobs.gate_job_name(app, "blue", blue_tag)
        assert job["spec"]["backoffLimit"] == 0 and job["spec"]["activeDeadlineSeconds"] == 300
        pod = job["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["image"].startswith(REGISTRY[stack] + "/curlimages/curl@sha256:")
        script = container["command"][2]
        url = f"http://{app}-blue.{namespace}.svc.cluster.local"
        for path in {"broxiva-api": ("/api/health/ready", "/api/health/live"), "broxiva-web": ("/api/health", "/")}[
            app
        ]:
            assert f"check {shlex.quote(url + path)} 200" in script
        # Its pods carry no app/color labels: a Service never selects them.
        assert job["spec"]["template"]["metadata"]["labels"] == {GATE_FOR_LABEL: app, jobs.JOB_LABEL: "gate"}
        assert pod["restartPolicy"] == "Never" and pod["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        # It runs after the color's Deployment and Service; the stable Service and the route wait for it.
        deps = set(gate["dependencies"])
        assert plan.one(DEPLOYMENT, f"{app}-blue")["urn"] in deps
        assert plan.one(SERVICE, f"{app}-blue")["urn"] in deps
        assert gate["urn"] in plan.one(SERVICE, f"{app}-stable")["dependencies"]
        assert gate["urn"] in plan.one(ROUTE, f"routes-{app}")["dependencies"]
        # pulumi-kubernetes waits for the Job until its create timeout: the Job's deadline and a minute.
        assert gate["customTimeouts"] == {"create": "360s"}


def test_gate_pods_may_reach_only_the_app_they_check() -> None:
    policies = _objects(run_program("prod"), "NetworkPolicy")
    for app, port in (("broxiva-api", 4000), ("broxiva-web", 3000)):
        (rule,) = policies[f"allow-gateway-to-{app}"]["spec"]["ingress"]
        sources = rule["from"]
        assert {"podSelector": {"matchLabels": {GATE_FOR_LABEL: app}}} in sources
        egress = policies["allow-gates-to-their-app"]["spec"]["egress"]
        assert {
            "to": [{"podSelector": {"matchLabels": {"app": app}}}],
            "ports": [{"port": port, "protocol": "TCP"}],
        } in egress


# --------------------------------------------------------------------------- migrations


@pytest.mark.parametrize("stack", STACKS)
def test_migrations_run_before_the_database_apps_roll_out(stack: str) -> None:
    plan = run_program(stack)
    migrations = {r["name"]: r for r in plan.by_type(JOB) if r["name"].startswith("migrations-")}
    running = [c for c, t in zip(("blue", "green"), TAGS[stack], strict=True) if t]
    assert set(migrations) == {f"migrations-broxiva-api-{c}" for c in running}
    for color, tag in zip(("blue", "green"), TAGS[stack], strict=True):
        if tag is None:
            continue
        job = migrations[f"migrations-broxiva-api-{color}"]
        spec = job["inputs"]["spec"]
        assert job["inputs"]["metadata"]["name"] == jobs.migration_job_name("broxiva-api", color, tag)
        (container,) = spec["template"]["spec"]["containers"]
        assert container["image"] == f"{REGISTRY[stack]}/broxiva-api:{tag}"
        assert container["command"] == ["npm", "run", "migration:run"]
        assert {"secretRef": {"name": "broxiva-secrets"}} in container["envFrom"]
        assert spec["backoffLimit"] == 0 and spec["activeDeadlineSeconds"] == 900
        # The database's egress policy selects the part-of label; no app label, so no Service selects it.
        assert spec["template"]["metadata"]["labels"]["broxiva.com/part-of"] == "broxiva"
        assert "app" not in spec["template"]["metadata"]["labels"]
        for app, waits in (("broxiva-api", True), ("broxiva-worker", True), ("broxiva-web", False)):
            assert (job["urn"] in plan.one(DEPLOYMENT, f"{app}-{color}")["dependencies"]) is waits


# --------------------------------------------------------------------------- ports and probes


@pytest.mark.parametrize("stack", STACKS)
def test_each_deployment_gets_its_own_port_and_probes(stack: str) -> None:
    plan = run_program(stack)
    config_map = _objects(plan, "ConfigMap")["broxiva-config"]
    assert "PORT" not in config_map["data"]
    deployments = _objects(plan, "Deployment")
    assert len(deployments) == 3 * len([t for t in TAGS[stack] if t])
    for name, dep in deployments.items():
        for container in dep["spec"]["template"]["spec"]["containers"]:
            env = {e["name"]: e.get("value") for e in container["env"]}
            ports = [p["containerPort"] for p in container.get("ports", []) if p["name"] == "http"]
            if name.startswith("broxiva-worker"):
                assert "PORT" not in env and not ports
                command = container["livenessProbe"]["exec"]["command"]
                assert command == ["sh", "-c", "find /tmp/heartbeat -mmin -2 | grep -q ."]
            else:
                assert [int(env["PORT"])] == ports
                # The metrics port is the OpenTelemetry exporter's, set per container, never PORT.
                metrics = [p["containerPort"] for p in container["ports"] if p["name"] == "metrics"]
                assert [int(env["OTEL_EXPORTER_PROMETHEUS_PORT"])] == metrics != ports
            assert "livenessProbe" in container
            assert "readinessProbe" in container or "startupProbe" in container


# --------------------------------------------------------------------------- secrets


def test_a_rotation_resyncs_the_secret_and_restarts_every_pod() -> None:
    base, head = run_program("prod"), run_program("prod", {"secrets.rotation": "2027-02"})
    versions = []
    for plan in (base, head):
        (es,) = [r for r in plan.by_type(EXTERNAL_SECRET) if r["name"] == "external-secrets-all"]
        template = es["inputs"]["spec"]["target"]["template"]
        assert template["mergePolicy"] == "Merge" and template["engineVersion"] == "v2"
        ((key, version),) = template["data"].items()
        assert version.startswith("rotation=")
        # Written after the vault's values (the vault component and every secret in it).
        vault_secrets = [r["urn"] for r in plan.resources if r["type"] == "azure-native:keyvault:Secret"]
        assert set(vault_secrets) <= set(es["dependencies"])
        for dep in _objects(plan, "Deployment").values():
            template_meta = dep["spec"]["template"]["metadata"]
            assert template_meta["annotations"]["broxiva.com/secrets-version"] == version
            (container,) = dep["spec"]["template"]["spec"]["containers"]
            ref = next(e for e in container["env"] if e["name"] == "SECRETS_VERSION")
            assert ref["valueFrom"]["secretKeyRef"] == {"name": "broxiva-secrets", "key": key}
        versions.append((key, version))
    assert versions[0] != versions[1] and versions[0][0] != versions[1][0]
    assert "rotation=2027-02" in versions[1][1]
    # Releases are not re-run by a rotation: no Job (gate or migration) changes.
    assert not [c for c in diff(base, head).changed if c.type == JOB]
