"""Azure Monitor managed Prometheus for one cluster: the workspace that stores the metrics, the data collection
endpoint, rule and associations that route the cluster's metrics add-on to it, and the recording rules.

The shape follows Azure's own onboarding template for the AKS metrics add-on (Azure/prometheus-collector,
AddonBicepTemplate/FullAzureMonitorMetricsProfile.bicep): a Linux DCE and DCR named ``MSProm-<region>-<cluster>``
(at most 44 and 64 characters), the DCR forwarding the ``Microsoft-PrometheusMetrics`` stream to the workspace,
and two associations on the cluster (the DCR's, and ``configurationAccessEndpoint`` for the DCE). The cluster
itself turns the add-on on with ``azureMonitorProfile.metrics.enabled`` (components/azure/cluster.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import alertsmanagement, monitor

from ..monitoring import RecordingRule
from .context import Placement

STREAM = "Microsoft-PrometheusMetrics"
DESTINATION = "MonitoringAccount1"
DCE_ASSOCIATION = "configurationAccessEndpoint"
"""The name AKS's metrics add-on looks its endpoint association up by."""


def collection_names(location: str, cluster_name: str) -> tuple[str, str]:
    """(DCE name, DCR name) as Azure's template derives them: ``MSProm-<region>-<cluster>``, cut to the
    endpoint's 44 and the rule's 64 characters."""
    base = f"MSProm-{location}-{cluster_name}"
    return base[:44], base[:64]


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
        dce_name, dcr_name = collection_names(where.location, args.cluster_name)
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
            association_name=dcr_name,
            resource_uri=args.cluster_id,
            data_collection_rule_id=rule.id,
            opts=pulumi.ResourceOptions(parent=rule),
        )
        monitor.DataCollectionRuleAssociation(
            f"{name}-endpoint-association",
            association_name=DCE_ASSOCIATION,
            resource_uri=args.cluster_id,
            data_collection_endpoint_id=endpoint.id,
            opts=pulumi.ResourceOptions(parent=endpoint),
        )
        alertsmanagement.PrometheusRuleGroup(
            f"{name}-recording-rules",
            rule_group_name=f"{args.cluster_name}-recording",
            description="Request, error and latency rates per app and color; the routes' configured weights",
            cluster_name=args.cluster_name,
            scopes=[workspace.id, args.cluster_id],
            enabled=True,
            interval="PT1M",
            rules=rule_group_rules(args.recording_rules),
            **where.located(),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.workspace_id = workspace.id
        self.collection_rule_id = rule.id
        self.register_outputs({"workspace_id": self.workspace_id, "collection_rule_id": self.collection_rule_id})
