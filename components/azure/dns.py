"""The public zone (owned by prod) and this stack's record sets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_azure_native import dns

from ..config import DnsConfig
from ..options import removable
from .context import Placement


def record_logical_name(record_type: str, relative_name: str) -> str:
    """A stable logical name per record set: '@' reads as apex, '*' as wildcard."""
    readable = relative_name.replace("@", "apex").replace("*", "wildcard").replace(".", "-")
    return f"{record_type.lower()}-{readable}"


def zone_id(subscription_id: str, resource_group: str, zone: str) -> str:
    return (
        f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/Microsoft.Network/dnsZones/{zone}"
    )


def _record_sets(cfg: DnsConfig, gateway_ip: pulumi.Input[str]) -> list[tuple[str, str, int, dict[str, Any]]]:
    """(type, relative name, TTL, the RecordSet argument holding the values) of every record set."""
    sets: list[tuple[str, str, int, dict[str, Any]]] = []
    for record in cfg.records:
        values: dict[str, Any]
        if record.type == "A":
            values = {"a_records": [dns.ARecordArgs(ipv4_address=gateway_ip)]}
        elif record.type == "CNAME":
            values = {"cname_record": dns.CnameRecordArgs(cname=record.value)}
        else:
            values = {"txt_records": [dns.TxtRecordArgs(value=list(record.values))]}
        sets.append((record.type, record.name, record.ttl, values))
    if cfg.caa_issuer:
        caa = [dns.CaaRecordArgs(flags=0, tag=tag, value=cfg.caa_issuer) for tag in ("issue", "issuewild")]
        sets.append(("CAA", "@", 3600, {"caa_records": caa}))
    return sets


@dataclass(frozen=True)
class DnsRecordsArgs:
    placement: Placement
    """Region (of the zone's group; the zone itself is global), tags, subscription of the zone, and whether
    the zone and its group are protected when this stack owns them. The zone's group is ``dns``'s."""
    dns: DnsConfig
    """Zone settings and the records of this stack."""
    gateway_ip: pulumi.Input[str]
    """Address every A record points at: this environment's own static gateway IP."""


class DnsRecords(pulumi.ComponentResource):
    """Creates the zone when this stack owns it (prod), otherwise references it, then the record sets."""

    zone_id: pulumi.Output[str]
    zone_name: pulumi.Output[str]
    fqdns: pulumi.Output[list[str]]

    def __init__(self, name: str, args: DnsRecordsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:azure:DnsRecords", name, None, opts)
        cfg = args.dns
        where = args.placement
        parent: pulumi.Resource = self
        if cfg.manage_zone:
            group = where.new_group(f"{name}-rg", cfg.zone_resource_group, self)
            zone = dns.Zone(
                f"{name}-zone",
                zone_name=cfg.zone_name,
                resource_group_name=group.name,
                location="global",
                zone_type=dns.ZoneType.PUBLIC,
                tags=where.tags,
                opts=where.kept(self),
            )
            self.zone_id = zone.id
            self.zone_name = zone.name
            parent = zone
        else:
            self.zone_id = pulumi.Output.from_input(where.subscription_id).apply(
                lambda sub: zone_id(sub, cfg.zone_resource_group, cfg.zone_name)
            )
            self.zone_name = pulumi.Output.from_input(cfg.zone_name)

        for record_type, relative_name, ttl, values in _record_sets(cfg, args.gateway_ip):
            dns.RecordSet(
                f"{name}-{record_logical_name(record_type, relative_name)}",
                zone_name=self.zone_name,
                resource_group_name=cfg.zone_resource_group,
                relative_record_set_name=relative_name,
                record_type=record_type,
                ttl=ttl,
                opts=removable(parent),
                **values,
            )
        fqdns = [cfg.zone_name if r.name == "@" else f"{r.name}.{cfg.zone_name}" for r in cfg.records]
        self.fqdns = pulumi.Output.from_input(fqdns)
        self.register_outputs({"zone_id": self.zone_id, "zone_name": self.zone_name, "fqdns": self.fqdns})
