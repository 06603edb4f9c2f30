"""Alerts as code: the Prometheus alert rules and the data services' metric alerts, routed by severity to action
groups of email, Slack and PagerDuty receivers.

- One action group per routed severity (``observability.alerts.routes``); each rule notifies its severity's.
- PagerDuty: a webhook receiver on the integration URL of a PagerDuty "Microsoft Azure" integration
  (``https://events.pagerduty.com/integration/<key>/enqueue``), common alert schema.
- Slack: an incoming webhook cannot read Azure's alert payload (it needs a ``text`` field; MicrosoftDocs/
  azure-docs issues 13053 and 61750), so a Logic App relays it, as Microsoft documents
  (azure-monitor/alerts/alerts-logic-apps.md). The webhook URL is a SecureString parameter of the workflow:
  Logic Apps never return it, and the action's inputs are kept out of the run history (secureData).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_azure_native import alertsmanagement, logic, monitor

from ..monitoring import AZURE_SEVERITY, AlertRule, MetricAlertRule, Receiver, Severity
from .context import Placement

SLACK_TRIGGER = "manual"


def _essential(field: str) -> str:
    return f"triggerBody()?['data']?['essentials']?['{field}']"


def slack_relay_definition() -> dict[str, Any]:
    """A Logic App workflow: an HTTP trigger taking Azure's common alert schema, posting one Slack line."""
    text = (
        "@{concat('[', "
        + _essential("severity")
        + ", '] ', "
        + _essential("monitorCondition")
        + ", ': ', "
        + _essential("alertRule")
        + ", ' - ', coalesce("
        + _essential("description")
        + ", ''), ' (', coalesce(string("
        + _essential("alertTargetIDs")
        + "), ''), ')')}"
    )
    return {
        "$schema": "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"slackWebhookUrl": {"type": "SecureString"}},
        "triggers": {SLACK_TRIGGER: {"type": "Request", "kind": "Http", "inputs": {"schema": {}}}},
        "actions": {
            "post_to_slack": {
                "type": "Http",
                "runAfter": {},
                "inputs": {
                    "method": "POST",
                    "uri": "@parameters('slackWebhookUrl')",
                    "headers": {"Content-Type": "application/json"},
                    "body": {"text": text},
                },
                "runtimeConfiguration": {"secureData": {"properties": ["inputs"]}},
            }
        },
        "outputs": {},
    }


def pagerduty_url(integration_key: str) -> str:
    return f"https://events.pagerduty.com/integration/{integration_key}/enqueue"


def short_name(environment: str, severity: str) -> str:
    """An action group's short name (at most 12 characters, shown in SMS and e-mail)."""
    return f"bx-{environment[:4]}-{severity[:4]}"


@dataclass(frozen=True)
class AlertsArgs:
    placement: Placement
    """Group, region, tags."""
    environment: str
    """development, staging or production (names)."""
    cluster_id: pulumi.Input[str]
    """The cluster the Prometheus rules evaluate for."""
    cluster_name: str
    """Its name (the rule group's cluster filter)."""
    metrics_workspace_id: pulumi.Input[str]
    """The Azure Monitor workspace holding the metrics."""
    rules: tuple[AlertRule, ...]
    """Prometheus alert rules (components/monitoring.py)."""
    metric_alerts: tuple[MetricAlertRule, ...]
    """Metric alerts on the data services."""
    targets: Mapping[str, pulumi.Input[str]]
    """Metric alert target (postgres, redis) -> resource ID."""
    severities: Mapping[str, str]
    """Alert name -> severity (its default, or the stack's override)."""
    routes: Mapping[Severity, Sequence[Receiver]]
    """Severity -> receivers (email, slack, pagerduty)."""
    emails: Sequence[str]
    """Addresses of the email receiver."""
    slack_webhook_url: pulumi.Input[str] | None
    """Slack incoming webhook (a secret), when some route uses slack."""
    pagerduty_integration_key: pulumi.Input[str] | None
    """PagerDuty integration key (a secret), when some route uses pagerduty."""


class Alerts(pulumi.ComponentResource):
    """Action groups per severity, the Slack relay, the Prometheus alert rule group and the metric alerts."""

    action_group_ids: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, args: AlertsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:azure:Alerts", name, None, opts)
        where = args.placement
        child = pulumi.ResourceOptions(parent=self)
        uses = {receiver for receivers in args.routes.values() for receiver in receivers}
        slack_callback: pulumi.Output[str] | None = None
        slack_id: pulumi.Output[str] | None = None
        if "slack" in uses:
            assert args.slack_webhook_url is not None, "a route uses slack: its webhook secret is required"
            relay = logic.Workflow(
                f"{name}-slack-relay",
                definition=slack_relay_definition(),
                parameters={
                    "slackWebhookUrl": logic.WorkflowParameterArgs(
                        type="SecureString", value=pulumi.Output.secret(args.slack_webhook_url)
                    )
                },
                state="Enabled",
                **where.located(),
                opts=child,
            )
            slack_id = relay.id
            # The trigger URL carries its access signature: a secret.
            slack_callback = pulumi.Output.secret(
                logic.list_workflow_trigger_callback_url_output(
                    resource_group_name=where.resource_group_name, workflow_name=relay.name, trigger_name=SLACK_TRIGGER
                ).value.apply(lambda v: v or "")
            )
        groups: dict[str, monitor.ActionGroup] = {}
        for severity, receivers in sorted(args.routes.items()):
            groups[severity] = monitor.ActionGroup(
                f"{name}-{severity}",
                group_short_name=short_name(args.environment, severity),
                enabled=True,
                location="Global",
                email_receivers=[
                    monitor.MicrosoftCommonEmailReceiverArgs(
                        name=f"email-{i}", email_address=address, use_common_alert_schema=True
                    )
                    for i, address in enumerate(args.emails)
                ]
                if "email" in receivers
                else None,
                logic_app_receivers=[
                    monitor.LogicAppReceiverArgs(
                        name="slack", resource_id=slack_id, callback_url=slack_callback, use_common_alert_schema=True
                    )
                ]
                if "slack" in receivers and slack_id is not None and slack_callback is not None
                else None,
                webhook_receivers=[
                    monitor.WebhookReceiverArgs(
                        name="pagerduty",
                        service_uri=pulumi.Output.secret(
                            pulumi.Output.from_input(args.pagerduty_integration_key).apply(
                                lambda key: pagerduty_url(key or "")
                            )
                        ),
                        use_common_alert_schema=True,
                    )
                ]
                if "pagerduty" in receivers
                else None,
                resource_group_name=where.resource_group_name,
                tags=where.tags,
                opts=child,
            )

        def actions(rule_name: str) -> list[pulumi.Output[str]]:
            return [groups[args.severities[rule_name]].id]

        alertsmanagement.PrometheusRuleGroup(
            f"{name}-rules",
            rule_group_name=f"{args.cluster_name}-alerts",
            description="Seed 002's alerts with their thresholds, per app and color where traffic is split",
            cluster_name=args.cluster_name,
            scopes=[args.metrics_workspace_id, args.cluster_id],
            enabled=True,
            interval="PT1M",
            rules=[
                alertsmanagement.PrometheusRuleArgs(
                    alert=rule.name,
                    expression=rule.expr,
                    for_=rule.for_,
                    severity=AZURE_SEVERITY[args.severities[rule.name]],
                    labels={"severity": args.severities[rule.name]},
                    annotations={"summary": rule.summary, "source": rule.source},
                    actions=[
                        alertsmanagement.PrometheusRuleGroupActionArgs(action_group_id=i) for i in actions(rule.name)
                    ],
                    resolve_configuration=alertsmanagement.PrometheusRuleResolveConfigurationArgs(
                        auto_resolved=True, time_to_resolve="PT10M"
                    ),
                )
                for rule in args.rules
            ],
            **where.located(),
            opts=child,
        )
        for rule in args.metric_alerts:
            monitor.MetricAlert(
                f"{name}-{rule.name}",
                rule_name=rule.name,
                description=rule.summary,
                severity=AZURE_SEVERITY[args.severities[rule.name]],
                enabled=True,
                scopes=[args.targets[rule.target]],
                evaluation_frequency=rule.frequency,
                window_size=rule.window,
                criteria=monitor.MetricAlertSingleResourceMultipleMetricCriteriaArgs(
                    odata_type="Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
                    all_of=[
                        monitor.MetricCriteriaArgs(
                            criterion_type="StaticThresholdCriterion",
                            name=rule.metric,
                            metric_name=rule.metric,
                            metric_namespace=rule.metric_namespace,
                            operator="GreaterThan",
                            threshold=rule.threshold,
                            time_aggregation=rule.aggregation,
                        )
                    ],
                ),
                auto_mitigate=True,
                actions=[monitor.MetricAlertActionArgs(action_group_id=i) for i in actions(rule.name)],
                location="global",
                resource_group_name=where.resource_group_name,
                tags=where.tags,
                opts=child,
            )
        self.action_group_ids = pulumi.Output.all(**{k: g.id for k, g in groups.items()})
        self.register_outputs({"action_group_ids": self.action_group_ids})


def definition_json() -> str:
    """The relay's definition, as the rendered plan and the tests read it."""
    return json.dumps(slack_relay_definition(), sort_keys=True)
