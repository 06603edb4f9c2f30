"""The production container registry."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import containerregistry

from ..options import removable
from . import roles
from .context import Placement, Principal


@dataclass(frozen=True)
class ContainerRegistryArgs:
    placement: Placement
    """Group, region, tags, subscription; protect applies to the registry."""
    registry_name: str
    """Physical ACR name (broxivaprodacr)."""
    zone_redundant: bool
    """Zone-redundant registry (Premium SKU)."""
    kubelet_object_id: pulumi.Input[str]
    """The cluster's kubelet identity, granted AcrPull."""
    existing_id: str | None
    """Resource ID of the registry if it already exists (adopt.registry): imported, not created."""


class ContainerRegistry(pulumi.ComponentResource):
    """An ACR with no admin user and no anonymous pull; the kubelet pulls with AcrPull."""

    login_server: pulumi.Output[str]
    registry_id: pulumi.Output[str]

    def __init__(self, name: str, args: ContainerRegistryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:azure:ContainerRegistry", name, None, opts)
        where = args.placement
        registry = containerregistry.Registry(
            f"{name}-acr",
            registry_name=args.registry_name,
            sku=containerregistry.SkuArgs(name="Premium" if args.zone_redundant else "Standard"),
            admin_user_enabled=False,
            anonymous_pull_enabled=False,
            zone_redundancy="Enabled" if args.zone_redundant else "Disabled",
            **where.located(),
            opts=where.kept(self, import_=args.existing_id),
        )
        roles.assign(
            f"{name}-kubelet-acr-pull",
            scope=registry.id,
            role="AcrPull",
            principal=Principal.of_identity(args.kubelet_object_id),
            subscription_id=where.subscription_id,
            opts=removable(registry),
        )
        self.login_server = registry.login_server
        self.registry_id = registry.id
        self.register_outputs({"login_server": self.login_server, "registry_id": self.registry_id})
