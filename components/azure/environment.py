"""The environment's resource group and Log Analytics workspace."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import operationalinsights, resources

from .context import Placement


@dataclass(frozen=True)
class AzureEnvironmentArgs:
    placement: Placement
    """Region, tags, protection; its resource group name is the physical name of the group to create."""
    log_retention_days: int
    """Workspace retention in days."""


class AzureEnvironment(pulumi.ComponentResource):
    """Resource group and Log Analytics workspace of one environment."""

    resource_group_name: pulumi.Output[str]
    workspace_id: pulumi.Output[str]

    def __init__(self, name: str, args: AzureEnvironmentArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:azure:Environment", name, None, opts)
        where = args.placement
        group = resources.ResourceGroup(
            f"{name}-rg",
            resource_group_name=where.resource_group_name,
            location=where.location,
            tags=where.tags,
            opts=pulumi.ResourceOptions(parent=self, protect=where.protect),
        )
        workspace = operationalinsights.Workspace(
            f"{name}-logs",
            resource_group_name=group.name,
            location=where.location,
            sku=operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
            retention_in_days=args.log_retention_days,
            tags=where.tags,
            opts=pulumi.ResourceOptions(parent=self, protect=where.protect),
        )
        self.resource_group_name = group.name
        self.workspace_id = workspace.id
        self.register_outputs({"resource_group_name": self.resource_group_name, "workspace_id": self.workspace_id})
