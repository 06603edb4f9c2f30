"""The dashboards of ``dashboards/``: valid Grafana dashboard JSON, every PromQL query parsed by promtool, every
metric from the platform's contract, every Azure Monitor metric one the data services publish."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

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
    "http_server_request_duration_seconds_count",
    "http_server_request_duration_seconds_sum",
    "db_client_operation_duration_seconds_bucket",
    "db_client_operation_duration_seconds_count",
    "db_client_operation_duration_seconds_sum",
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
    # The platform's recording rules (components/monitoring.py).
    "broxiva:http_requests:rate5m",
    "broxiva:http_errors:rate5m",
    "broxiva:http_error_ratio:rate5m",
    "broxiva:http_request_duration_seconds:p50_5m",
    "broxiva:http_request_duration_seconds:p95_5m",
    "broxiva:http_request_duration_seconds:p99_5m",
    "broxiva:route_weight",
}
# What Azure Monitor's supported-metrics reference lists for each resource type.
POSTGRES_METRICS = {"cpu_percent", "memory_percent", "storage_percent", "active_connections", "connections_failed"}
REDIS_METRICS = {
    "usedmemorypercentage",
    "serverLoad",
    "percentProcessorTime",
    "connectedclients",
    "cachehits",
    "cachemisses",
    "evictedkeys",
}
# Dashboard -> (metric namespace, its metrics, the constant naming the resource).
AZURE = {
    "database": (monitoring.POSTGRES_METRICS, POSTGRES_METRICS, "postgres_server"),
    "redis": (monitoring.REDIS_METRICS, REDIS_METRICS, "redis_cache"),
}
PANEL_TYPES = {"timeseries", "stat", "gauge"}
DATA_SOURCES = {"prometheus": "prometheus", "azure": "grafana-azure-monitor-datasource"}
# Grafana's variables as they expand at query time; longest first, so ${color:regex} is not read as $color.
SUBSTITUTIONS = {
    "${color:regex}": "blue|green",
    "${color}": "blue|green",
    "$color": "blue|green",
    "${namespace}": "broxiva-production",
    "$namespace": "broxiva-production",
    "$__rate_interval": "5m",
    "$__interval": "5m",
}


def _boards() -> list[tuple[str, dict[str, Any]]]:
    return [(name, dashboards.load(name)) for name in dashboards.NAMES]


def _variables(board: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in dashboards.variables(board)}


def test_the_seed_dashboards_and_the_blue_green_one_exist():
    assert set(dashboards.NAMES) == SEED_DASHBOARDS | {"blue-green"}
    assert list(dashboards.NAMES) == sorted(dashboards.NAMES)


def test_the_recorded_series_the_dashboards_may_read_are_the_ones_the_rules_record():
    recorded = {r.record for r in monitoring.recording_rules("ns", {"broxiva-api": {"blue": 100}})}
    assert {name for name in CONTRACT if ":" in name} == recorded


@pytest.mark.parametrize("name", dashboards.NAMES)
def test_a_valid_grafana_dashboard(name):
    text = (dashboards.DASHBOARD_DIR / f"{name}.json").read_text()
    board = json.loads(text)
    assert board["uid"] == f"broxiva-{name}" and len(board["uid"]) <= 40
    assert board["title"].startswith("Broxiva ") and board["schemaVersion"] == 39
    assert board.get("id") is None  # an id would pin it to one Grafana's database
    assert board["editable"] is False and board["tags"] == ["broxiva"]
    assert board["time"] == {"from": "now-6h", "to": "now"} and board["refresh"] == "1m"
    assert board["panels"] and all(p["type"] in PANEL_TYPES for p in dashboards.panels(board))


def test_uids_are_unique():
    uids = [board["uid"] for _, board in _boards()]
    assert len(uids) == len(set(uids))


@pytest.mark.parametrize("name", dashboards.NAMES)
def test_the_variables(name):
    variables = _variables(dashboards.load(name))
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    expected = {"namespace"} | ({"subscription", "resource_group", AZURE[name][2]} if name in AZURE else set())
    assert set(dashboards.constants(dashboards.load(name))) == expected
    for constant in expected:
        # Empty and hidden: provisioning fills it, and no one should pick another value.
        assert variables[constant]["query"] == "" and variables[constant]["hide"] == 2, constant
    if name in AZURE:
        assert variables["azure"]["type"] == "datasource"
        assert variables["azure"]["query"] == "grafana-azure-monitor-datasource"
    else:
        assert "azure" not in variables
    if "color" in variables:
        color = variables["color"]
        assert color["type"] == "custom" and color["query"] == "blue,green"
        assert color["includeAll"] is True and color["multi"] is True


@pytest.mark.parametrize("name", dashboards.NAMES)
def test_panels_have_unique_ids_and_do_not_overlap(name):
    board = dashboards.load(name)
    ids = [p["id"] for p in dashboards.panels(board)]
    assert all(type(i) is int for i in ids) and len(ids) == len(set(ids))
    cells: dict[tuple[int, int], str] = {}
    for panel in dashboards.panels(board):
        grid = panel["gridPos"]
        assert all(type(grid[k]) is int for k in "hwxy") and grid["h"] > 0 and grid["w"] > 0, panel["title"]
        assert grid["x"] >= 0 and grid["y"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"{name}: {panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]


@pytest.mark.parametrize("name", dashboards.NAMES)
def test_every_target_has_a_ref_id_and_a_data_source_variable(name):
    board = dashboards.load(name)
    sources = {v["name"]: v["query"] for v in dashboards.variables(board) if v["type"] == "datasource"}
    for panel in dashboards.panels(board):
        refs = [t["refId"] for t in panel["targets"]]
        assert refs and all(refs) and len(refs) == len(set(refs)), panel["title"]
        for ds in [panel["datasource"], *(t.get("datasource") for t in panel["targets"])]:
            if ds is None:
                continue
            if ds == {"type": "__expr__", "uid": "__expr__"}:  # Grafana's server-side math over the other targets
                continue
            variable = re.fullmatch(r"\$\{(\w+)\}", ds["uid"])
            assert variable and variable.group(1) in sources, f"{panel['title']}: {ds}"
            assert ds["type"] == sources[variable.group(1)], f"{panel['title']}: {ds}"


def _expand(expr: str) -> str:
    for variable, value in SUBSTITUTIONS.items():
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"an unknown Grafana variable in {expr}"
    return expr


def test_variables_expand_as_grafana_would():
    assert _expand('x{color=~"${color:regex}", namespace="$namespace"}[$__rate_interval]') == (
        'x{color=~"blue|green", namespace="broxiva-production"}[5m]'
    )
    with pytest.raises(AssertionError, match="unknown Grafana variable"):
        _expand('x{pod="$pod"}')


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
    result = _check_with_promtool(['sum by (color) (rate(broxiva_orders_total{namespace="x"}[5m])'], tmp_path)
    assert result.returncode != 0 and "dashboard:check_0" not in result.stdout


# PromQL's aggregations, functions and keywords: any other identifier outside braces, strings and grouping
# clauses names a series.
_PROMQL_WORDS = {
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile",
    "by", "without", "on", "ignoring", "group_left", "group_right", "or", "and", "unless", "bool", "offset",
    "inf", "nan", "abs", "absent", "absent_over_time", "ceil", "changes", "clamp", "clamp_max", "clamp_min",
    "day_of_month", "day_of_week", "day_of_year", "days_in_month", "delta", "deriv", "exp", "floor",
    "histogram_quantile", "holt_winters", "hour", "idelta", "increase", "irate", "label_join", "label_replace",
    "ln", "log2", "log10", "minute", "month", "predict_linear", "rate", "resets", "round", "scalar", "sgn", "sort",
    "sort_desc", "sqrt", "time", "timestamp", "vector", "year", "avg_over_time", "min_over_time", "max_over_time",
    "sum_over_time", "count_over_time", "quantile_over_time", "stddev_over_time", "stdvar_over_time",
    "last_over_time", "present_over_time",
}  # fmt: skip


def _metric_names(expr: str) -> set[str]:
    """The series an expression selects: its identifiers once strings, label matchers, ranges and grouping
    clauses are gone, less PromQL's own words."""
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", bare)
    bare = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", bare)
    return set(re.findall(r"(?<![\w.:])[a-zA-Z_:][\w:]*", bare)) - _PROMQL_WORDS


@pytest.mark.parametrize("name", dashboards.NAMES)
def test_every_metric_is_in_the_contract(name):
    for title, _, expr in dashboards.promql_expressions(dashboards.load(name)):
        names = _metric_names(expr)
        assert names, f"{title}: no metric selected in {expr}"
        assert names <= CONTRACT, f"{title}: {sorted(names - CONTRACT)} are no metric we have"


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ('sum by (app) (rate(http_requests_total{namespace="x"}[5m]))', {"http_requests_total"}),
        ("up", {"up"}),
        ('sum(rate(a_total{x=~"y|z"}[1h])) / on (app) group_left (color) b', {"a_total", "b"}),
        ("histogram_quantile(0.95, sum by (le) (broxiva:x:rate5m)) > 1e3", {"broxiva:x:rate5m"}),
    ],
)
def test_the_metric_check_sees_every_series(expr, names):
    assert _metric_names(expr) == names
    assert not names <= CONTRACT


@pytest.mark.parametrize("name", sorted(AZURE))
def test_azure_panels_query_metrics_the_services_publish(name):
    board = dashboards.load(name)
    namespace, published, resource = AZURE[name]
    metrics = dashboards.azure_metrics(board)
    assert metrics and {ns for ns, _ in metrics} == {namespace}
    assert {m for _, m in metrics} <= published, sorted({m for _, m in metrics} - published)
    for panel in dashboards.panels(board):
        for target in panel["targets"]:
            if "azureMonitor" not in target:
                continue
            assert target["queryType"] == "Azure Monitor" and target["azureMonitor"]["timeGrain"] == "auto"
            assert target["azureMonitor"]["resources"] == [
                {
                    "subscription": "$subscription",
                    "resourceGroup": "$resource_group",
                    "metricNamespace": namespace,
                    "resourceName": f"${resource}",
                }
            ], panel["title"]


def test_the_seeds_panels_are_there():
    queries = {name: " ".join(e for _, _, e in dashboards.promql_expressions(board)) for name, board in _boards()}
    for app in ("api", "web"):
        for needed in (
            "broxiva:http_requests:rate5m",
            "broxiva:http_error_ratio:rate5m",
            "broxiva:http_request_duration_seconds:p50_5m",
            "broxiva:http_request_duration_seconds:p95_5m",
            "broxiva:http_request_duration_seconds:p99_5m",
            "kube_pod_container_status_restarts_total",
            "container_cpu_usage_seconds_total",
            "container_memory_working_set_bytes",
            "kube_deployment_status_replicas_available",
            "kube_deployment_spec_replicas",
        ):
            assert needed in queries[app], (app, needed)
        assert f'app="broxiva-{app}"' in queries[app]
    assert 'db_system_name="postgresql"' in queries["database"] and 'db_system_name="redis"' in queries["redis"]
    assert "db_client_connection_max" in queries["database"] and "error_type" in queries["database"]
    for needed in ('status="completed"', 'result="succeeded"', "broxiva_user_registrations_total"):
        assert needed in queries["business"]
    assert {m for _, m in dashboards.azure_metrics(dashboards.load("database"))} == POSTGRES_METRICS


def test_redis_shows_the_hit_ratio_from_azure_hits_and_misses():
    board = dashboards.load("redis")
    (panel,) = [p for p in dashboards.panels(board) if p["title"] == "Cache hit ratio"]
    ref = {t["azureMonitor"]["metricName"]: t["refId"] for t in panel["targets"] if "azureMonitor" in t}
    assert sorted(ref) == ["cachehits", "cachemisses"]
    (math,) = [t for t in panel["targets"] if t.get("type") == "math"]
    hits, misses = ref["cachehits"], ref["cachemisses"]
    assert math["expression"] == f"${hits} / (${hits} + ${misses})" and not math.get("hide")


def test_blue_green_shows_each_color_and_the_route_weights():
    board = dashboards.load("blue-green")
    queries = [e for _, _, e in dashboards.promql_expressions(board)]
    for recorded in (
        "broxiva:http_requests:rate5m",
        "broxiva:http_error_ratio:rate5m",
        "broxiva:http_request_duration_seconds:p95_5m",
    ):
        split = [q for q in queries if recorded in q]
        assert split and all(re.search(r"\bby \(color\)", q) for q in split), recorded
    assert any("kube_deployment_status_replicas_available" in q for q in queries)
    weights = {
        (re.search(r'app="([\w-]+)"', t["expr"]).group(1), re.search(r'color="(\w+)"', t["expr"]).group(1))  # type: ignore[union-attr]
        for p in dashboards.panels(board)
        for t in p["targets"]
        if "broxiva:route_weight" in t["expr"] and p["type"] == "stat"
    }
    assert weights == {(app, color) for app in ("broxiva-api", "broxiva-web") for color in ("blue", "green")}


REDIS_VALUES = {"namespace": "broxiva-production", "subscription": "sub", "resource_group": "rg", "redis_cache": "c"}


def test_render_fills_every_constant():
    rendered = json.loads(dashboards.render("redis", REDIS_VALUES))
    filled = {v["name"]: v for v in rendered["templating"]["list"] if v["type"] == "constant"}
    assert {name: v["query"] for name, v in filled.items()} == REDIS_VALUES
    for name, variable in filled.items():
        assert variable["current"] == {"text": REDIS_VALUES[name], "value": REDIS_VALUES[name]}
        assert variable["options"] == [{"text": REDIS_VALUES[name], "value": REDIS_VALUES[name], "selected": True}]
    # The same values always give the same text: an unchanged dashboard is no diff.
    assert dashboards.render("redis", REDIS_VALUES) == dashboards.render("redis", dict(reversed(REDIS_VALUES.items())))
    assert "\n" not in dashboards.render("redis", REDIS_VALUES)
    assert dashboards.load("redis")["templating"] != rendered["templating"]  # the stored file is left as it is


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({k: v for k, v in REDIS_VALUES.items() if k != "redis_cache"}, r"redis.*without a value \['redis_cache'\]"),
        ({**REDIS_VALUES, "postgres_server": "pg"}, r"redis.*values for no constant \['postgres_server'\]"),
        ({}, r"redis.*without a value \['namespace', 'redis_cache', 'resource_group', 'subscription'\]"),
    ],
)
def test_render_refuses_a_missing_or_unknown_constant(values, message):
    with pytest.raises(ValueError, match=message):
        dashboards.render("redis", values)
