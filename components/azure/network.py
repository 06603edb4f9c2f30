"""The environment's private network: a VNet, its subnets and their NSGs, and the private DNS zones that make
the data services and secrets resolve to private addresses inside it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_azure_native import network, privatedns

from ..config import NetworkConfig
from ..options import removable
from .context import Placement

POSTGRES_DELEGATION = "Microsoft.DBforPostgreSQL/flexibleServers"
"""The service a flexible server's subnet is delegated to (it injects the server's NICs there)."""

# Ports the nodes (and, through the nodes' SNAT under Azure CNI overlay, the pods) may open on each data subnet.
POSTGRES_PORT = 5432
REDIS_PORT = 10000
HTTPS_PORT = 443
_LAST_CUSTOM_PRIORITY = 4000


def _rule(
    name: str, priority: int, *, access: str = "Allow", protocol: str = "Tcp", **match: Any
) -> network.SecurityRuleArgs:
    return network.SecurityRuleArgs(
        name=name, priority=priority, access=access, direction="Inbound", protocol=protocol, **match
    )


def node_rules(gateway_ip: pulumi.Input[str]) -> list[network.SecurityRuleArgs]:
    """Internet to the Gateway's frontend on 80/443. The cloud provider keeps the NSG of the node resource group
    up to date, not a subnet's own NSG, and its load-balancing rules use floating IP, so packets arrive with the
    frontend address as destination (kubernetes-sigs/cloud-provider-azure pkg/provider/azure_loadbalancer.go:
    ``EnableFloatingIP: true`` unless the Service disables it). Everything else keeps Azure's defaults."""
    return [
        _rule(
            "allow-internet-to-gateway",
            100,
            source_address_prefix="Internet",
            source_port_range="*",
            destination_address_prefix=gateway_ip,
            destination_port_ranges=["80", "443"],
        )
    ]


def data_rules(
    sources: dict[str, str], ports: list[int], *, peers_within: str | None = None
) -> list[network.SecurityRuleArgs]:
    """A data subnet: the listed sources on the listed ports, its own members to each other (a server and its
    HA standby) when ``peers_within`` names the subnet, nothing else from the VNet."""
    rules = [
        _rule(
            f"allow-{label}",
            100 + 10 * i,
            source_address_prefix=cidr,
            source_port_range="*",
            destination_address_prefix="*",
            destination_port_ranges=[str(p) for p in ports],
        )
        for i, (label, cidr) in enumerate(sorted(sources.items()))
    ]
    if peers_within:
        rules.append(
            _rule(
                "allow-within-subnet",
                200,
                protocol="*",
                source_address_prefix=peers_within,
                source_port_range="*",
                destination_address_prefix=peers_within,
                destination_port_range="*",
            )
        )
    rules.append(
        _rule(
            "deny-other-vnet-traffic",
            _LAST_CUSTOM_PRIORITY,
            access="Deny",
            protocol="*",
            source_address_prefix="VirtualNetwork",
            source_port_range="*",
            destination_address_prefix="*",
            destination_port_range="*",
        )
    )
    return rules


@dataclass(frozen=True)
class NetworkArgs:
    placement: Placement
    """Group, region, tags; protect applies to the VNet."""
    network: NetworkConfig
    """Address space and subnets."""
    gateway_ip: pulumi.Input[str]
    """The Gateway's public frontend address: the only destination the Internet may reach."""
    private_zones: tuple[str, ...]
    """Private DNS zones to create and link to the VNet (privatelink.vaultcore.azure.net, ...)."""


class Network(pulumi.ComponentResource):
    """VNet with a node subnet, a private-endpoint subnet and a delegated PostgreSQL subnet, each behind its own
    NSG, plus the private DNS zones the private endpoints and the server register in."""

    vnet_id: pulumi.Output[str]
    node_subnet_id: pulumi.Output[str]
    endpoint_subnet_id: pulumi.Output[str]
    postgres_subnet_id: pulumi.Output[str]
    zone_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:azure:Network", name, None, opts)
        where = args.placement
        subnets = args.network.subnets
        vnet = network.VirtualNetwork(
            f"{name}-vnet",
            virtual_network_name=args.network.name,
            address_space=network.AddressSpaceArgs(address_prefixes=[args.network.address_space]),
            **where.located(),
            # Subnets are their own resources below. An update of the VNet keeps them: azure-native reads the live
            # sub-resources into a PUT that does not set them (SUBNETS_CITATION).
            opts=where.kept(self),
        )
        nodes = subnets.nodes
        layout: dict[str, tuple[str, list[network.SecurityRuleArgs], dict[str, Any]]] = {
            "nodes": (nodes, node_rules(args.gateway_ip), {}),
            "endpoints": (
                subnets.private_endpoints,
                data_rules({"nodes": nodes}, [HTTPS_PORT, REDIS_PORT]),
                # NSG rules apply to private endpoints only with network policies on (Azure "Manage network
                # policies for private endpoints").
                {"private_endpoint_network_policies": "Enabled"},
            ),
            "postgres": (
                subnets.postgres,
                data_rules({"nodes": nodes}, [POSTGRES_PORT], peers_within=subnets.postgres),
                {"delegations": [network.DelegationArgs(name="flexible-servers", service_name=POSTGRES_DELEGATION)]},
            ),
        }
        ids: dict[str, pulumi.Output[str]] = {}
        previous: list[pulumi.Resource] = []
        for role, (cidr, rules, extra) in layout.items():
            nsg = network.NetworkSecurityGroup(
                f"{name}-{role}-nsg",
                network_security_group_name=f"{args.network.name}-{role}-nsg",
                security_rules=rules,
                **where.located(),
                opts=removable(vnet),
            )
            subnet = network.Subnet(
                f"{name}-{role}-subnet",
                subnet_name=role,
                virtual_network_name=vnet.name,
                resource_group_name=where.resource_group_name,
                address_prefix=cidr,
                network_security_group=network.NetworkSecurityGroupArgs(id=nsg.id),
                # Subnets of one VNet are written one at a time: Azure refuses concurrent changes to a VNet
                # (AnotherOperationInProgress).
                opts=removable(vnet, depends_on=previous),
                **extra,
            )
            previous = [subnet]
            ids[role] = subnet.id

        self.zone_ids = {}
        for zone_name in args.private_zones:
            zone = privatedns.PrivateZone(
                f"{name}-{zone_name}",
                private_zone_name=zone_name,
                location="Global",
                resource_group_name=where.resource_group_name,
                tags=where.tags,
                opts=removable(vnet),
            )
            link = privatedns.VirtualNetworkLink(
                f"{name}-{zone_name}-link",
                private_zone_name=zone.name,
                virtual_network_link_name=args.network.name,
                virtual_network=privatedns.SubResourceArgs(id=vnet.id),
                registration_enabled=False,
                location="Global",
                resource_group_name=where.resource_group_name,
                tags=where.tags,
                opts=removable(zone),
            )
            # A zone is ready once it is linked: whatever registers in it (a server's records) waits for both.
            self.zone_ids[zone_name] = pulumi.Output.all(zone.id, link.id).apply(lambda ids: ids[0])

        self.vnet_id = vnet.id
        self.node_subnet_id = ids["nodes"]
        self.endpoint_subnet_id = ids["endpoints"]
        self.postgres_subnet_id = ids["postgres"]
        self.register_outputs(
            {
                "vnet_id": self.vnet_id,
                "node_subnet_id": self.node_subnet_id,
                "endpoint_subnet_id": self.endpoint_subnet_id,
                "postgres_subnet_id": self.postgres_subnet_id,
                "zone_ids": self.zone_ids,
            }
        )
