"""The public zone: created once for the organisation (or adopted), protected, owned by no environment."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import dns

from ..azure.context import Placement, resource_group_of
from .settings import ZoneConfig


@dataclass(frozen=True)
class PublicZoneArgs:
    placement: Placement
    """Region of the zone's resource group, tags, subscription; protect applies to the group and the zone.
    The group itself is ``zone.resource_group``."""
    zone: ZoneConfig
    """Zone name, its resource group, and the ID of an existing zone to adopt."""


class PublicZone(pulumi.ComponentResource):
    """The zone's resource group and the zone. With ``adoptZoneId`` both are imported (``import_``): azure-native
    refuses to create a resource that already exists, and the zone must never be recreated (its name servers are
    delegated at the registrar)."""

    zone_id: pulumi.Output[str]
    zone_name: pulumi.Output[str]
    resource_group_name: pulumi.Output[str]
    name_servers: pulumi.Output[list[str]]

    def __init__(self, name: str, args: PublicZoneArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:bootstrap:PublicZone", name, None, opts)
        where, cfg = args.placement, args.zone
        adopted = cfg.adopt_zone_id
        group = where.new_group(
            f"{name}-rg",
            cfg.resource_group,
            self,
            # An adopted zone's group exists too (the prod stack created both).
            existing_id=resource_group_of(adopted) if adopted else None,
        )
        zone = dns.Zone(
            f"{name}-zone",
            zone_name=cfg.zone_name,
            resource_group_name=group.name,
            location="global",
            zone_type=dns.ZoneType.PUBLIC,
            tags=where.tags,
            opts=where.kept(self, import_=adopted),
        )
        self.zone_id = zone.id
        self.zone_name = zone.name
        self.resource_group_name = group.name
        self.name_servers = zone.name_servers.apply(lambda servers: list(servers or []))
        self.register_outputs(
            {
                "zone_id": self.zone_id,
                "zone_name": self.zone_name,
                "resource_group_name": self.resource_group_name,
                "name_servers": self.name_servers,
            }
        )
