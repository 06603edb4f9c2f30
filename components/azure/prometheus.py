"""Azure Monitor managed Prometheus for one cluster: the workspace that stores the metrics, the data collection
endpoint and rule that route the cluster's metrics add-on to it, the rule's association with the cluster, and
the recording rules (Azure's recommended ones and this platform's).

The shape follows Azure's own onboarding template for the AKS metrics add-on (Azure/prometheus-collector
AddonBicepTemplate/FullAzureMonitorMetricsProfile.bicep at 39583fd): a Linux DCE and DCR named
``MSProm-<region>-<cluster>`` (cut to 44 and 64 characters), the DCR forwarding the ``Microsoft-PrometheusMetrics``
stream to the workspace, one association ``MSProm-<region>-<cluster>`` on the cluster, and the rule groups
``NodeRecordingRulesRuleGroup-<cluster>`` and ``KubernetesRecordingRulesRuleGroup-<cluster>``
(``aks_recording_rules.yaml``). The cluster itself turns the add-on on with ``azureMonitorProfile.metrics.enabled``
(components/azure/cluster.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pulumi
import yaml
from pulumi_azure_native import alertsmanagement, monitor

from ..monitoring import RecordingRule
from .context import Placement

STREAM = "Microsoft-PrometheusMetrics"
DESTINATION = "MonitoringAccount1"
AKS_RECORDING_RULES = Path(__file__).with_name("aks_recording_rules.yaml")


def collection_names(location: str, cluster_name: str) -> tuple[str, str, str]:
    """(DCE, DCR, association) names as Azure's template derives them: ``MSProm-<region>-<cluster>``, cut to the
    endpoint's 44 and the rule's 64 characters; the association's is not cut."""
    base = f"MSProm-{location}-{cluster_name}"
    return base[:44], base[:64], base


def aks_recording_rules() -> Mapping[str, tuple[RecordingRule, ...]]:
    """Azure's recommended recording rule groups, by group name prefix."""
    doc = yaml.safe_load(AKS_RECORDING_RULES.read_text())
    return {
        prefix: tuple(RecordingRule(r["record"], r["expression"], r.get("labels") or {}) for r in rules)
        for prefix, rules in doc.items()
    }


def rule_group_rules(rules: Sequence[RecordingRule]) -> list[alertsmanagement.PrometheusRuleArgs]:
    return [
        alertsmanagement.PrometheusRuleArgs(record=r.record, expression=r.expr, labels=dict(r.labels) or None)
        for r in rules
    ]


@dataclass(frozen=True)
class ManagedPrometheusArgs:
    placement: Placement
    """Group, region, tags; protect keeps the workspace (its metrics are the platform's history)."""
    cluster_id: pulumi.Input[str]
    """The AKS cluster whose metrics add-on sends here."""
    cluster_name: str
    """Its name: the collection rules' and rule groups' names, and the rule groups' cluster filter."""
    recording_rules: tuple[RecordingRule, ...]
    """This platform's recording rules (components/monitoring.py)."""


class ManagedPrometheus(pulumi.ComponentResource):
    """Azure Monitor workspace, collection endpoint, rule and associations, recording rules."""

    workspace_id: pulumi.Output[str]
    collection_rule_id: pulumi.Output[str]

    def __init__(self, name: str, args: ManagedPrometheusArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:azure:ManagedPrometheus", name, None, opts)
        where = args.placement
        dce_name, dcr_name, association_name = collection_names(where.location, args.cluster_name)
        workspace = monitor.AzureMonitorWorkspace(
            f"{name}-workspace",
            azure_monitor_workspace_name=f"{args.cluster_name}-metrics",
            **where.located(),
            opts=where.kept(self),
        )
        endpoint = monitor.DataCollectionEndpoint(
            f"{name}-endpoint",
            data_collection_endpoint_name=dce_name,
            kind="Linux",
            **where.located(),
            opts=pulumi.ResourceOptions(parent=self),
        )
        rule = monitor.DataCollectionRule(
            f"{name}-rule",
            data_collection_rule_name=dcr_name,
            kind="Linux",
            description="The cluster's Prometheus metrics to its Azure Monitor workspace",
            data_collection_endpoint_id=endpoint.id,
            data_sources=monitor.DataCollectionRuleDataSourcesArgs(
                prometheus_forwarder=[
                    monitor.PrometheusForwarderDataSourceArgs(name="PrometheusDataSource", streams=[STREAM])
                ]
            ),
            destinations=monitor.DataCollectionRuleDestinationsArgs(
                monitoring_accounts=[
                    monitor.MonitoringAccountDestinationArgs(account_resource_id=workspace.id, name=DESTINATION)
                ]
            ),
            data_flows=[monitor.DataFlowArgs(destinations=[DESTINATION], streams=[STREAM])],
            **where.located(),
            opts=pulumi.ResourceOptions(parent=self),
        )
        monitor.DataCollectionRuleAssociation(
            f"{name}-rule-association",
            association_name=association_name,
            resource_uri=args.cluster_id,
            data_collection_rule_id=rule.id,
            description="The cluster's metrics add-on sends through this rule: deleting it stops the collection",
            opts=pulumi.ResourceOptions(parent=rule),
        )
        groups = {
            "recording-rules": (
                f"{args.cluster_name}-recording",
                "Request, error and latency rates per app and color; the routes' configured weights",
                args.recording_rules,
            ),
            **{
                prefix.removesuffix("RecordingRulesRuleGroup").lower() + "-recording-rules": (
                    f"{prefix}-{args.cluster_name}",
                    f"Azure's recommended {prefix} (AKS managed Prometheus onboarding template)",
                    rules,
                )
                for prefix, rules in aks_recording_rules().items()
            },
        }
        for key, (group_name, description, rules) in groups.items():
            alertsmanagement.PrometheusRuleGroup(
                f"{name}-{key}",
                rule_group_name=group_name,
                description=description,
                cluster_name=args.cluster_name,
                scopes=[workspace.id, args.cluster_id],
                enabled=True,
                interval="PT1M",
                rules=rule_group_rules(rules),
                **where.located(),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.workspace_id = workspace.id
        self.collection_rule_id = rule.id
        self.register_outputs({"workspace_id": self.workspace_id, "collection_rule_id": self.collection_rule_id})
