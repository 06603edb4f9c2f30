"""The static public IP of the Gateway's load balancer."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import network

from .context import Placement


@dataclass(frozen=True)
class GatewayAddressArgs:
    placement: Placement
    """Group (the Gateway's Service names it in azure-load-balancer-resource-group), region, tags; protected
    where stateful resources are: DNS points at this address."""
    ip_name: str
    """Physical name of the IP (the azure-pip-name annotation refers to it)."""
    zones: tuple[str, ...]
    """Zones of the IP: all three in prod makes it zone-redundant."""


class GatewayAddress(pulumi.ComponentResource):
    """A Standard static public IP created before the cluster, so DNS never waits for a load balancer."""

    ip_address: pulumi.Output[str]
    ip_id: pulumi.Output[str]
    ip_name: pulumi.Output[str]
    resource_group_name: pulumi.Output[str]

    def __init__(self, name: str, args: GatewayAddressArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:azure:GatewayAddress", name, None, opts)
        where = args.placement
        ip = network.PublicIPAddress(
            f"{name}-ip",
            public_ip_address_name=args.ip_name,
            sku=network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
            public_ip_allocation_method="Static",
            public_ip_address_version="IPv4",
            zones=list(args.zones) or None,
            **where.located(),
            opts=where.kept(self),
        )
        self.ip_address = ip.ip_address.apply(lambda a: a or "")
        self.ip_id = ip.id
        self.ip_name = ip.name
        self.resource_group_name = pulumi.Output.from_input(where.resource_group_name)
        self.register_outputs(
            {
                "ip_address": self.ip_address,
                "ip_id": self.ip_id,
                "ip_name": self.ip_name,
                "resource_group_name": self.resource_group_name,
            }
        )
