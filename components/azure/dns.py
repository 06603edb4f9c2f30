"""This stack's record sets in the organisation's zone, and the DNS-01 challenge record sets of its certificates.

The zone belongs to the bootstrap project (``bootstrap/``, docs/dns.md); an environment learns it through a stack
reference and writes only the record sets it owns. cert-manager's identity is granted its own ``_acme-challenge``
TXT record sets, never the zone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_azure_native import dns

from ..config import ConfigError, DnsConfig
from ..config import validation as v
from ..options import removable
from .context import Placement

ZONE_TYPE = "Microsoft.Network/dnsZones"
CHALLENGE_LABEL = "_acme-challenge"
CHALLENGE_TTL = 60
CHALLENGE_PLACEHOLDER = "broxiva: cert-manager dns-01 challenge record set, kept by pulumi"
"""A permanent TXT value in each challenge record set. cert-manager's azuredns solver deletes a record set once
its CleanUp has removed the last TXT value (cert-manager pkg/issuer/acme/dns/azuredns/azuredns.go,
``updateTXTRecord``: ``len(set.GetTXTRecords()) == 0`` -> ``recordClient.Delete``); with this value left in, it
updates the set instead, so the set, the role assignment on it and this stack's state stay as declared. Let's
Encrypt accepts a challenge when any TXT value of the name matches (RFC 8555, section 8.4)."""
BOOTSTRAP_OUTPUTS = ("zoneId", "zoneName", "zoneResourceGroup")


def record_logical_name(record_type: str, relative_name: str) -> str:
    """A stable logical name per record set: '@' reads as apex, '*' as wildcard."""
    readable = relative_name.replace("@", "apex").replace("*", "wildcard").replace(".", "-")
    return f"{record_type.lower()}-{readable}"


def zone_id(subscription_id: str, resource_group: str, zone: str) -> str:
    return f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/{ZONE_TYPE}/{zone}"


@dataclass(frozen=True)
class ZoneRef:
    """The organisation's zone, as the bootstrap stack exports it."""

    zone_id: str
    """Resource ID of the zone."""
    zone_name: str
    """The zone's name (broxiva.com)."""
    resource_group: str
    """Resource group of the zone."""
    subscription_id: str
    """Subscription of the zone (cert-manager's solver addresses the zone there)."""


def zone_from_bootstrap(outputs: Mapping[str, Any] | None, *, reference: str, zone_name: str) -> ZoneRef:
    """The zone from the bootstrap stack's outputs, checked; a missing or inconsistent output is a ConfigError
    naming ``dns.bootstrapStack`` (or ``dns.zoneName``) before any record is declared against it.

    Pure: the program applies it to ``StackReference.outputs``; tests give it the bootstrap's rendered outputs.
    """
    outputs = outputs or {}
    missing = [key for key in BOOTSTRAP_OUTPUTS if not isinstance(outputs.get(key), str) or not outputs.get(key)]
    if missing:
        raise ConfigError(
            "dns.bootstrapStack",
            reference,
            f"must name a deployed bootstrap stack exporting {', '.join(BOOTSTRAP_OUTPUTS)} "
            f"(missing: {', '.join(missing)}); run the bootstrap first (docs/bootstrap.md)",
        )
    found = v.parse_arm_id(outputs["zoneId"])
    if found is None or found.type.lower() != ZONE_TYPE.lower():
        raise ConfigError(
            "dns.bootstrapStack",
            reference,
            f"must export zoneId as the resource ID of a {ZONE_TYPE}, not {outputs['zoneId']!r}",
        )
    if outputs["zoneName"] != zone_name or found.name.lower() != zone_name:
        raise ConfigError(
            "dns.zoneName", zone_name, f"must be the zone the bootstrap stack exports ({outputs['zoneName']})"
        )
    if found.group.lower() != outputs["zoneResourceGroup"].lower():
        raise ConfigError(
            "dns.bootstrapStack",
            reference,
            f"must export a zoneId inside zoneResourceGroup ({outputs['zoneResourceGroup']}), not {outputs['zoneId']!r}",
        )
    return ZoneRef(outputs["zoneId"], zone_name, outputs["zoneResourceGroup"], found.subscription)


def ci_principal_ids(outputs: Mapping[str, Any] | None) -> list[str]:
    """The principal IDs of the bootstrap's CI identities (``ciIdentities``: name -> clientId, principalId)."""
    identities = (outputs or {}).get("ciIdentities")
    if not isinstance(identities, Mapping):
        return []
    return sorted(str(i["principalId"]) for i in identities.values() if isinstance(i, Mapping) and i.get("principalId"))


def challenge_record_name(host: str, zone: str) -> str:
    """The relative name of the TXT record set a DNS-01 challenge for ``host`` is answered in (a wildcard's is its
    base name's: RFC 8555 section 8.4, and cert-manager's ``_acme-challenge.<domain>`` without ``*.``)."""
    base = host[2:] if host.startswith("*.") else host
    relative = v.relative_record_name(base, zone)
    return CHALLENGE_LABEL if relative == "@" else f"{CHALLENGE_LABEL}.{relative}"


def challenge_record_names(hosts: Iterable[str], zone: str) -> tuple[str, ...]:
    """The distinct challenge record sets of every certificate name of this stack, in the order first seen."""
    return tuple(dict.fromkeys(challenge_record_name(h, zone) for h in hosts))


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
    caa = caa_records(cfg)
    if caa:
        sets.append(("CAA", "@", 3600, {"caa_records": [dns.CaaRecordArgs(flags=0, tag=t, value=v) for t, v in caa]}))
    return sets


def caa_records(cfg: DnsConfig) -> list[tuple[str, str]]:
    """(tag, issuer) of the apex CAA set: ``issue`` for every allowed CA, ``issuewild`` for those allowed
    wildcards. Without an issuewild property, issue governs wildcards too (RFC 8659 section 4.3)."""
    if not cfg.caa_issuers:
        return []
    wildcard = cfg.caa_issuers if cfg.caa_wildcard_issuers is None else cfg.caa_wildcard_issuers
    # An empty issuer (";") forbids wildcards outright; leaving issuewild out would let issue govern them.
    return [("issue", ca) for ca in cfg.caa_issuers] + [("issuewild", ca) for ca in wildcard or (";",)]


@dataclass(frozen=True)
class DnsRecordsArgs:
    placement: Placement
    """Tags; the record sets' group and subscription are the zone's (``zone``), not the environment's."""
    dns: DnsConfig
    """The records of this stack."""
    zone: pulumi.Input[ZoneRef]
    """The organisation's zone, from the bootstrap stack (``zone_from_bootstrap``)."""
    gateway_ip: pulumi.Input[str]
    """Address every A record points at: this environment's own static gateway IP."""
    challenge_hosts: tuple[str, ...]
    """Every name this stack's certificates cover: each gets its ``_acme-challenge`` TXT record set."""


class DnsRecords(pulumi.ComponentResource):
    """This stack's record sets and its DNS-01 challenge record sets, in the bootstrap's zone."""

    zone_id: pulumi.Output[str]
    zone_name: pulumi.Output[str]
    zone_resource_group: pulumi.Output[str]
    zone_subscription_id: pulumi.Output[str]
    fqdns: pulumi.Output[list[str]]
    challenge_record_ids: dict[str, pulumi.Output[str]]
    """Relative name -> resource ID of each ``_acme-challenge`` TXT record set (the scopes of cert-manager's role)."""

    def __init__(self, name: str, args: DnsRecordsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:azure:DnsRecords", name, None, opts)
        cfg = args.dns
        zone = pulumi.Output.from_input(args.zone)
        self.zone_id = zone.apply(lambda z: z.zone_id)
        self.zone_name = zone.apply(lambda z: z.zone_name)
        self.zone_resource_group = zone.apply(lambda z: z.resource_group)
        self.zone_subscription_id = zone.apply(lambda z: z.subscription_id)
        # Until the bootstrap took it over, the prod stack created the zone and parented its record sets on it:
        # the alias keeps those record sets (same URN under the old parent), so moving the zone replaces no
        # record (docs/dns.md, "Moving the zone"). It matches nothing in the other stacks.
        moved = [pulumi.Alias(parent=pulumi.create_urn(f"{name}-zone", "azure-native:dns:Zone", parent=self))]

        for record_type, relative_name, ttl, values in _record_sets(cfg, args.gateway_ip):
            dns.RecordSet(
                f"{name}-{record_logical_name(record_type, relative_name)}",
                zone_name=self.zone_name,
                resource_group_name=self.zone_resource_group,
                relative_record_set_name=relative_name,
                record_type=record_type,
                ttl=ttl,
                opts=removable(self, aliases=moved),
                **values,
            )
        self.challenge_record_ids = {}
        for relative_name in challenge_record_names(args.challenge_hosts, cfg.zone_name):
            challenge = dns.RecordSet(
                f"{name}-{record_logical_name('TXT', relative_name.replace('_', ''))}",
                zone_name=self.zone_name,
                resource_group_name=self.zone_resource_group,
                relative_record_set_name=relative_name,
                record_type="TXT",
                ttl=CHALLENGE_TTL,
                txt_records=[dns.TxtRecordArgs(value=[CHALLENGE_PLACEHOLDER])],
                # The values are cert-manager's between the placeholder's creation and the set's deletion: an
                # `up` during a challenge must not overwrite the value it has just presented.
                opts=removable(self, ignore_changes=["txtRecords"]),
            )
            self.challenge_record_ids[relative_name] = challenge.id
        fqdns = [cfg.zone_name if r.name == "@" else f"{r.name}.{cfg.zone_name}" for r in cfg.records]
        self.fqdns = pulumi.Output.from_input(fqdns)
        self.register_outputs(
            {
                "zone_id": self.zone_id,
                "zone_name": self.zone_name,
                "zone_resource_group": self.zone_resource_group,
                "zone_subscription_id": self.zone_subscription_id,
                "fqdns": self.fqdns,
                "challenge_record_ids": self.challenge_record_ids,
            }
        )
