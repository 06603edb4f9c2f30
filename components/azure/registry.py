"""The production container registry."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import containerregistry

from ..options import removable
from . import roles
from .context import Placement, Principal
from .private_link import Endpoint, private_endpoint


@dataclass(frozen=True)
class ContainerRegistryArgs:
    placement: Placement
    """Group, region, tags, subscription; protect applies to the registry."""
    registry_name: str
    """Physical ACR name (broxivaprodacr)."""
    zone_redundant: bool
    """Zone-redundant registry."""
    public_network_access: str
    """Enabled, or Disabled: reachable only through the private endpoint (registry.publicNetworkAccess)."""
    endpoint: Endpoint
    """The private-endpoint subnet and the privatelink.azurecr.io zone."""
    kubelet_object_id: pulumi.Input[str]
    """The cluster's kubelet identity, granted AcrPull."""
    existing_id: str | None
    """Resource ID of the registry if it already exists (adopt.registry): imported, not created."""


class ContainerRegistry(pulumi.ComponentResource):
    """An ACR with no admin user and no anonymous pull, reached through its private endpoint; the kubelet pulls
    with AcrPull."""

    login_server: pulumi.Output[str]
    registry_id: pulumi.Output[str]

    def __init__(self, name: str, args: ContainerRegistryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:azure:ContainerRegistry", name, None, opts)
        where = args.placement
        registry = containerregistry.Registry(
            f"{name}-acr",
            registry_name=args.registry_name,
            # Private endpoints (and zone redundancy) need Premium.
            sku=containerregistry.SkuArgs(name="Premium"),
            admin_user_enabled=False,
            anonymous_pull_enabled=False,
            public_network_access=args.public_network_access,
            network_rule_bypass_options="AzureServices",
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
        private_endpoint(
            f"{name}-endpoint",
            where=where,
            endpoint=args.endpoint,
            target_id=registry.id,
            target_name=args.registry_name,
            group_id="registry",
            opts=removable(registry),
        )
        self.login_server = registry.login_server
        self.registry_id = registry.id
        self.register_outputs({"login_server": self.login_server, "registry_id": self.registry_id})
