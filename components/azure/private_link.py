"""Private endpoints: a service's private address in the endpoint subnet, registered in its private DNS zone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import network

from .context import Placement

# Private-link sub-resource (group ID) -> the private DNS zone its records go in ("Azure Private Endpoint
# private DNS zone values", Azure docs). Clients keep using the public name; inside the linked VNet it
# resolves through the privatelink CNAME to the endpoint's private address.
PRIVATE_ZONES: dict[str, str] = {
    "vault": "privatelink.vaultcore.azure.net",
    "registry": "privatelink.azurecr.io",
    "redisEnterprise": "privatelink.redis.azure.net",
    "blob": "privatelink.blob.core.windows.net",
}


def postgres_zone(server_name: str) -> str:
    """The private zone a VNet-integrated flexible server registers in: its name must end in
    ``.postgres.database.azure.com`` (Azure "Networking with private access (VNet integration)")."""
    return f"{server_name}.private.postgres.database.azure.com"


@dataclass(frozen=True)
class Endpoint:
    """Where a service's private endpoint goes."""

    subnet_id: pulumi.Input[str]
    """The private-endpoint subnet."""
    zone_ids: Mapping[str, pulumi.Input[str]]
    """Private DNS zone name -> zone ID (the Network's ``zone_ids``)."""


def private_endpoint(
    name: str,
    *,
    where: Placement,
    endpoint: Endpoint,
    target_id: pulumi.Input[str],
    target_name: str,
    group_id: str,
    opts: pulumi.ResourceOptions,
) -> network.PrivateEndpoint:
    """A private endpoint to ``target_id``'s ``group_id`` sub-resource, with a zone group that keeps its A
    records in the matching private DNS zone (Azure writes and removes them with the endpoint)."""
    # From the service's configured name, so that even a first preview shows the endpoint's name.
    endpoint_name = f"{target_name}-{group_id.lower()}-pe"
    pe = network.PrivateEndpoint(
        name,
        private_endpoint_name=endpoint_name,
        subnet=network.SubnetArgs(id=endpoint.subnet_id),
        custom_network_interface_name=f"{endpoint_name}-nic",
        private_link_service_connections=[
            network.PrivateLinkServiceConnectionArgs(
                name=endpoint_name, private_link_service_id=target_id, group_ids=[group_id]
            )
        ],
        **where.located(),
        opts=opts,
    )
    zone = PRIVATE_ZONES[group_id]
    network.PrivateDnsZoneGroup(
        f"{name}-dns",
        private_dns_zone_group_name="default",
        private_endpoint_name=pe.name,
        resource_group_name=where.resource_group_name,
        private_dns_zone_configs=[
            network.PrivateDnsZoneConfigArgs(name=zone.replace(".", "-"), private_dns_zone_id=endpoint.zone_ids[zone])
        ],
        opts=pulumi.ResourceOptions(parent=pe),
    )
    return pe
