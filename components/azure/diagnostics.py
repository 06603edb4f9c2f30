"""Diagnostic settings: every stateful Azure resource's logs go to the environment's Log Analytics workspace."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import monitor

SETTING_NAME = "to-log-analytics"

# Log categories per resource type, as Azure Monitor lists them (learn.microsoft.com, azure-monitor/reference/
# supported-logs/<provider>-logs). Resource-specific ("Dedicated") tables where the type has them:
# AKSAuditAdmin/AKSControlPlane, AZKVAuditLogs, REDConnectionEvents, StorageBlobLogs, ContainerRegistry*;
# PostgreSQL flexible server has none and writes to AzureDiagnostics whatever the setting says.
CATEGORIES: dict[str, tuple[str, ...]] = {
    # The control plane: admin audit (writes, no get/list noise), the API server and Entra ID sign-ins (guard).
    "Microsoft.ContainerService/managedClusters": ("kube-audit-admin", "kube-apiserver", "guard"),
    "Microsoft.KeyVault/vaults": ("AuditEvent",),
    "Microsoft.DBforPostgreSQL/flexibleServers": ("PostgreSQLLogs", "PostgreSQLFlexSessions"),
    # Azure Managed Redis logs connections on its database, not on the cluster resource.
    "Microsoft.Cache/redisEnterprise/databases": ("ConnectionEvents",),
    "Microsoft.Storage/storageAccounts/blobServices": ("StorageRead", "StorageWrite", "StorageDelete"),
    "Microsoft.ContainerRegistry/registries": ("ContainerRegistryLoginEvents", "ContainerRegistryRepositoryEvents"),
}
"""What each resource type sends: the categories its audit and operations need, no more (cost)."""


@dataclass(frozen=True)
class DiagnosedResource:
    """A resource whose logs are kept."""

    resource_type: str
    """ARM type (a key of CATEGORIES)."""
    resource_id: pulumi.Input[str]
    """Its resource ID."""


@dataclass(frozen=True)
class DiagnosticsArgs:
    workspace_id: pulumi.Input[str]
    """The environment's Log Analytics workspace."""
    resources: Mapping[str, DiagnosedResource]
    """Short name (the child's logical name) -> resource."""


def log_settings(resource_type: str) -> list[monitor.DiagnosticsLogSettingsArgs]:
    return [monitor.DiagnosticsLogSettingsArgs(category=c, enabled=True) for c in CATEGORIES[resource_type]]


class Diagnostics(pulumi.ComponentResource):
    """One diagnostic setting per stateful resource, to the environment's workspace."""

    setting_ids: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, args: DiagnosticsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:azure:Diagnostics", name, None, opts)
        settings = {
            key: monitor.DiagnosticSetting(
                f"{name}-{key}",
                name=SETTING_NAME,
                resource_uri=target.resource_id,
                workspace_id=args.workspace_id,
                log_analytics_destination_type="Dedicated",
                logs=log_settings(target.resource_type),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for key, target in sorted(args.resources.items())
        }
        self.setting_ids = pulumi.Output.all(**{k: s.id for k, s in settings.items()})
        self.register_outputs({"setting_ids": self.setting_ids})
