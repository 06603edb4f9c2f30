"""The Prometheus rule groups each stack declares, exported to rule files and checked by the real promtool:
``check rules`` on every group, ``test rules`` with synthetic series for every alert, above its threshold
(it fires, with its labels and annotations) and below it (silent)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from components import monitoring
from tests.conftest import run_program
from tools.plan import promrules

PROMTOOL = shutil.which("promtool")
# Skipped on a machine without promtool (bin/install-promtool installs it); never in CI, where it must run.
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None and not os.environ.get("CI"), reason="promtool not installed: run bin/install-promtool"
)
NS = "broxiva-production"
AZURE_GROUPS = ("NodeRecordingRulesRuleGroup", "KubernetesRecordingRulesRuleGroup")


@pytest.fixture(scope="module")
def prod_groups() -> dict[str, dict[str, Any]]:
    return promrules.rule_groups(run_program("prod").resources)


def _promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None, "promtool is required here: bin/install-promtool"
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("stack", "expected"),
    [
        ("dev", set()),
        ("staging", {"broxiva-staging-aks-recording", *(f"{g}-broxiva-staging-aks" for g in AZURE_GROUPS)}),
        (
            "prod",
            {"broxiva-prod-aks-recording", "broxiva-prod-aks-alerts", *(f"{g}-broxiva-prod-aks" for g in AZURE_GROUPS)},
        ),
    ],
)
def test_rule_groups_follow_the_monitoring_level(stack, expected):
    assert set(promrules.rule_groups(run_program(stack).resources)) == expected


def test_azures_recommended_recording_rules_are_declared_as_its_template_has_them(prod_groups):
    node = prod_groups["NodeRecordingRulesRuleGroup-broxiva-prod-aks"]["rules"]
    kubernetes = prod_groups["KubernetesRecordingRulesRuleGroup-broxiva-prod-aks"]["rules"]
    # The template's counts (Azure/prometheus-collector AddonBicepTemplate/FullAzureMonitorMetricsProfile.bicep).
    assert (len(node), len(kubernetes)) == (11, 19)
    assert node[0] == {
        "record": "instance:node_num_cpu:sum",
        "expr": 'count without (cpu, mode) (  node_cpu_seconds_total{job="node",mode="idle"})',
    }
    workloads = [
        r["labels"]["workload_type"]
        for r in kubernetes
        if r["record"] == "namespace_workload_pod:kube_pod_owner:relabel"
    ]
    assert workloads == ["deployment", "daemonset", "statefulset", "job"]


SEED_ALERTS = {
    # seed 002 "Critical alerts" -> (rule, threshold as written in its expression)
    "API pod down": ("ApiPodDown", "> 0"),
    "Web pod down": ("WebPodDown", "> 0"),
    "Database connection failures": ("DatabaseConnectionFailures", "> 0"),
    "Redis connection failures": ("RedisConnectionFailures", "> 0"),
    "High error rate (>5%)": ("HighErrorRate", "> 0.05"),
    "High response time (>1s p95)": ("HighLatencyP95", "p95_5m"),
    "External secrets sync failed": ("ExternalSecretSyncFailed", 'status="False"'),
    "Certificate expiring (<30 days)": ("CertificateExpiringSoon", "< 30 * 86400"),
}


@pytest.mark.parametrize("seed_name", sorted(SEED_ALERTS))
def test_every_seed_alert_exists_in_prod_with_its_threshold(prod_groups, seed_name):
    rule_name, threshold = SEED_ALERTS[seed_name]
    alerts = {r["alert"]: r for r in prod_groups["broxiva-prod-aks-alerts"]["rules"]}
    assert rule_name in alerts, f"{seed_name}: no rule {rule_name}"
    assert threshold in alerts[rule_name]["expr"]
    assert alerts[rule_name]["annotations"]["summary"]


def test_p95_alert_threshold_is_one_second(prod_groups):
    alerts = {r["alert"]: r for r in prod_groups["broxiva-prod-aks-alerts"]["rules"]}
    assert alerts["HighLatencyP95"]["expr"].endswith("> 1")


def test_every_rule_names_where_its_metrics_come_from(prod_groups):
    for rule in prod_groups["broxiva-prod-aks-alerts"]["rules"]:
        read = monitoring.series_read(rule["expr"])
        assert read, rule["alert"]
        for series in read:
            assert series in monitoring.METRIC_SOURCES, f"{rule['alert']} reads {series}, of no known source"
        assert rule["annotations"]["source"] in {monitoring.METRIC_SOURCES[s] for s in read}


def test_rules_select_only_the_stacks_namespace(prod_groups):
    for group in (prod_groups["broxiva-prod-aks-recording"], prod_groups["broxiva-prod-aks-alerts"]):
        for rule in group["rules"]:
            for selector in re.findall(r"\{[^}]*\}", rule["expr"]):
                if "$labels" not in selector:
                    assert f'namespace="{NS}"' in selector, (rule, selector)


@needs_promtool
@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_promtool_check_rules(stack, tmp_path):
    groups = promrules.rule_groups(run_program(stack).resources)
    path = tmp_path / "rules.yaml"
    path.write_text(promrules.rule_file(list(groups.values())))
    result = _promtool("check", "rules", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {sum(len(g['rules']) for g in groups.values())} rules found" in result.stdout


@needs_promtool
def test_promtool_check_rules_can_fail(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(promrules.rule_file([{"name": "bad", "rules": [{"alert": "Bad", "expr": "sum(rate(x[5m])"}]}]))
    assert _promtool("check", "rules", str(path), cwd=tmp_path).returncode != 0


# ------------------------------------------------------------------ promtool test rules


def s(metric: str, /, **labels: str) -> str:
    inner = ", ".join(f'{k}="{v}"' for k, v in {"namespace": NS, **labels}.items())
    return f"{metric}{{{inner}}}"


@dataclass(frozen=True)
class Case:
    alert: str
    series: dict[str, str]
    """series -> promtool values"""
    eval_time: str
    fires: list[dict[str, str]] = field(default_factory=list)
    """Labels of each expected alert (rule labels added by the test); empty: silent."""


API = {"app": "broxiva-api"}
GREEN = {**API, "color": "green"}
BLUE = {**API, "color": "blue"}
HTTP = "http_server_request_duration_seconds"


def _requests(labels: dict[str, str], ok: int, errors: int) -> dict[str, str]:
    out = {s(f"{HTTP}_count", **labels, http_response_status_code="200"): f"0+{ok}x20"}
    if errors:
        out[s(f"{HTTP}_count", **labels, http_response_status_code="500")] = f"0+{errors}x20"
    return out


def _histogram(labels: dict[str, str], counts: dict[str, int]) -> dict[str, str]:
    return {s(f"{HTTP}_bucket", **labels, le=le): f"0+{n}x20" for le, n in counts.items()}


def _db(system: str, error: str) -> dict[str, str]:
    return {s("db_client_operation_duration_seconds_count", **GREEN, db_system_name=system, error_type=error): "0+5x20"}


def _deployment(app: str, spec: int, available: int) -> dict[str, str]:
    name = f"{app}-green"
    return {
        s("kube_deployment_spec_replicas", deployment=name): f"{spec}x20",
        s("kube_deployment_status_replicas_available", deployment=name): f"{available}x20",
    }


DAY = 86400
CASES = [
    Case("ApiPodDown", _deployment("broxiva-api", 5, 4), "10m", [{"deployment": "broxiva-api-green"}]),
    Case("ApiPodDown", _deployment("broxiva-api", 5, 5), "10m"),
    Case("WebPodDown", _deployment("broxiva-web", 5, 3), "10m", [{"deployment": "broxiva-web-green"}]),
    Case("WebPodDown", _deployment("broxiva-web", 0, 0), "10m"),  # a stopped color is not down
    Case("DatabaseConnectionFailures", _db("postgresql", "ECONNREFUSED"), "10m", [GREEN]),
    Case("DatabaseConnectionFailures", _db("postgresql", "QueryFailedError"), "10m"),  # not a connection error
    Case("DatabaseConnectionFailures", _db("redis", "ECONNREFUSED"), "10m"),  # another system
    Case("RedisConnectionFailures", _db("redis", "ETIMEDOUT"), "10m", [GREEN]),
    Case("RedisConnectionFailures", _db("redis", "ReplyError"), "10m"),
    # 10 % of green's requests fail while blue is clean: only the canary's color alerts.
    Case("HighErrorRate", {**_requests(GREEN, 90, 10), **_requests(BLUE, 100, 0)}, "10m", [GREEN]),
    Case("HighErrorRate", {**_requests(GREEN, 98, 2), **_requests(BLUE, 100, 0)}, "10m"),
    Case("HighErrorRate", {**_requests(GREEN, 94, 6)}, "10m", [GREEN]),
    Case("HighLatencyP95", _histogram(GREEN, {"0.5": 10, "1": 20, "2.5": 100, "+Inf": 100}), "10m", [GREEN]),
    Case("HighLatencyP95", _histogram(GREEN, {"0.5": 90, "1": 100, "2.5": 100, "+Inf": 100}), "10m"),
    Case(
        "ExternalSecretSyncFailed",
        {s("externalsecret_status_condition", name="broxiva-all-secrets", condition="Ready", status="False"): "1x30"},
        "15m",
        [{"name": "broxiva-all-secrets", "condition": "Ready", "status": "False"}],
    ),
    Case(
        "ExternalSecretSyncFailed",
        {s("externalsecret_status_condition", name="broxiva-all-secrets", condition="Ready", status="False"): "0x30"},
        "15m",
    ),
    Case(
        "CertificateExpiringSoon",
        {
            s(
                "certmanager_certificate_expiration_timestamp_seconds", name="broxiva-web-tls-production"
            ): f"{20 * DAY}x150"
        },
        "2h",
        [{"name": "broxiva-web-tls-production"}],
    ),
    Case(
        "CertificateExpiringSoon",
        {
            s(
                "certmanager_certificate_expiration_timestamp_seconds", name="broxiva-web-tls-production"
            ): f"{40 * DAY}x150"
        },
        "2h",
    ),
    Case(
        "PodRestarting",
        {s("kube_pod_container_status_restarts_total", pod="broxiva-api-green-7d9f", container="api"): "0+1x20"},
        "16m",
        [{"pod": "broxiva-api-green-7d9f", "container": "api"}],
    ),
    Case(
        "PodRestarting",
        {
            s("kube_pod_container_status_restarts_total", pod="broxiva-api-green-7d9f", container="api"): (
                "0 0 0 0 0 1 1 1 1 1 2 2 2 2 2 2 2 2 2 2"
            )
        },
        "16m",
    ),
]


def _expand(template: str, labels: dict[str, str]) -> str:
    return re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels.get(m.group(1), ""), template)


def _unit_test(case: Case, rule: dict[str, Any]) -> dict[str, Any]:
    expected = []
    for labels in case.fires:
        full = {"namespace": NS, **labels, **rule.get("labels", {})}
        expected.append(
            {"exp_labels": full, "exp_annotations": {k: _expand(v, full) for k, v in rule["annotations"].items()}}
        )
    return {
        "interval": "1m",
        "input_series": [{"series": k, "values": v} for k, v in case.series.items()],
        "alert_rule_test": [{"eval_time": case.eval_time, "alertname": case.alert, "exp_alerts": expected}],
    }


def test_every_prod_alert_has_a_firing_and_a_silent_case(prod_groups):
    alerts = {r["alert"] for r in prod_groups["broxiva-prod-aks-alerts"]["rules"]}
    assert {c.alert for c in CASES if c.fires} == alerts
    assert {c.alert for c in CASES if not c.fires} == alerts


def _run_cases(groups: dict[str, dict[str, Any]], cases: list[Case], tmp_path: Path) -> subprocess.CompletedProcess:
    (tmp_path / "rules.yaml").write_text(promrules.rule_file(list(groups.values())))
    rules = {r["alert"]: r for g in groups.values() for r in g["rules"] if "alert" in r}
    tests = {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [_unit_test(case, rules[case.alert]) for case in cases],
    }
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(tests, sort_keys=False))
    return _promtool("test", "rules", "tests.yaml", cwd=tmp_path)


@needs_promtool
def test_promtool_test_rules_fire_above_and_stay_silent_below_each_threshold(prod_groups, tmp_path):
    result = _run_cases(prod_groups, CASES, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@needs_promtool
@pytest.mark.parametrize("index", [*[i for i, c in enumerate(CASES) if c.fires][:3], 1])
def test_promtool_test_rules_can_fail(prod_groups, tmp_path, index):
    """A firing case expected silent (or a silent one expected to fire) fails the same run."""
    case = CASES[index]
    flipped = Case(case.alert, case.series, case.eval_time, [] if case.fires else [GREEN])
    assert _run_cases(prod_groups, [flipped], tmp_path).returncode != 0


def test_duration_conversion():
    assert promrules.prometheus_duration("PT5M") == "300s"
    assert promrules.prometheus_duration("PT1H") == "3600s"
    assert promrules.prometheus_duration("PT1H30M10S") == "5410s"
    with pytest.raises(ValueError):
        promrules.prometheus_duration("5m")


@pytest.mark.parametrize(
    ("weight_set", "blue", "green"),
    [({}, 100, 0), ({"canaryWeight": "25"}, 75, 25), ({"activeColor": "green"}, 0, 100)],
)
def test_route_weight_recording_rules_follow_the_traffic(weight_set, blue, green):
    groups = promrules.rule_groups(run_program("prod", weight_set).resources)
    weights = {
        (r["labels"]["app"], r["labels"]["color"]): r["expr"]
        for r in groups["broxiva-prod-aks-recording"]["rules"]
        if r.get("record") == "broxiva:route_weight"
    }
    assert weights[("broxiva-api", "blue")] == f"vector({blue})"
    assert weights[("broxiva-web", "green")] == f"vector({green})"
