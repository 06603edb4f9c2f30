"""Monitoring rules: production is alerted, every routed app is scraped, every stateful resource keeps logs.

Stack rules, read on the resources' outputs as the engine hands them over: a diagnostic setting's target is a
path parameter (not an output), so it is found through the setting's dependencies, which the engine passes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pulumi_policy import Severity

from .common import UNKNOWN, StackResource, as_dict, as_list, dig, k8s_group_kind, stack_policy

Finding = tuple[str, str | None]

ACTION_GROUP = "azure-native:monitor:ActionGroup"
RULE_GROUP = "azure-native:alertsmanagement:PrometheusRuleGroup"
METRIC_ALERT = "azure-native:monitor:MetricAlert"
DIAGNOSTIC_SETTING = "azure-native:monitor:DiagnosticSetting"
METRICS_WORKSPACE = "azure-native:monitor:AzureMonitorWorkspace"
LOG_WORKSPACE = "azure-native:operationalinsights:Workspace"
SCRAPE_GROUP = "azmonitoring.coreos.com"
RECEIVER_KEYS = (
    "emailReceivers",
    "webhookReceivers",
    "logicAppReceivers",
    "smsReceivers",
    "voiceReceivers",
    "azureAppPushReceivers",
    "azureFunctionReceivers",
    "eventHubReceivers",
    "itsmReceivers",
    "armRoleReceivers",
    "automationRunbookReceivers",
)

STATEFUL_TYPES: dict[str, str] = {
    "azure-native:containerservice:ManagedCluster": "AKS cluster",
    "azure-native:keyvault:Vault": "Key Vault",
    "azure-native:dbforpostgresql:Server": "PostgreSQL server",
    "azure-native:redisenterprise:Database": "Azure Managed Redis database",
    "azure-native:storage:StorageAccount": "storage account",
    "azure-native:containerregistry:Registry": "container registry",
}
"""What holds data or guards access: each keeps its logs in the environment's workspace."""


def _is_production(resources: list[StackResource]) -> bool:
    return any(
        dig(r.props, "tags", "environment") == "production"
        for r in resources
        if r.resource_type.startswith("azure-native:")
    )


def _receivers(group: StackResource) -> int | None:
    """How many receivers an action group has; None when the engine does not know yet."""
    count = 0
    for key in RECEIVER_KEYS:
        value = group.props.get(key)
        if value is UNKNOWN:
            return None
        count += len(as_list(value))
    return count


def check_production_alerting(resources: list[StackResource], config: dict[str, Any]) -> Iterable[Finding]:
    if not _is_production(resources):
        return
    groups = [r for r in resources if r.resource_type == ACTION_GROUP]
    rule_groups = [r for r in resources if r.resource_type == RULE_GROUP]
    alerting = [g for g in rule_groups if any(as_dict(rule).get("alert") for rule in as_list(g.props.get("rules")))]
    if not alerting:
        yield (
            "production has no Prometheus alert rules; set features.monitoring to full-alerts and "
            "observability.alerts (routes, emails).",
            None,
        )
    if not groups:
        yield "production has no action group: nobody is notified; set observability.alerts.routes.", None
    for group in groups:
        if _receivers(group) == 0:
            yield (
                f"action group '{group.name}' notifies nobody; give its severity receivers in "
                "observability.alerts.routes (email, slack, pagerduty).",
                group.urn,
            )
    for rule_group in alerting:
        for rule in as_list(rule_group.props.get("rules")):
            rule = as_dict(rule)
            actions = rule.get("actions")
            if rule.get("alert") and actions is not UNKNOWN and not as_list(actions):
                yield (
                    f"alert rule '{rule.get('alert')}' of '{rule_group.name}' has no action group: it fires "
                    "unseen; route its severity (observability.alerts.routes).",
                    rule_group.urn,
                )
    for alert in (r for r in resources if r.resource_type == METRIC_ALERT):
        actions = alert.props.get("actions")
        if actions is not UNKNOWN and not as_list(actions):
            yield f"metric alert '{alert.name}' has no action group; route its severity.", alert.urn


def _selects(selector: Any, labels: dict[str, Any]) -> bool:
    wanted = as_dict(dig(selector, "matchLabels"))
    return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items())


def check_routed_apps_scraped(resources: list[StackResource], config: dict[str, Any]) -> Iterable[Finding]:
    if not any(r.resource_type == METRICS_WORKSPACE for r in resources):
        return  # below monitoring level full there is no Prometheus to scrape for
    k8s = [r for r in resources if k8s_group_kind(r.resource_type) is not None]
    if any(not r.props for r in k8s):
        return  # objects a preview cannot see yet (unknown kubeconfig)
    services = {
        (dig(s.props, "metadata", "namespace"), dig(s.props, "metadata", "name")): s
        for s in k8s
        if k8s_group_kind(s.resource_type) == ("core", "Service")
    }
    monitors = [m for m in k8s if k8s_group_kind(m.resource_type) == (SCRAPE_GROUP, "ServiceMonitor")]
    for route in (r for r in k8s if k8s_group_kind(r.resource_type) == ("gateway.networking.k8s.io", "HTTPRoute")):
        namespace = dig(route.props, "metadata", "namespace")
        for rule in as_list(dig(route.props, "spec", "rules")):
            for ref in as_list(dig(rule, "backendRefs")):
                service = services.get((as_dict(ref).get("namespace") or namespace, as_dict(ref).get("name")))
                if service is None:
                    continue  # httproute-backends-exist's
                labels = as_dict(dig(service.props, "metadata", "labels"))
                ports = {as_dict(p).get("name") for p in as_list(dig(service.props, "spec", "ports"))}
                scraped = any(
                    dig(m.props, "metadata", "namespace") == namespace
                    and _selects(dig(m.props, "spec", "selector"), labels)
                    and any(as_dict(e).get("port") in ports for e in as_list(dig(m.props, "spec", "endpoints")))
                    for m in monitors
                )
                if not scraped:
                    yield (
                        f"HTTPRoute '{namespace}/{dig(route.props, 'metadata', 'name')}' sends traffic to Service "
                        f"'{as_dict(ref).get('name')}', which no ServiceMonitor scrapes: its errors and latency "
                        "would go unseen; declare the app's ServiceMonitor (components/k8s/scrape.py).",
                        route.urn,
                    )


def check_diagnostics(resources: list[StackResource], config: dict[str, Any]) -> Iterable[Finding]:
    if not any(r.resource_type == LOG_WORKSPACE for r in resources):
        return  # a stack without a Log Analytics workspace (the bootstrap) has nowhere to send logs
    kept = {
        dependency
        for setting in resources
        if setting.resource_type == DIAGNOSTIC_SETTING and setting.props.get("workspaceId") not in (None, "")
        for dependency in setting.dependencies
    }
    for resource in resources:
        kind = STATEFUL_TYPES.get(resource.resource_type)
        if kind is not None and resource.urn not in kept:
            yield (
                f"{kind} '{resource.name}' sends no logs to the environment's Log Analytics workspace; add its "
                "diagnostic setting (components/azure/diagnostics.py).",
                resource.urn,
            )


POLICIES = [
    stack_policy(
        name="production-alerts-notify",
        description="Production has Prometheus alert rules, and every alert rule and metric alert notifies an "
        "action group with at least one receiver.",
        check=check_production_alerting,
        severity=Severity.HIGH,
        remediation="Set features.monitoring: full-alerts and observability.alerts (routes per severity, emails).",
    ),
    stack_policy(
        name="routed-apps-scraped",
        description="Where managed Prometheus runs, every Service an HTTPRoute sends traffic to is scraped by a "
        "ServiceMonitor (on one of its ports).",
        check=check_routed_apps_scraped,
        severity=Severity.MEDIUM,
        remediation="Declare a ServiceMonitor selecting the app's per-color Services (components/k8s/scrape.py).",
    ),
    stack_policy(
        name="diagnostics-on-stateful-resources",
        description="In a stack with a Log Analytics workspace, every stateful Azure resource (AKS, Key Vault, "
        "PostgreSQL, Redis, storage, registry) has a diagnostic setting to a workspace.",
        check=check_diagnostics,
        severity=Severity.MEDIUM,
        remediation="Add the resource to the Diagnostics component's resources in __main__.py.",
    ),
]
