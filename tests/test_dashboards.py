"""The dashboards of ``dashboards/``: valid Grafana dashboard JSON, every PromQL query parsed by promtool, every
metric from the platform's contract, every Azure Monitor metric one the data services publish."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from components import monitoring
from components.azure import dashboards

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None and not os.environ.get("CI"), reason="promtool not installed: run bin/install-promtool"
)
SEED_DASHBOARDS = {"api", "web", "database", "redis", "business"}  # seed 002, 5.4
CONTRACT = {
    # The apps (OpenTelemetry semantic conventions through the Prometheus exporter) and business counters.
    "http_server_request_duration_seconds_bucket",
    "db_client_operation_duration_seconds_bucket",
    "db_client_operation_duration_seconds_count",
    "db_client_connection_count",
    "db_client_connection_max",
    "broxiva_orders_total",
    "broxiva_payments_total",
    "broxiva_user_registrations_total",
    # kube-state-metrics and cAdvisor (the add-on's default targets).
    "kube_deployment_status_replicas_available",
    "kube_deployment_spec_replicas",
    "kube_pod_container_status_restarts_total",
    "container_cpu_usage_seconds_total",
    "container_memory_working_set_bytes",
}
RECORDED = {r.record for r in monitoring.recording_rules("ns", {"a": {"blue": 100}})}
AZURE_METRICS = {(m.metric_namespace, m.metric) for m in monitoring.METRIC_ALERTS} | {
    # Published by the services but not alerted on (Azure Monitor supported metrics).
    (monitoring.REDIS_METRICS, "serverLoad"),
    (monitoring.REDIS_METRICS, "connectedclients"),
    (monitoring.REDIS_METRICS, "cachehits"),
    (monitoring.REDIS_METRICS, "cachemisses"),
}
# Grafana's variables, as they expand at query time.
SUBSTITUTIONS = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$namespace": "broxiva-production",
    "$color": "blue|green",
}


def _boards():
    return [(name, dashboards.load(name)) for name in dashboards.NAMES]


def test_the_seed_dashboards_and_the_blue_green_one_exist():
    assert set(dashboards.NAMES) == SEED_DASHBOARDS | {"blue-green"}


@pytest.mark.parametrize("name", dashboards.NAMES)
def test_a_valid_grafana_dashboard(name):
    board = dashboards.load(name)
    assert board["uid"] == f"broxiva-{name}" and len(board["uid"]) <= 40
    assert board["title"].startswith("Broxiva ") and board["schemaVersion"] >= 39
    assert board.get("id") is None  # an id would pin it to one Grafana's database
    assert board["editable"] is False and "broxiva" in board["tags"]
    ids = [p["id"] for p in dashboards.panels(board)]
    assert len(ids) == len(set(ids)) and all(isinstance(i, int) for i in ids)
    cells: set[tuple[int, int]] = set()
    for panel in dashboards.panels(board):
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        covered = {
            (x, y) for x in range(grid["x"], grid["x"] + grid["w"]) for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not covered & cells, f"{name}: {panel['title']} overlaps another panel"
        cells |= covered
        assert panel["type"] in {"timeseries", "stat", "gauge", "table"}
        refs = [t["refId"] for t in panel["targets"]]
        assert refs and len(refs) == len(set(refs))


@pytest.mark.parametrize("name", dashboards.NAMES)
def test_every_data_source_is_a_variable_of_the_dashboard(name):
    board = dashboards.load(name)
    sources = {v["name"]: v["query"] for v in dashboards.variables(board) if v["type"] == "datasource"}
    assert sources.get("datasource") == "prometheus"
    for panel in dashboards.panels(board):
        for ds in [panel["datasource"], *(t.get("datasource") for t in panel["targets"])]:
            if ds is None:
                continue
            variable = re.fullmatch(r"\$\{(\w+)\}", ds["uid"])
            assert variable and variable.group(1) in sources, f"{panel['title']}: {ds}"
            assert ds["type"] == {"prometheus": "prometheus"}.get(
                sources[variable.group(1)], sources[variable.group(1)]
            )


def _expand(expr: str) -> str:
    for variable, value in SUBSTITUTIONS.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"an unknown Grafana variable in {expr}"
    return expr


def _check_with_promtool(expressions: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Each expression as a recording rule: promtool parses every rule's PromQL."""
    assert PROMTOOL is not None, "promtool is required here: bin/install-promtool"
    rules = [{"record": f"dashboard:check_{i}", "expr": expr} for i, expr in enumerate(expressions)]
    path = tmp_path / "queries.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    return subprocess.run([PROMTOOL, "check", "rules", str(path)], capture_output=True, text=True, timeout=120)


@needs_promtool
def test_every_promql_query_parses(tmp_path):
    expressions = [_expand(e) for _, board in _boards() for _, _, e in dashboards.promql_expressions(board)]
    assert len(expressions) > 40
    result = _check_with_promtool(expressions, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(expressions)} rules found" in result.stdout


@needs_promtool
def test_a_broken_query_is_refused(tmp_path):
    assert _check_with_promtool(['sum by (color) (rate(broxiva_orders_total{namespace="x"}[5m])'], tmp_path).returncode


_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "or", "and", "unless", "bool"}


def _metric_names(expr: str) -> set[str]:
    """Identifiers that select series: followed by a selector or a range, or standing alone as an operand."""
    bare = re.sub(r"\{[^}]*\}", "{}", re.sub(r'"[^"]*"', '""', expr))
    bare = re.sub(r"\b(?:by|without|on|ignoring)\s*\([^)]*\)", "", bare)
    found = {m for m in re.findall(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?=\{|\[)", bare)}
    return found - _KEYWORDS


@pytest.mark.parametrize("name", dashboards.NAMES)
def test_every_metric_is_in_the_contract_or_recorded(name):
    for title, _, expr in dashboards.promql_expressions(dashboards.load(name)):
        names = _metric_names(expr)
        assert names, f"{title}: no metric selected in {expr}"
        assert names <= CONTRACT | RECORDED, f"{title}: {sorted(names - CONTRACT - RECORDED)} are no metric we have"


def test_the_metric_check_sees_an_unknown_metric():
    assert _metric_names('sum by (app) (rate(http_requests_total{namespace="x"}[5m]))') == {"http_requests_total"}
    assert not {"http_requests_total"} <= CONTRACT | RECORDED


@pytest.mark.parametrize("name", ["database", "redis"])
def test_azure_panels_query_metrics_the_services_publish(name):
    metrics = dashboards.azure_metrics(dashboards.load(name))
    assert metrics and set(metrics) <= AZURE_METRICS
    namespace = {"database": monitoring.POSTGRES_METRICS, "redis": monitoring.REDIS_METRICS}[name]
    assert {ns for ns, _ in metrics} == {namespace}


def test_blue_green_shows_each_color_and_the_route_weights():
    board = dashboards.load("blue-green")
    queries = [e for _, _, e in dashboards.promql_expressions(board)]
    assert any("broxiva:route_weight" in q for q in queries)
    for recorded in (
        "broxiva:http_requests:rate5m",
        "broxiva:http_error_ratio:rate5m",
        "broxiva:http_request_duration_seconds:p95_5m",
    ):
        split = [q for q in queries if recorded in q]
        assert split and all("by (color)" in q for q in split), recorded
    weights = [p for p in dashboards.panels(board) if any("route_weight" in t["expr"] for t in p["targets"])]
    assert {re.search(r'color="(\w+)"', p["targets"][0]["expr"]).group(1) for p in weights} == {"blue", "green"}  # type: ignore[union-attr]


def test_render_fills_every_constant_and_refuses_a_missing_or_unknown_one():
    values = {"namespace": "broxiva-production", "subscription": "sub", "resource_group": "rg", "redis_cache": "cache"}
    rendered = json.loads(dashboards.render("redis", values))
    filled = {v["name"]: v["query"] for v in rendered["templating"]["list"] if v["type"] == "constant"}
    assert filled == values
    assert dashboards.render("redis", values) == dashboards.render("redis", dict(reversed(list(values.items()))))
    with pytest.raises(ValueError, match=r"redis.*without a value \['redis_cache'\]"):
        dashboards.render("redis", {k: v for k, v in values.items() if k != "redis_cache"})
    with pytest.raises(ValueError, match="values for no constant \\['postgres_server'\\]"):
        dashboards.render("redis", {**values, "postgres_server": "pg"})
