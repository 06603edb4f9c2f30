"""The environment's resource group and Log Analytics workspace."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import operationalinsights

from .context import Placement


@dataclass(frozen=True)
class AzureEnvironmentArgs:
    placement: Placement
    """Region, tags, protection; its resource group name is the physical name of the group to create."""
    log_retention_days: int
    """Workspace retention in days."""
    existing_group_id: str | None
    """Resource ID of the group if it already exists (adopt.resourceGroup): imported, not created."""


class AzureEnvironment(pulumi.ComponentResource):
    """Resource group and Log Analytics workspace of one environment."""

    resource_group_name: pulumi.Output[str]
    workspace_id: pulumi.Output[str]

    def __init__(self, name: str, args: AzureEnvironmentArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:azure:Environment", name, None, opts)
        where = args.placement
        group = where.new_group(f"{name}-rg", where.resource_group_name, self, existing_id=args.existing_group_id)
        workspace = operationalinsights.Workspace(
            f"{name}-logs",
            sku=operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
            retention_in_days=args.log_retention_days,
            **where.in_group(group.name).located(),
            opts=where.kept(self),
        )
        self.resource_group_name = group.name
        self.workspace_id = workspace.id
        self.register_outputs({"resource_group_name": self.resource_group_name, "workspace_id": self.workspace_id})
