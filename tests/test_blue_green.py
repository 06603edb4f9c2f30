"""Workloads and the blue/green switch: selectors, minimal diffs, refusals, the runbook in test terms."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import STACKS, run_program
from tools.plan import diff as plan_diff
from tools.plan import engine
from tools.plan.render import kubernetes_objects

SERVICE = "kubernetes:core/v1:Service"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"

ROUTED = ("broxiva-api", "broxiva-web")
# Expected from the environment matrix: registry, per-app replicas / HPA, namespace.
MATRIX = {
    "dev": {
        "namespace": "broxiva-development",
        "registry": "ghcr.io/broxiva",
        "api": (1, None),
        "web": (1, None),
        "tags": {"blue": "dev-3f2c1a9", "green": None},
    },
    "staging": {
        "namespace": "broxiva-staging",
        "registry": "ghcr.io/broxiva",
        "api": (2, None),
        "web": (2, None),
        "tags": {"blue": "staging-1.4.2", "green": "staging-1.5.0"},
    },
    "prod": {
        "namespace": "broxiva-production",
        "registry": "broxivaprodacr.azurecr.io",
        "api": (5, (5, 20)),
        "web": (5, (5, 15)),
        "tags": {"blue": "v1.4.2", "green": "v1.5.0"},
    },
}
REQUESTS_LIMITS = {
    ("dev", "broxiva-api"): ({"cpu": "100m", "memory": "256Mi"}, {"cpu": "500m", "memory": "512Mi"}),
    ("dev", "broxiva-web"): ({"cpu": "50m", "memory": "128Mi"}, {"cpu": "250m", "memory": "256Mi"}),
    ("staging", "broxiva-api"): ({"cpu": "250m", "memory": "512Mi"}, {"cpu": "1000m", "memory": "1Gi"}),
    ("staging", "broxiva-web"): ({"cpu": "125m", "memory": "256Mi"}, {"cpu": "500m", "memory": "768Mi"}),
    ("prod", "broxiva-api"): ({"cpu": "500m", "memory": "1Gi"}, {"cpu": "2000m", "memory": "2Gi"}),
    ("prod", "broxiva-web"): ({"cpu": "250m", "memory": "512Mi"}, {"cpu": "1000m", "memory": "1536Mi"}),
}
PROBES = {
    "broxiva-api": ("/api/health/live", "/api/health/ready", 4000),
    "broxiva-web": ("/api/health", "/api/health", 3000),
}


def _objects(plan: engine.Plan, kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in kubernetes_objects(plan) if o["kind"] == kind}


def _selectors(plan: engine.Plan) -> dict[str, dict]:
    return {name: svc["spec"]["selector"] for name, svc in _objects(plan, "Service").items()}


@pytest.mark.parametrize(
    ("stack", "active"),
    [("dev", "blue"), ("staging", "blue"), ("staging", "green"), ("prod", "blue"), ("prod", "green")],
)
def test_stable_selects_the_active_color_and_preview_the_idle_one(stack: str, active: str) -> None:
    plan = run_program(stack, {"activeColor": active})
    idle = {"blue": "green", "green": "blue"}[active]
    selectors = _selectors(plan)
    for app in ROUTED:
        assert selectors[app] == {"app": app, "color": active}
        assert selectors[f"{app}-preview"] == {"app": app, "color": idle}
    assert plan.outputs["activeColor"] == active


@pytest.mark.parametrize("stack", STACKS)
def test_deployments_per_color(stack: str) -> None:
    plan = run_program(stack)
    expected = MATRIX[stack]
    deployments = _objects(plan, "Deployment")
    for app in (*ROUTED, "broxiva-worker"):
        for color, tag in expected["tags"].items():
            name = f"{app}-{color}"
            if tag is None:
                assert name not in deployments
                continue
            dep = deployments[name]
            assert dep["metadata"]["namespace"] == expected["namespace"]
            assert dep["spec"]["selector"]["matchLabels"] == {"app": app, "color": color}
            labels = dep["spec"]["template"]["metadata"]["labels"]
            assert labels["app"] == app and labels["color"] == color
            pod = dep["spec"]["template"]["spec"]
            (container,) = pod["containers"]
            image = "broxiva-api" if app == "broxiva-worker" else app
            assert container["image"] == f"{expected['registry']}/{image}:{tag}"
            assert container["envFrom"] == [
                {"configMapRef": {"name": "broxiva-config"}},
                {"secretRef": {"name": "broxiva-secrets"}},
            ]
            sc = container["securityContext"]
            assert sc["runAsNonRoot"] and not sc["allowPrivilegeEscalation"] and sc["readOnlyRootFilesystem"]
            assert sc["capabilities"] == {"drop": ["ALL"]} and sc["seccompProfile"] == {"type": "RuntimeDefault"}
            assert pod["securityContext"]["runAsNonRoot"] is True
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert "/tmp" in mounts
            assert {v["name"] for v in pod["volumes"]} == {m["name"] for m in container["volumeMounts"]}
            zones = [c for c in pod["topologySpreadConstraints"] if c["topologyKey"] == "topology.kubernetes.io/zone"]
            assert bool(zones) == (stack == "prod")
            assert pod["terminationGracePeriodSeconds"] >= 30
            if app in PROBES:
                live, ready, port = PROBES[app]
                assert container["ports"] == [
                    {"containerPort": port, "name": "http", "protocol": "TCP"},
                    {"containerPort": 9464, "name": "metrics", "protocol": "TCP"},
                ]
                assert container["livenessProbe"]["httpGet"]["path"] == live
                assert container["readinessProbe"]["httpGet"]["path"] == ready
                assert container["startupProbe"]["httpGet"]["path"] == ready
                assert container["lifecycle"]["preStop"]["sleep"]["seconds"] > 0
                requests, limits = REQUESTS_LIMITS[(stack, app)]
                assert container["resources"] == {"requests": requests, "limits": limits}
            if stack != "prod":
                assert pod["imagePullSecrets"] == [{"name": "registry-pull-secret"}]
            else:
                assert "imagePullSecrets" not in pod


@pytest.mark.parametrize("stack", STACKS)
def test_replicas_hpa_and_pdb(stack: str) -> None:
    plan = run_program(stack)
    deployments, hpas, pdbs = (
        _objects(plan, "Deployment"),
        _objects(plan, "HorizontalPodAutoscaler"),
        _objects(plan, "PodDisruptionBudget"),
    )
    for app, key in (("broxiva-api", "api"), ("broxiva-web", "web")):
        replicas, hpa = MATRIX[stack][key]
        name = f"{app}-blue"
        if hpa is None:
            assert deployments[name]["spec"]["replicas"] == replicas
            assert name not in hpas
        else:
            assert "replicas" not in deployments[name]["spec"]  # the HPA owns it
            assert (hpas[name]["spec"]["minReplicas"], hpas[name]["spec"]["maxReplicas"]) == hpa
            assert hpas[name]["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert (name in pdbs) == (stack == "prod")


def test_a_color_that_is_not_running_is_scaled_to_zero_without_hpa() -> None:
    plan = run_program("prod", {"colors.green.running": "false"})
    deployments, hpas = _objects(plan, "Deployment"), _objects(plan, "HorizontalPodAutoscaler")
    for app in (*ROUTED, "broxiva-worker"):
        green = deployments[f"{app}-green"]
        assert green["spec"]["replicas"] == 0
        # The HPA sized it before: taking the replica count back needs server-side apply's force.
        assert green["metadata"]["annotations"] == {"pulumi.com/patchForce": "true"}
        assert f"{app}-green" not in hpas
        assert f"{app}-blue" in hpas
        assert "annotations" not in deployments[f"{app}-blue"]["metadata"]
    # No migrations for a color that does not run.
    assert set(_objects(plan, "Job")) == {
        "broxiva-api-migrate-blue-v1-4-2",
        "broxiva-api-gate-blue-v1-4-2",
        "broxiva-web-gate-blue-v1-4-2",
    }


def test_force_is_only_where_an_hpa_owned_the_replicas() -> None:
    for stack in STACKS:
        for dep in _objects(run_program(stack), "Deployment").values():
            forced = (dep["metadata"].get("annotations") or {}).get("pulumi.com/patchForce") == "true"
            # The workers autoscale in staging and prod: the idle color's is scaled down from its HPA's count.
            # Nothing else is forced (dev has no HPA; the apps' idle colors keep theirs).
            assert forced == (stack != "dev" and dep["metadata"]["name"] == "broxiva-worker-green")


def _diff(stack: str, base_sets: dict | None, head_sets: dict | None) -> plan_diff.PlanDiff:
    return plan_diff.diff(run_program(stack, base_sets), run_program(stack, head_sets))


def _changes(result: plan_diff.PlanDiff) -> dict[tuple[str, str], set[str]]:
    """(type, logical name) -> the changed paths, ``+``/``-`` for added and removed resources."""
    out = {(c.type, c.name): {p for p, _, _ in c.paths} - {"<dependencies>"} for c in result.changed}
    out.update({(r["type"], r["name"]): {"+"} for r in result.added})
    out.update({(r["type"], r["name"]): {"-"} for r in result.removed})
    return out


JOB = "kubernetes:batch/v1:Job"
WEIGHTS = {"spec.rules[0].backendRefs[0].weight", "spec.rules[0].backendRefs[1].weight"}
RULE_GROUP = "azure-native:alertsmanagement:PrometheusRuleGroup"
# The recording rules state each route's weight per color (broxiva:route_weight, the blue/green dashboard's):
# rules 6-9, after the six rate and latency rules.
RECORDED_WEIGHTS = {(RULE_GROUP, "prometheus-recording-rules"): {f"rules[{i}].expression" for i in range(6, 10)}}


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_a_switch_changes_routes_selectors_gates_and_worker_replicas_only(stack: str) -> None:
    changes = _changes(_diff(stack, None, {"activeColor": "green"}))
    expected = {
        **{(ROUTE, f"routes-{app}"): WEIGHTS for app in ROUTED},
        **{(SERVICE, f"{app}-{role}"): {"spec.selector.color"} for app in ROUTED for role in ("stable", "preview")},
        # The gate Jobs' logical names are per color; the engine creates green's and deletes blue's.
        **{(JOB, f"{app}-gate-green"): {"+"} for app in ROUTED},
        **{(JOB, f"{app}-gate-blue"): {"-"} for app in ROUTED},
        **RECORDED_WEIGHTS,
    }
    workers = {k: v for k, v in changes.items() if k[1].startswith("broxiva-worker")}
    assert {k: v for k, v in changes.items() if k not in workers} == expected
    # Autoscaled workers: green takes the HPA, blue is scaled to zero (forced) and its HPA goes.
    assert workers == {
        (DEPLOYMENT, "broxiva-worker-green"): {"spec.replicas", "metadata.annotations"},
        (HPA, "broxiva-worker-green-hpa"): {"+"},
        (DEPLOYMENT, "broxiva-worker-blue"): {"spec.replicas", "metadata.annotations"},
        (HPA, "broxiva-worker-blue-hpa"): {"-"},
    }


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_rolling_back_restores_exactly_the_previous_plan(stack: str) -> None:
    assert _diff(stack, None, {"activeColor": "blue"}).empty
    assert plan_diff.diff(run_program(stack), run_program(stack, {"activeColor": "blue"})).empty
    back = _diff(stack, {"activeColor": "green"}, None)
    assert {c.type for c in back.changed} <= {SERVICE, ROUTE, DEPLOYMENT, RULE_GROUP}
    assert {r["type"] for r in back.added + back.removed} <= {JOB, HPA}


@pytest.mark.parametrize(("before", "after"), [(10, 25), (25, 50), (50, 100), (100, 5)])
def test_a_canary_step_changes_only_the_routes(before: int, after: int) -> None:
    changes = _changes(_diff("prod", {"canaryWeight": str(before)}, {"canaryWeight": str(after)}))
    assert changes == {**{(ROUTE, f"routes-{app}"): WEIGHTS for app in ROUTED}, **RECORDED_WEIGHTS}
    routes = _objects(run_program("prod", {"canaryWeight": str(after)}), "HTTPRoute")
    for app in ROUTED:
        refs = routes[app]["spec"]["rules"][0]["backendRefs"]
        assert [(r["name"], r["weight"]) for r in refs] == [(f"{app}-blue", 100 - after), (f"{app}-green", after)]


def test_starting_a_canary_gates_the_idle_color_first() -> None:
    changes = _changes(_diff("prod", None, {"canaryWeight": "5"}))
    assert changes == {
        **{(ROUTE, f"routes-{app}"): WEIGHTS for app in ROUTED},
        **{(JOB, f"{app}-gate-green"): {"+"} for app in ROUTED},
        **RECORDED_WEIGHTS,
    }
    plan = run_program("prod", {"canaryWeight": "5"})
    for app in ROUTED:
        route = plan.one(ROUTE, f"routes-{app}")
        assert plan.one(JOB, f"{app}-gate-green")["urn"] in route["dependencies"]


def test_a_release_to_the_idle_color_touches_only_that_colors_deployments_and_migration() -> None:
    changes = _changes(_diff("prod", None, {"colors.green.tag": "v1.5.1"}))
    assert set(changes) == {(DEPLOYMENT, f"{app}-green") for app in (*ROUTED, "broxiva-worker")} | {
        (JOB, "migrations-broxiva-api-green")
    }
    # A new name: the engine creates the new release's Job and deletes the old one (Job templates are immutable).
    assert "metadata.name" in changes[(JOB, "migrations-broxiva-api-green")]


@pytest.mark.parametrize(
    ("stack", "sets", "key", "fragment"),
    [
        ("prod", {"colors.green.running": "false", "activeColor": "green"}, "activeColor", "must name a running color"),
        ("dev", {"activeColor": "green"}, "activeColor", "must name a running color"),
        ("dev", {"colors.green.running": "true"}, "colors.green.tag", "is required while the color is running"),
        ("prod", {"colors.green.tag": "latest"}, "colors.green.tag", "'latest' is never deployed"),
        ("prod", {"colors.green.tag": "1.5.0"}, "colors.green.tag", "must be a tag matching"),
        (
            "prod",
            {"colors.green.running": "false", "canaryWeight": "10"},
            "canaryWeight",
            "idle color (green) is not running",
        ),
        ("prod", {"canaryWeight": "150"}, "canaryWeight", "less than or equal to 100"),
    ],
)
def test_unsafe_switches_are_refused_before_anything_changes(stack: str, sets: dict, key: str, fragment: str) -> None:
    with pytest.raises(engine.ProgramConfigError) as err:
        run_program(stack, sets)
    assert f"broxiva-platform:{key} = " in str(err.value) and fragment in str(err.value)


# docs/RUNBOOK.md on prod, in order: each step starts from the stack the previous one left.
RUNBOOK_STEPS: list[tuple[str, dict[str, str]]] = [
    ("release", {"colors.green.tag": "v1.6.0"}),
    ("canary-5", {"canaryWeight": "5"}),
    ("canary-25", {"canaryWeight": "25"}),
    ("canary-50", {"canaryWeight": "50"}),
    ("canary-100", {"canaryWeight": "100"}),
    ("promote", {"activeColor": "green", "canaryWeight": "0"}),
    ("rollback", {"activeColor": "blue"}),
    ("forward-again", {"activeColor": "green"}),
    ("scale-down", {"colors.blue.running": "false"}),
]


def _runbook_state(upto: int) -> dict[str, str]:
    state: dict[str, str] = {}
    for _, changes in RUNBOOK_STEPS[:upto]:
        state.update(changes)
    return state


def _kinds(changes: dict[tuple[str, str], set[str]]) -> set[str]:
    return {typ for typ, _ in changes}


@pytest.mark.parametrize("index", range(len(RUNBOOK_STEPS)), ids=[name for name, _ in RUNBOOK_STEPS])
def test_the_runbook_end_to_end(index: int) -> None:
    """docs/RUNBOOK.md on prod: release to green, canary, promote, roll back while warm, scale blue down."""
    name, _ = RUNBOOK_STEPS[index]
    changes = _changes(
        plan_diff.diff(run_program("prod", _runbook_state(index)), run_program("prod", _runbook_state(index + 1)))
    )
    if name == "release":
        # Green's migrations run (a new Job), then green's Deployments roll out; no traffic moves.
        assert _kinds(changes) == {DEPLOYMENT, JOB}
    elif name == "canary-5":
        # Green's gates run first, then the routes give it a share.
        assert _kinds(changes) == {ROUTE, JOB, RULE_GROUP}
    elif name.startswith("canary-"):
        # The routes, and the recorded weights the blue/green dashboard shows.
        assert _kinds(changes) == {ROUTE, RULE_GROUP}
    elif name == "promote":
        # Green already takes all the traffic; the Services and the workers follow, blue's gates go.
        assert _kinds(changes) == {SERVICE, JOB, DEPLOYMENT, HPA}
        assert {n for (typ, n), paths in changes.items() if typ == JOB} == {f"{a}-gate-blue" for a in ROUTED}
    elif name == "rollback":
        # While blue is warm: blue's gates run again before the traffic returns.
        assert _kinds(changes) == {SERVICE, ROUTE, JOB, DEPLOYMENT, HPA, RULE_GROUP}
    elif name == "forward-again":
        assert _kinds(changes) == {SERVICE, ROUTE, JOB, DEPLOYMENT, HPA, RULE_GROUP}
    else:
        # Blue's Deployments to zero (forced where an HPA sized them), its HPAs and migrations go.
        assert {n for (typ, n) in changes if typ == DEPLOYMENT} == {f"{a}-blue" for a in ROUTED}
        assert _kinds(changes) == {DEPLOYMENT, HPA, JOB}
        assert all(paths == {"-"} for (typ, _), paths in changes.items() if typ in (HPA, JOB))


def test_the_runbook_ends_on_green_and_blue_is_cold() -> None:
    state = _runbook_state(len(RUNBOOK_STEPS))
    final = run_program("prod", state)
    assert final.outputs["activeColor"] == "green" and final.outputs["colorTags"]["green"] == "v1.6.0"
    assert final.outputs["canaryWeight"] == 0
    # Blue is cold now: rolling back to it is refused until it runs again.
    with pytest.raises(engine.ProgramConfigError, match="must name a running color"):
        run_program("prod", {**state, "activeColor": "blue"})


@pytest.mark.parametrize("stack", STACKS)
def test_routes(stack: str) -> None:
    plan = run_program(stack)
    routes = _objects(plan, "HTTPRoute")
    gateway = next(iter(_objects(plan, "Gateway").values()))
    listeners = {listener["name"]: listener.get("hostname") for listener in gateway["spec"]["listeners"]}
    hosts = {
        "dev": ("api-dev.broxiva.com", "dev.broxiva.com", "admin-dev.broxiva.com"),
        "staging": ("api-staging.broxiva.com", "staging.broxiva.com", "admin-staging.broxiva.com"),
        "prod": ("api.broxiva.com", "broxiva.com", "admin.broxiva.com"),
    }[stack]
    assert routes["broxiva-api"]["spec"]["hostnames"] == [hosts[0]]
    assert routes["broxiva-web"]["spec"]["hostnames"] == [hosts[1], hosts[2]]
    for name in ROUTED:
        for ref in routes[name]["spec"]["parentRefs"]:
            assert ref["name"] == "broxiva-gateway"
            assert listeners[ref["sectionName"]] in routes[name]["spec"]["hostnames"]
            assert ref["sectionName"].startswith("https-")
    if stack == "prod":
        (rule,) = routes["www-redirect"]["spec"]["rules"]
        assert routes["www-redirect"]["spec"]["hostnames"] == ["www.broxiva.com"]
        assert rule["filters"][0]["requestRedirect"] == {
            "scheme": "https",
            "hostname": "broxiva.com",
            "statusCode": 301,
        }
    else:
        assert "www-redirect" not in routes


@pytest.mark.parametrize("stack", STACKS)
def test_release_outputs(stack: str) -> None:
    outputs = run_program(stack).outputs
    assert outputs["colorTags"] == MATRIX[stack]["tags"]
    assert outputs["canaryWeight"] == 0 and outputs["activeColor"] == "blue"


def test_the_runbook_names_the_jobs_the_plan_declares() -> None:
    runbook = (Path(__file__).resolve().parents[1] / "docs" / "RUNBOOK.md").read_text()
    named = set(re.findall(r"broxiva-[a-z]+-(?:gate|migrate)-(?:blue|green)-v[0-9-]+[0-9]", runbook))
    assert named, "the runbook names no release Job"
    declared = set(_objects(run_program("prod", {"canaryWeight": "5"}), "Job"))
    assert named <= declared
    # The waiting it describes: a traffic change depends on a gate, never on an unchanged Deployment alone.
    assert "Pulumi waits for the green Deployments to be ready before it moves a selector" not in runbook
    assert "restart the Deployments afterwards" not in runbook
