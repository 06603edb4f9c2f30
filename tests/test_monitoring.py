"""features.monitoring per stack: exactly the resources of each level, level switches that touch monitoring
resources only, the scrape targets, Grafana, notifications, diagnostics and tracing."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from components import monitoring
from components.azure import alerts as alerts_component
from components.azure import diagnostics
from tests.conftest import run_program
from tools.plan import diff as plan_diff
from tools.plan import engine

PROMETHEUS = "broxiva:azure:ManagedPrometheus"
GRAFANA = "broxiva:azure:Grafana"
ALERTS = "broxiva:azure:Alerts"
SCRAPE = "broxiva:k8s:ScrapeTargets"
MONITORING_COMPONENTS = (PROMETHEUS, GRAFANA, ALERTS, SCRAPE)
CLUSTER = "azure-native:containerservice:ManagedCluster"
SERVICE_MONITOR = "kubernetes:azmonitoring.coreos.com/v1:ServiceMonitor"
POD_MONITOR = "kubernetes:azmonitoring.coreos.com/v1:PodMonitor"
SERVICE = "kubernetes:core/v1:Service"
DIAGNOSTIC = "azure-native:monitor:DiagnosticSetting"
ROUTED = ("broxiva-api", "broxiva-web")
GRAFANA_NAME = {"staging": "broxiva-staging-grafana", "prod": "broxiva-prod-grafana"}


def _components(plan: engine.Plan) -> Counter[str]:
    return Counter(r["type"] for r in plan.resources if not r["custom"] and r["type"].startswith("broxiva:"))


def _monitoring_urns(plan: engine.Plan) -> set[str]:
    """Every resource under a monitoring component (walking up the parents)."""
    parents = {r["urn"]: r.get("parent") for r in plan.resources}

    def under(urn: str | None) -> bool:
        while urn:
            if any(
                f"::{token}::" in urn or urn.split("::")[-2].endswith(f"${token}") for token in MONITORING_COMPONENTS
            ):
                return True
            urn = parents.get(urn)
        return False

    return {urn for urn in parents if under(urn)}


@pytest.mark.parametrize(
    ("stack", "expected"),
    [
        ("dev", set()),
        ("staging", {PROMETHEUS, GRAFANA, SCRAPE}),
        ("prod", {PROMETHEUS, GRAFANA, SCRAPE, ALERTS}),
    ],
)
def test_each_stack_runs_exactly_its_level(stack, expected):
    plan = run_program(stack)
    present = {token for token in MONITORING_COMPONENTS if _components(plan)[token]}
    assert present == expected
    # Every level: diagnostics and tracing.
    assert _components(plan)["broxiva:azure:Diagnostics"] == 1
    assert _components(plan)["broxiva:azure:Tracing"] == 1
    profile = plan.one(CLUSTER, "cluster-aks")["inputs"]["azureMonitorProfile"]["metrics"]
    assert profile["enabled"] is (stack != "dev")
    if stack != "dev":
        assert profile["kubeStateMetrics"]["metricLabelsAllowlist"] == "pods=[app,color],deployments=[app,color]"


LEVEL_SWITCHES = [
    ("dev", {"features.monitoring": "full", "observability.grafanaName": "broxiva-dev-grafana"}, "+"),
    ("staging", {"features.monitoring": "full-alerts"}, "+"),
    ("staging", {"features.monitoring": "basic"}, "-"),
    ("prod", {"features.monitoring": "full"}, "-"),
]


@pytest.mark.parametrize(("stack", "sets", "direction"), LEVEL_SWITCHES, ids=lambda v: str(v))
def test_a_level_switch_adds_or_removes_monitoring_resources_only(stack, sets, direction):
    base, head = run_program(stack), run_program(stack, sets)
    result = plan_diff.diff(base, head)
    moved = result.added if direction == "+" else result.removed
    assert moved and not (result.removed if direction == "+" else result.added)
    monitoring_urns = _monitoring_urns(head if direction == "+" else base)
    assert {r["urn"] for r in moved} <= monitoring_urns, [r["urn"] for r in moved if r["urn"] not in monitoring_urns]
    # In place, the cluster's metrics add-on goes on or off; nothing else changes.
    changed = {c.name: {p.split(".")[0] for p, _, _ in c.paths} - {"<dependencies>"} for c in result.changed}
    assert set(changed) <= {"cluster-aks"}
    assert all(paths <= {"azureMonitorProfile"} for paths in changed.values())


def test_raising_staging_to_full_alerts_changes_nothing_but_adds_the_alerts():
    result = plan_diff.diff(run_program("staging"), run_program("staging", {"features.monitoring": "full-alerts"}))
    assert not result.changed and not result.removed
    assert {r["type"] for r in result.added} >= {
        ALERTS,
        "azure-native:monitor:ActionGroup",
        "azure-native:monitor:MetricAlert",
        "azure-native:alertsmanagement:PrometheusRuleGroup",
        "azure-native:logic:Workflow",
    }


# ---------------------------------------------------------------------------------------------- scraping


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_every_routed_app_has_a_service_monitor_on_its_color_services(stack):
    plan = run_program(stack)
    monitors = {m["inputs"]["metadata"]["name"]: m["inputs"] for m in plan.by_type(SERVICE_MONITOR)}
    assert set(monitors) == {*ROUTED, "cert-manager", "external-secrets"}
    services = [s["inputs"] for s in plan.by_type(SERVICE)]
    for app in ROUTED:
        spec = monitors[app]["spec"]
        selector = spec["selector"]["matchLabels"]
        selected = [
            s for s in services if all(s["metadata"].get("labels", {}).get(k) == v for k, v in selector.items())
        ]
        # The two color Services, not the stable or preview ones (which select the same pods again).
        assert sorted(s["metadata"]["name"] for s in selected) == [f"{app}-blue", f"{app}-green"]
        for service in selected:
            assert {"name": "metrics", "port": 9464, "protocol": "TCP", "targetPort": "metrics"} in service["spec"][
                "ports"
            ]
        (endpoint,) = spec["endpoints"]
        assert (endpoint["port"], endpoint["path"]) == ("metrics", "/metrics")
        # Every series says which color it came from.
        targets = {r["targetLabel"]: r["sourceLabels"] for r in endpoint["relabelings"]}
        assert targets == {"app": ["__meta_kubernetes_pod_label_app"], "color": ["__meta_kubernetes_pod_label_color"]}
    for add_on, namespace, port in (
        ("cert-manager", "cert-manager", "http-metrics"),
        ("external-secrets", "external-secrets-system", "metrics"),
    ):
        assert monitors[add_on]["metadata"]["namespace"] == namespace
        assert monitors[add_on]["spec"]["endpoints"][0]["port"] == port
        assert monitors[add_on]["spec"]["endpoints"][0]["honorLabels"] is True
    (proxies,) = plan.by_type(POD_MONITOR)
    assert proxies["inputs"]["metadata"]["namespace"] == "envoy-gateway-system"
    assert proxies["inputs"]["spec"]["podMetricsEndpoints"][0]["path"] == "/stats/prometheus"


def test_scrape_targets_wait_for_the_releases_they_scrape():
    plan = run_program("staging")
    (provider,) = [r for r in plan.resources if r["type"] == "pulumi:providers:kubernetes"]
    releases = {r["name"]: r["urn"] for r in plan.by_type("kubernetes:helm.sh/v3:Release")}
    for monitor in plan.by_type(SERVICE_MONITOR) + plan.by_type(POD_MONITOR):
        assert monitor["provider"].startswith(provider["urn"]), monitor["name"]
        # Named one by one: the releases are children of their namespaces, which a dependency on the
        # add-ons' components does not reach.
        for release in ("external-secrets-operator", "edge-envoy-gateway", "cert-manager-controller"):
            assert releases[release] in monitor["dependencies"], (monitor["name"], release)


def test_external_secrets_serves_its_metrics():
    release = next(
        r
        for r in run_program("staging").by_type("kubernetes:helm.sh/v3:Release")
        if r["name"] == "external-secrets-operator"
    )
    assert release["inputs"]["values"]["metrics"] == {"service": {"enabled": True}}


def test_the_route_never_reaches_the_metrics_port():
    plan = run_program("prod")
    for route in plan.by_type("kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"):
        for rule in route["inputs"]["spec"]["rules"]:
            assert all(ref.get("port", 80) == 80 for ref in rule.get("backendRefs", []))


# ---------------------------------------------------------------------------------------------- Grafana


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_grafana_is_linked_to_the_workspace_and_provisions_every_dashboard(stack):
    plan = run_program(stack)
    (instance,) = plan.by_type("azure-native:dashboard:Grafana")
    inputs = instance["inputs"]
    assert inputs["workspaceName"] == GRAFANA_NAME[stack]
    assert inputs["properties"]["apiKey"] == "Disabled"
    assert inputs["identity"] == {"type": "SystemAssigned"}
    (link,) = inputs["properties"]["grafanaIntegrations"]["azureMonitorWorkspaceIntegrations"]
    workspace = plan.by_type("azure-native:monitor:AzureMonitorWorkspace")[0]
    assert workspace["urn"] in instance["dependencies"]
    assert link["azureMonitorWorkspaceResourceId"]
    boards = plan.by_type("grafana:oss/dashboard:Dashboard")
    assert len(boards) == 6
    uids = set()
    for board in boards:
        config = json.loads(board["inputs"]["configJson"])
        uids.add(config["uid"])
        constants = {v["name"]: v["query"] for v in config["templating"]["list"] if v["type"] == "constant"}
        assert constants["namespace"] == {"staging": "broxiva-staging", "prod": "broxiva-production"}[stack]
        assert all(constants.values()), board["name"]
        # Written through the Grafana provider, as the deployer (Grafana Editor) once it may.
        assert board["provider"].startswith("urn:pulumi:") and "pulumi:providers:grafana" in board["provider"]
    assert uids == {
        "broxiva-api",
        "broxiva-web",
        "broxiva-database",
        "broxiva-redis",
        "broxiva-business",
        "broxiva-blue-green",
    }
    (provider,) = plan.by_type("pulumi:providers:grafana")
    assert provider["inputs"]["auth"] == "[secret]"
    # The deployer's Grafana Editor grant takes minutes to reach Grafana: 403 is retried for ten minutes.
    # (A provider's non-string settings reach it JSON-encoded.)
    assert set(json.loads(provider["inputs"]["retryStatusCodes"])) == {"403", "429", "5xx"}
    assert int(provider["inputs"]["retries"]) * int(provider["inputs"]["retryWait"]) >= 600


# ---------------------------------------------------------------------------------------------- alerts


def test_prod_routes_each_severity_to_its_receivers():
    plan = run_program("prod")
    groups = {g["name"]: g["inputs"] for g in plan.by_type("azure-native:monitor:ActionGroup")}
    assert set(groups) == {f"alerts-{s}" for s in ("critical", "error", "warning", "informational")}
    assert "webhookReceivers" in groups["alerts-critical"]  # PagerDuty
    assert all("logicAppReceivers" in groups[f"alerts-{s}"] for s in ("critical", "error", "warning"))
    assert "logicAppReceivers" not in groups["alerts-informational"]
    assert all(len(g["groupShortName"]) <= 12 for g in groups.values())
    rules = next(
        r for r in plan.by_type("azure-native:alertsmanagement:PrometheusRuleGroup") if r["name"] == "alerts-rules"
    )
    by_name = {rule["alert"]: rule for rule in rules["inputs"]["rules"]}
    assert by_name["HighErrorRate"]["severity"] == monitoring.AZURE_SEVERITY["critical"]
    assert by_name["HighLatencyP95"]["severity"] == monitoring.AZURE_SEVERITY["warning"]
    assert all(rule["actions"] for rule in by_name.values())
    metric_alerts = {a["inputs"]["ruleName"]: a["inputs"] for a in plan.by_type("azure-native:monitor:MetricAlert")}
    assert set(metric_alerts) == {m.name for m in monitoring.METRIC_ALERTS}
    assert metric_alerts["RedisMemoryHigh"]["criteria"]["allOf"][0]["threshold"] == 90


def test_a_severity_override_moves_an_alert_to_that_severitys_group():
    plan = run_program("prod", {"observability.alerts.severities.HighLatencyP95": "critical"})
    rules = next(
        r for r in plan.by_type("azure-native:alertsmanagement:PrometheusRuleGroup") if r["name"] == "alerts-rules"
    )
    rule = next(r for r in rules["inputs"]["rules"] if r["alert"] == "HighLatencyP95")
    assert rule["severity"] == 0 and rule["labels"] == {"severity": "critical"}


def test_receiver_secrets_never_appear_in_the_plan():
    slack = "https://hooks.slack.com/services/T000/B000/abcdefghijklmnop"
    key = "0123456789abcdef0123456789abcdef"
    plan = run_program(
        "prod",
        secret_sets={
            "providedSecrets.alertSlackWebhookUrl": slack,
            "providedSecrets.alertPagerdutyIntegrationKey": key,
        },
    )
    text = json.dumps(plan.to_dict())
    assert slack not in text and key not in text
    # Not in the vault either: only the relay and the action group hold them.
    names = {s["inputs"]["secretName"] for s in plan.by_type("azure-native:keyvault:Secret")}
    assert not {n for n in names if n.startswith("alert-")}


def test_the_slack_relay_posts_one_text_line_and_keeps_the_url_out_of_its_history():
    definition = alerts_component.slack_relay_definition()
    action = definition["actions"]["post_to_slack"]
    assert definition["parameters"]["slackWebhookUrl"]["type"] == "SecureString"
    assert action["inputs"]["uri"] == "@parameters('slackWebhookUrl')"
    assert set(action["inputs"]["body"]) == {"text"}
    assert action["runtimeConfiguration"]["secureData"]["properties"] == ["inputs"]
    assert definition["triggers"]["manual"]["kind"] == "Http"


def test_pagerduty_integration_url():
    assert alerts_component.pagerduty_url("abc") == "https://events.pagerduty.com/integration/abc/enqueue"


# ---------------------------------------------------------------------------------------------- diagnostics, tracing


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_every_stateful_resource_sends_its_logs_to_the_workspace(stack):
    plan = run_program(stack)
    settings = {s["name"]: s["inputs"] for s in plan.by_type(DIAGNOSTIC)}
    expected = {"cluster", "vault", "postgres", "redis", "backups"} | ({"registry"} if stack == "prod" else set())
    assert set(settings) == {f"diagnostics-{k}" for k in expected}
    for inputs in settings.values():
        assert inputs["name"] == "to-log-analytics"
        assert inputs["logAnalyticsDestinationType"] == "Dedicated"
        assert inputs["workspaceId"].endswith(
            "/providers/Microsoft.OperationalInsights/workspaces/" + inputs["workspaceId"].rsplit("/", 1)[1]
        )
    assert [log["category"] for log in settings["diagnostics-cluster"]["logs"]] == [
        "kube-audit-admin",
        "kube-apiserver",
        "guard",
    ]
    assert settings["diagnostics-redis"]["resourceUri"].endswith("/databases/default")
    assert settings["diagnostics-backups"]["resourceUri"].endswith("/blobServices/default")


def test_diagnostic_categories_cover_every_resource_type_the_program_sends():
    assert all(diagnostics.CATEGORIES[t] for t in diagnostics.CATEGORIES)


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_traces_reach_the_apps_through_the_vault(stack):
    plan = run_program(stack)
    (component,) = plan.by_type("azure-native:applicationinsights:Component")
    assert component["inputs"]["ingestionMode"] == "LogAnalytics"
    assert component["inputs"]["workspaceResourceId"].endswith(
        "/workspaces/" + component["inputs"]["workspaceResourceId"].rsplit("/", 1)[1]
    )
    assert "connectionString" in component["additionalSecretOutputs"]
    secret = next(
        s
        for s in plan.by_type("azure-native:keyvault:Secret")
        if s["inputs"]["secretName"] == "appinsights-connection-string"
    )
    assert secret["inputs"]["properties"] == "[secret]"
    for deployment in plan.by_type("kubernetes:apps/v1:Deployment"):
        for container in deployment["inputs"]["spec"]["template"]["spec"]["containers"]:
            if deployment["name"].startswith("broxiva-worker"):
                continue
            env = {e["name"]: e.get("value") for e in container["env"]}
            assert env["OTEL_SERVICE_NAME"] in ROUTED
            assert "service.version=" in env["OTEL_RESOURCE_ATTRIBUTES"]
            assert "broxiva.color=" in env["OTEL_RESOURCE_ATTRIBUTES"]


def test_grafana_roles_follow_the_stacks_groups():
    reader = "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
    plan = run_program("staging", {"rbac.readerGroupObjectIds": f'["{reader}"]'})
    by_role = {}
    for assignment in plan.by_type("azure-native:authorization:RoleAssignment"):
        inputs = assignment["inputs"]
        if "/Microsoft.Dashboard/grafana/" in inputs["scope"]:
            by_role.setdefault(inputs["roleDefinitionId"].rsplit("/", 1)[1], []).append(inputs)
    viewer, admin = by_role["60921a7e-fef1-4a43-9b16-a26c52ad4769"], by_role["22926164-76b3-42b3-bc55-97df8dab3e41"]
    assert [(a["principalId"], a["principalType"]) for a in viewer] == [(reader, "Group")]
    assert [(a["principalId"], a["principalType"]) for a in admin] == [
        ("5b7a4c1e-3f0d-4a8e-9b6c-2d1e0f3a4b5c", "Group")
    ]
    # No one else gets a role on the instance but the deployer (Grafana Editor, to write the dashboards).
    assert set(by_role) == {
        "60921a7e-fef1-4a43-9b16-a26c52ad4769",
        "22926164-76b3-42b3-bc55-97df8dab3e41",
        "a79a5197-3a5c-4973-a920-486035ffd60f",
    }
