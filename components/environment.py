"""The environment's resource group and Log Analytics workspace."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import operationalinsights, resources


@dataclass(frozen=True)
class AzureEnvironmentArgs:
    resource_group_name: str
    """Physical name of the resource group (broxiva-<env>-rg)."""
    location: str
    """Azure region."""
    log_retention_days: int
    """Workspace retention in days."""
    tags: dict[str, str]
    """Tags on every resource."""
    protect: bool
    """Protect the workspace (and the group holding protected resources) from deletion."""


class AzureEnvironment(pulumi.ComponentResource):
    """Resource group and Log Analytics workspace of one environment."""

    resource_group_name: pulumi.Output[str]
    workspace_id: pulumi.Output[str]

    def __init__(self, name: str, args: AzureEnvironmentArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:azure:Environment", name, None, opts)
        group = resources.ResourceGroup(
            f"{name}-rg",
            resource_group_name=args.resource_group_name,
            location=args.location,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        workspace = operationalinsights.Workspace(
            f"{name}-logs",
            resource_group_name=group.name,
            location=args.location,
            sku=operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
            retention_in_days=args.log_retention_days,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.resource_group_name = group.name
        self.workspace_id = workspace.id
        self.register_outputs({"resource_group_name": self.resource_group_name, "workspace_id": self.workspace_id})
