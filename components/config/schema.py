"""The shape of a stack's configuration: frozen pydantic models, one per object of ``Pulumi.<stack>.yaml``.

Each field's docstring is its documentation (``docs/configuration.md`` is generated from it). Rules that
involve one object live in its model validator; rules that span objects live in ``rules.py``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, model_validator
from pydantic.alias_generators import to_camel

from ..monitoring import DEFAULT_METRICS_PORT, Level, Receiver, Severity
from ..names import Color, idle_color
from . import validation as v
from .errors import FieldError


def _check(problem: Callable[..., str | None], **kwargs: Any) -> AfterValidator:
    def run(value: Any) -> Any:
        issue = problem(value, **kwargs)
        if issue:
            raise ValueError(f"must be {issue}")
        return value

    return AfterValidator(run)


def _at_most(key: str, value: Any, bound_key: str, bound: Any, *, measure: Callable[[Any], Any] = lambda x: x) -> None:
    """A lower bound above its upper bound is reported on the lower one, naming the other."""
    if measure(value) > measure(bound):
        raise FieldError(key, value, f"must be <= {bound_key} ({bound})")


def _quantity(parser: Callable[[str], Any], allowed: str) -> AfterValidator:
    def run(value: str) -> str:
        try:
            parser(value)
        except ValueError:
            raise ValueError(f"must be {allowed}") from None
        return value

    return AfterValidator(run)


DnsName = Annotated[str, _check(v.dns_name_problem)]
WildcardName = Annotated[str, _check(v.dns_name_problem, allow_wildcard=True)]
Label = Annotated[str, _check(v.dns1123_label_problem)]
Uuid = Annotated[str, _check(v.uuid_problem)]
Cidr = Annotated[str, _check(v.cidr_problem)]
Cpu = Annotated[str, _quantity(v.parse_cpu, "a CPU quantity (use millicores like 250m, or cores like 1)")]
Memory = Annotated[str, _quantity(v.parse_memory, "a memory quantity (use binary units like 512Mi or 1Gi)")]
NonEmpty = Annotated[str, Field(min_length=1)]


class Model(BaseModel):
    """Base of every config object: camelCase keys, unknown keys rejected, immutable."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        use_attribute_docstrings=True,
    )


# --------------------------------------------------------------------------- cluster


class NodePool(Model):
    vm_size: Annotated[str, Field(pattern=r"^Standard_[A-Za-z0-9_]+$")]
    """Azure VM size of the pool's nodes, e.g. Standard_D8s_v3."""
    min_count: Annotated[int, Strict(), Field(ge=0, le=v.AKS_MAX_NODES_PER_POOL)]
    """Lower bound of the cluster autoscaler."""
    max_count: Annotated[int, Strict(), Field(ge=1, le=v.AKS_MAX_NODES_PER_POOL)]
    """Upper bound of the cluster autoscaler."""
    max_pods: Annotated[int, Strict(), Field(ge=10, le=250)] = 110
    """Pods per node (Azure CNI overlay allows up to 250)."""
    os_disk_type: Literal["Ephemeral", "Managed"] | None = None
    """Ephemeral (on the VM's cache: faster, stateless, free) or Managed. Unset: Ephemeral where the VM size's
    cache holds at least a 30 GB OS disk, else Managed. AKS cannot change it on a live pool (a new pool takes over)."""
    os_disk_size_gb: Annotated[int, Strict(), Field(ge=30, le=2048)] | None = None
    """OS disk size of each node in GB. Unset: the VM's cache size for an ephemeral disk, 128 for a managed one."""
    critical_addons_only: bool = False
    """Taint the pool CriticalAddonsOnly=true:NoSchedule (system pools in staging and prod)."""

    @model_validator(mode="after")
    def _bounds(self) -> NodePool:
        _at_most("minCount", self.min_count, "maxCount", self.max_count)
        issue = v.os_disk_problem(self.vm_size, self.os_disk_type, self.os_disk_size_gb)
        if issue:
            key, value = (
                ("osDiskSizeGb", self.os_disk_size_gb) if self.os_disk_size_gb else ("osDiskType", self.os_disk_type)
            )
            raise FieldError(key, value, f"must be {issue}")
        return self

    @property
    def os_disk(self) -> tuple[str, int]:
        """The OS disk type and size the pool is created with."""
        return v.os_disk(self.vm_size, self.os_disk_type, self.os_disk_size_gb)


class MaintenanceWindow(Model):
    day_of_week: Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    """Day on which automatic upgrades may start."""
    start_time: Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
    """Start of the window, HH:MM in utcOffset."""
    duration_hours: Annotated[int, Strict(), Field(ge=4, le=24)] = 4
    """Length of the window; AKS requires at least 4 hours."""
    utc_offset: Annotated[str, Field(pattern=r"^[+-](0\d|1[0-4]):[0-5]\d$")] = "+00:00"
    """Offset of startTime from UTC, e.g. -05:00 for EST."""


class ClusterConfig(Model):
    name: Annotated[str, _check(v.aks_name_problem)]
    """AKS managed cluster name (broxiva-<env>-aks)."""
    kubernetes_version: Annotated[str, Field(pattern=r"^1\.\d{2}(\.\d+)?$")]
    """Kubernetes version (minor, e.g. 1.34, or patch); also the schema version rendered objects are checked against."""
    tier: Literal["Free", "Standard", "Premium"]
    """AKS pricing tier; Standard gives the uptime SLA."""
    availability_zones: tuple[Literal["1", "2", "3"], ...] = ()
    """Zones of every node pool (prod: 1, 2, 3)."""
    system_pool: NodePool
    """The system node pool."""
    workload_pool: NodePool
    """The user node pool that runs the apps."""
    api_server_access: Literal["public", "authorizedRanges", "private"] = "public"
    """How the API server is reached (docs/network.md says what each needs from CI runners): public (any address,
    Entra ID sign-in only, no local accounts), authorizedRanges (only apiServerAuthorizedIpRanges), private
    (a private endpoint in the node subnet; deploys run from inside the network)."""
    api_server_authorized_ip_ranges: tuple[Cidr, ...] = ()
    """CIDR ranges allowed to reach the API server; only with apiServerAccess authorizedRanges."""
    azure_policy: bool = False
    """The Azure Policy add-on (Gatekeeper with Azure's built-in Kubernetes policies); on in staging and prod."""
    image_cleaner: bool = True
    """Image Cleaner removes unused, vulnerable images from the nodes weekly; on in staging and prod."""
    admin_group_object_ids: tuple[Uuid, ...] = ()
    """Entra ID groups that are cluster admins."""
    kubelogin_mode: Literal["azurecli", "workloadidentity", "spn", "msi", "azd", "devicecode"] = "azurecli"
    """kubelogin --login mode of the generated kubeconfig (azurecli for a person, workloadidentity in CI)."""
    log_retention_days: Annotated[int, Strict(), Field(ge=30, le=730)] = 30
    """Log Analytics workspace retention."""
    maintenance_window: MaintenanceWindow
    """When automatic patch and node-image upgrades may run (outside deployment hours)."""
    pod_cidr: Cidr = "10.244.0.0/16"
    """Overlay pod CIDR."""
    service_cidr: Cidr = "10.0.0.0/16"
    """Kubernetes service CIDR."""
    dns_service_ip: str = "10.0.0.10"
    """ClusterIP of CoreDNS, inside serviceCidr."""

    @model_validator(mode="after")
    def _network(self) -> ClusterConfig:
        service = ipaddress.ip_network(self.service_cidr)
        try:
            dns_ip = ipaddress.ip_address(self.dns_service_ip)
        except ValueError:
            raise FieldError("dnsServiceIp", self.dns_service_ip, "must be an IP address") from None
        if dns_ip not in service:
            raise FieldError("dnsServiceIp", self.dns_service_ip, f"must be inside serviceCidr ({service})")
        if ipaddress.ip_network(self.pod_cidr).overlaps(service):
            raise FieldError("podCidr", self.pod_cidr, f"must not overlap serviceCidr ({service})")
        if self.system_pool.min_count < 1:
            raise FieldError("systemPool.minCount", self.system_pool.min_count, "must be >= 1 (AKS system pools)")
        if len(set(self.availability_zones)) != len(self.availability_zones):
            raise FieldError("availabilityZones", list(self.availability_zones), "must not repeat a zone")
        ranges = list(self.api_server_authorized_ip_ranges)
        if self.api_server_access == "authorizedRanges" and not ranges:
            raise FieldError(
                "apiServerAuthorizedIpRanges", [], "must list at least one range with apiServerAccess authorizedRanges"
            )
        if self.api_server_access != "authorizedRanges" and ranges:
            raise FieldError(
                "apiServerAuthorizedIpRanges",
                ranges,
                f"must be empty with apiServerAccess {self.api_server_access} (set apiServerAccess: authorizedRanges)",
            )
        return self


# --------------------------------------------------------------------------- network


class SubnetsConfig(Model):
    nodes: Cidr
    """AKS nodes (Azure CNI overlay: pods take their IPs from cluster.podCidr, not from here)."""
    private_endpoints: Cidr
    """Private endpoints of Key Vault, Redis, the backup storage and (prod) the registry."""
    postgres: Cidr
    """Delegated to Microsoft.DBforPostgreSQL/flexibleServers; holds the server (and its HA standby)."""


class NetworkConfig(Model):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}[A-Za-z0-9_]$")]
    """VNet name (broxiva-<env>-vnet); its subnets' NSGs are named after it."""
    address_space: Cidr
    """The environment's VNet; must not overlap another stack's (a later peering or VPN needs distinct ranges)."""
    subnets: SubnetsConfig
    """Subnets, each inside addressSpace and apart from the others."""

    @model_validator(mode="after")
    def _layout(self) -> NetworkConfig:
        space = ipaddress.ip_network(self.address_space)
        subnets = {name: ipaddress.ip_network(getattr(self.subnets, name)) for name in v.SUBNET_MIN_PREFIX}
        for name, net in subnets.items():
            key = f"subnets.{to_camel(name)}"
            if not net.subnet_of(space):  # type: ignore[arg-type]
                raise FieldError(key, str(net), f"must be inside addressSpace ({space})")
            smallest = v.SUBNET_MIN_PREFIX[name]
            if net.prefixlen > smallest:
                raise FieldError(key, str(net), f"must be a /{smallest} or larger")
        names = list(subnets)
        for i, first in enumerate(names):
            for second in names[i + 1 :]:
                if subnets[first].overlaps(subnets[second]):
                    raise FieldError(
                        f"subnets.{to_camel(second)}",
                        str(subnets[second]),
                        f"must not overlap subnets.{to_camel(first)} ({subnets[first]})",
                    )
        return self


# --------------------------------------------------------------------------- azure data


class RegistryConfig(Model):
    server: NonEmpty
    """Registry host and path images are pulled from (ghcr.io/broxiva, broxivaprodacr.azurecr.io)."""
    acr_name: Annotated[str, _check(v.acr_name_problem)] | None = None
    """Create this Azure Container Registry (prod) and grant the kubelet AcrPull."""
    pull_token_secret: Annotated[str, Field(pattern=r"^[a-z0-9-]{1,127}$")] | None = None
    """Key Vault secret holding a registry pull token (a ghcr.io PAT); synced as an image pull secret."""
    pull_username: Annotated[str, Field(pattern=r"^[A-Za-z0-9-]{1,39}$")] = "broxiva-bot"
    """User name paired with the pull token in the dockerconfigjson."""
    public_network_access: Literal["Enabled", "Disabled"] = "Disabled"
    """ACR only: reachable from the internet, or only through its private endpoint (docs/network.md says how
    images get in)."""

    @model_validator(mode="after")
    def _acr(self) -> RegistryConfig:
        if self.acr_name and self.server != f"{self.acr_name}.azurecr.io":
            raise FieldError("server", self.server, f"must be {self.acr_name}.azurecr.io when acrName is set")
        if self.acr_name and self.pull_token_secret:
            raise FieldError("pullTokenSecret", self.pull_token_secret, "must be unset with an ACR (AcrPull is used)")
        return self

    @property
    def host(self) -> str:
        """The registry host alone (what a dockerconfigjson is keyed by)."""
        return self.server.split("/", 1)[0]


class KeyVaultConfig(Model):
    name: Annotated[str, _check(v.key_vault_name_problem)]
    """Key Vault name (globally unique)."""
    purge_protection: bool
    """Purge protection (irreversible once on); required in staging and prod."""
    soft_delete_retention_days: Annotated[int, Strict(), Field(ge=7, le=90)] = 90
    """Soft delete retention."""
    public_network_access: Literal["Enabled", "Disabled"] = "Disabled"
    """Disabled: the data plane answers only through the private endpoint (off in staging and prod). pulumi up
    still writes secrets: it does so through Azure Resource Manager, not the data plane (docs/network.md)."""
    network_default_action: Literal["Allow", "Deny"] = "Deny"
    """Firewall default while public access is Enabled; Deny admits only allowedIpRanges and trusted services."""
    allowed_ip_ranges: tuple[Cidr, ...] = ()
    """Ranges admitted to the data plane while public access is Enabled (operators reading dev secrets)."""

    @model_validator(mode="after")
    def _firewall(self) -> KeyVaultConfig:
        if self.public_network_access == "Disabled" and self.allowed_ip_ranges:
            raise FieldError(
                "allowedIpRanges",
                list(self.allowed_ip_ranges),
                "must be empty with publicNetworkAccess Disabled (nothing public is admitted)",
            )
        return self


class EntraAdmin(Model):
    object_id: Uuid
    """Object ID of the Entra ID group."""
    name: Annotated[str, Field(min_length=1, max_length=128)]
    """Its display name (the server's Entra administrator is named after it)."""


class PostgresConfig(Model):
    """The environment's Azure Database for PostgreSQL flexible server, reachable only inside the VNet."""

    server_name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")]
    """Server name (globally unique: <name>.postgres.database.azure.com)."""
    version: Literal["13", "14", "15", "16", "17"]
    """PostgreSQL major version (the seeds run 15). A major upgrade is an in-place server operation."""
    tier: Literal["Burstable", "GeneralPurpose", "MemoryOptimized"]
    """Compute tier: Burstable (dev), GeneralPurpose (staging, prod)."""
    sku: Annotated[str, Field(pattern=r"^Standard_[A-Za-z0-9_]+$")]
    """Compute size of the tier: Standard_B* (Burstable), Standard_D* (GeneralPurpose), Standard_E* (MemoryOptimized)."""
    storage_gb: Literal[32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767]
    """Initial storage size in GiB. Afterwards Azure grows it on its own when nearly full (auto-grow) and the program
    leaves the size alone (it never shrinks); grow it ahead of time with az postgres flexible-server update
    --storage-size."""
    backup_retention_days: Annotated[int, Strict(), Field(ge=7, le=35)] = 7
    """Point-in-time restore window (prod: 35)."""
    geo_redundant_backup: bool = False
    """Copy backups to the paired region (prod). Fixed when the server is created."""
    high_availability: Literal["Disabled", "ZoneRedundant", "SameZone"] = "Disabled"
    """A standby that takes over on failure (prod: ZoneRedundant, in standbyZone)."""
    zone: Literal["1", "2", "3"] | None = None
    """Availability zone of the primary."""
    standby_zone: Literal["1", "2", "3"] | None = None
    """Availability zone of the ZoneRedundant standby."""
    database: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,62}$")] = "broxiva"
    """The application database."""
    admin_user: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,62}$")] = "broxiva"
    """Administrator login; its password is the generated postgres-password. Fixed when the server is created."""
    entra_admin: EntraAdmin
    """The Entra ID group that administers the server (the cluster admin group)."""
    sslmode: Literal["require", "verify-ca", "verify-full"] = "require"
    """sslmode of postgres-url (the server refuses unencrypted connections in any case)."""

    @model_validator(mode="after")
    def _shape(self) -> PostgresConfig:
        family = {"Burstable": "Standard_B", "GeneralPurpose": "Standard_D", "MemoryOptimized": "Standard_E"}[self.tier]
        if not self.sku.startswith(family):
            raise FieldError("sku", self.sku, f"must be a {family}* size for the {self.tier} tier")
        if self.admin_user in v.POSTGRES_RESERVED_LOGINS:
            raise FieldError(
                "adminUser", self.admin_user, "must not be a name Azure reserves (azure_superuser, admin, ...)"
            )
        if self.high_availability != "Disabled" and self.tier == "Burstable":
            raise FieldError("highAvailability", self.high_availability, "must be Disabled for the Burstable tier")
        if self.high_availability == "ZoneRedundant":
            if self.zone is None or self.standby_zone is None:
                raise FieldError(
                    "highAvailability", self.high_availability, "needs zone and standbyZone (zone-redundant HA)"
                )
            if self.zone == self.standby_zone:
                raise FieldError("standbyZone", self.standby_zone, f"must differ from zone ({self.zone})")
        elif self.standby_zone is not None:
            raise FieldError("standbyZone", self.standby_zone, "must be unset unless highAvailability is ZoneRedundant")
        return self

    @property
    def port(self) -> int:
        """Flexible servers listen on 5432 only."""
        return 5432


class RedisConfig(Model):
    """The environment's Azure Managed Redis (Azure Cache for Redis is retiring: no new caches from October 2026)."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9]([A-Za-z0-9-]{0,58}[A-Za-z0-9])?$")]
    """Cache name (globally unique: <name>.<region>.redis.azure.net)."""
    sku: Literal[
        "Balanced_B0",
        "Balanced_B1",
        "Balanced_B3",
        "Balanced_B5",
        "Balanced_B10",
        "Balanced_B20",
        "Balanced_B50",
        "Balanced_B100",
        "Balanced_B150",
        "Balanced_B250",
        "Balanced_B350",
        "Balanced_B500",
        "Balanced_B700",
        "Balanced_B1000",
    ]
    """Balanced size (memory and vCPUs; B0 is the smallest)."""
    high_availability: bool = False
    """Replicate each shard (prod); without it a node failure loses data."""
    eviction_policy: Literal["NoEviction", "AllKeysLRU", "AllKeysLFU", "VolatileLRU", "VolatileLFU", "VolatileTTL"] = (
        "NoEviction"
    )
    """What happens when memory is full. NoEviction: writes fail rather than silently losing queued jobs."""

    @property
    def port(self) -> int:
        """Azure Managed Redis serves TLS on 10000 (no plain-text port)."""
        return 10000


RotationStamp = Annotated[str, _check(v.rotation_stamp_problem)]


class KeyVersions(Model):
    """The versions of one data-encryption key. Each version is its own generated value, made once and kept
    for as long as the version is listed: changing ``current`` never changes an existing value."""

    current: RotationStamp
    """The version the apps encrypt with (the key's Key Vault secret). For a key made before versions existed,
    the rotation stamp it was generated under (its value is kept)."""
    previous: RotationStamp | None = None
    """The version before it, still readable as <name>-previous (<ENV>_PREVIOUS) until the data encrypted with it
    has been re-encrypted. Dropping it deletes that value."""

    @model_validator(mode="after")
    def _distinct(self) -> KeyVersions:
        if self.previous == self.current:
            raise FieldError("previous", self.previous, f"must differ from current ({self.current})")
        return self


class SecretsConfig(Model):
    rotation: RotationStamp
    """Rotation stamp YYYY-MM or YYYY-MM-DD (a suffix like .2 for a second rotation that day); changing it
    regenerates every generated secret except the encryption keys (90-day rotation), the PostgreSQL password
    with it, re-reads the vault into the cluster and restarts every pod in the same update."""
    encryption_keys: Mapping[str, KeyVersions]
    """Versions of the keys that encrypt stored data (encryption-key, kyc-encryption-key), by Key Vault name. The
    rotation stamp never regenerates them: a new current version keeps the old one as previous."""
    expiry_days: Annotated[int, Strict(), Field(ge=30, le=730)] = 120
    """Generated secrets expire this many days after the rotation stamp's date: a reminder that shows in Key
    Vault (Key Vault and External Secrets still serve an expired secret)."""
    webhook_secret: bool = False
    """Generate the optional webhook-secret."""
    refresh_interval: Annotated[str, Field(pattern=r"^([1-9]\d*)(s|m|h)$")] = "1h"
    """How often External Secrets re-reads Key Vault (at most 1h)."""


class BackupsConfig(Model):
    storage_account: Annotated[str, Field(pattern=r"^[a-z0-9]{3,24}$")]
    """Storage account holding the database-backups container (globally unique, private)."""
    soft_delete_days: Annotated[int, Strict(), Field(ge=1, le=365)] = 30
    """Deleted blobs, versions and containers are kept this long."""
    immutability_days: Annotated[int, Strict(), Field(ge=1, le=3650)] | None = None
    """Backups cannot be changed or deleted for this many days (prod). Unset: no immutability."""


class DnsRecord(Model):
    type: Literal["A", "CNAME", "TXT"]
    """Record type; A records point at this environment's gateway IP."""
    name: Annotated[str, Field(pattern=r"^(@|(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?)$")]
    """Relative record-set name inside the zone (@ for the apex)."""
    ttl: Annotated[int, Strict(), Field(ge=60, le=86400)]
    """TTL in seconds."""
    value: str | None = None
    """CNAME target; not allowed for A and TXT."""
    values: tuple[Annotated[str, Field(min_length=1, max_length=255)], ...] = ()
    """TXT strings; not allowed for A and CNAME."""

    @model_validator(mode="after")
    def _shape(self) -> DnsRecord:
        if self.type == "A" and (self.value or self.values):
            raise FieldError("value", self.value or list(self.values), "must be unset: A records use the gateway IP")
        if self.type == "CNAME":
            issue = v.dns_name_problem(self.value or "")
            if issue:
                raise FieldError("value", self.value, f"must be {issue}")
        if self.type == "TXT" and not self.values:
            raise FieldError("values", [], "must list at least one TXT string")
        if self.type == "TXT" and self.value is not None:
            raise FieldError("value", self.value, "must be unset for TXT records (use values)")
        if self.type == "CNAME" and self.values:
            raise FieldError("values", list(self.values), "must be unset for CNAME records (use value)")
        if self.type == "CNAME" and self.name == "@":
            raise FieldError("name", self.name, "must not be the zone apex: a CNAME cannot sit beside SOA and NS")
        return self


class DnsConfig(Model):
    bootstrap_stack: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")]
    """The bootstrap stack that owns the zone, read through a stack reference: <organization>/broxiva-bootstrap/org
    (on a DIY backend such as azblob:// the organization is always "organization")."""
    zone_name: DnsName
    """The public zone (broxiva.com): the domains are checked against it before anything is declared, and it must
    be the zone the bootstrap stack exports."""
    records: tuple[DnsRecord, ...]
    """The record sets this stack owns."""
    caa_issuers: tuple[DnsName, ...] = ()
    """CAs allowed to issue certificates for the zone (CAA issue at the apex): letsencrypt.org for the Gateway's
    certificates, and in prod amazon.com for the CDN's CloudFront certificate of cdn. Empty: no CAA record."""
    caa_wildcard_issuers: tuple[DnsName, ...] | None = None
    """CAs allowed to issue wildcard certificates (CAA issuewild). Unset: the same as caaIssuers."""

    @model_validator(mode="after")
    def _unique(self) -> DnsConfig:
        seen: set[tuple[str, str]] = set()
        for i, record in enumerate(self.records):
            key = (record.type, record.name)
            if key in seen:
                raise FieldError(f"records[{i}]", f"{record.type} {record.name}", "must not repeat a record set")
            seen.add(key)
        for i, record in enumerate(self.records):
            others = {r.type for r in self.records if r.name == record.name and r is not record}
            if record.type == "CNAME" and others:
                raise FieldError(
                    f"records[{i}].name",
                    record.name,
                    f"must not also hold {', '.join(sorted(others))} records beside a CNAME",
                )
        if self.caa_issuers and not any(r.name == "@" for r in self.records):
            raise FieldError(
                "caaIssuers",
                list(self.caa_issuers),
                "must be empty unless this stack owns the zone apex (a record named @)",
            )
        if self.caa_wildcard_issuers is not None and not self.caa_issuers:
            raise FieldError(
                "caaWildcardIssuers", list(self.caa_wildcard_issuers), "must be unset while caaIssuers is empty"
            )
        for field, issuers in (("caaIssuers", self.caa_issuers), ("caaWildcardIssuers", self.caa_wildcard_issuers)):
            if issuers and len(set(issuers)) != len(issuers):
                raise FieldError(field, list(issuers), "must not repeat an issuer")
        return self


class DomainsConfig(Model):
    web: DnsName
    """Web host (storefront)."""
    api: DnsName
    """API host."""
    admin: DnsName
    """Admin host."""
    wildcard: WildcardName
    """Wildcard covered by the web certificate (DNS-01)."""
    www: DnsName | None = None
    """Host that redirects (301) to the web host (prod: www.broxiva.com)."""


class TlsConfig(Model):
    acme_email: Annotated[str, _check(v.email_problem)]
    """Let's Encrypt account e-mail."""
    issuer: Literal["letsencrypt-production", "letsencrypt-staging"] = "letsencrypt-production"
    """ClusterIssuer the certificates use."""


class Features(Model):
    rate_limiting: Literal["off", "standard", "strict"]
    """Edge rate limiting: off (dev), standard (staging), strict (prod)."""
    payment_mode: Literal["mock", "sandbox", "live"]
    """Payment gateways: mock (dev), sandbox (staging), live (prod)."""
    email_provider: Literal["mailhog", "sendgrid-test", "sendgrid"]
    """E-mail delivery."""
    monitoring: Level
    """Monitoring level: basic (Container Insights, diagnostic settings, tracing), full (plus managed
    Prometheus, scraping, Grafana and dashboards) or full-alerts (plus alert rules and notifications)."""


class AlertsConfig(Model):
    emails: tuple[Annotated[str, _check(v.email_problem)], ...] = ()
    """Addresses the email receiver notifies."""
    routes: Mapping[Severity, Annotated[tuple[Receiver, ...], Field(min_length=1)]]
    """Which receivers (email, slack, pagerduty) each severity (critical, error, warning, informational)
    notifies: one action group per severity. Slack and PagerDuty take their addresses from providedSecrets
    (alertSlackWebhookUrl, alertPagerdutyIntegrationKey)."""
    severities: Mapping[str, Severity] = {}
    """Severity of an alert rule by name, where it differs from the rule's default (docs/observability.md)."""


class ObservabilityConfig(Model):
    grafana_name: Annotated[str, Field(pattern=r"^[a-zA-Z][a-zA-Z0-9-]{0,21}[a-zA-Z0-9]$")] | None = None
    """Azure Managed Grafana instance name (globally unique, 2-23 characters; required from level full)."""
    trace_sample_ratio: Annotated[float, Field(ge=0, le=1)] = 1.0
    """Share of traces kept (OTEL_TRACES_SAMPLER_ARG, parent-based ratio sampling)."""
    alerts: AlertsConfig | None = None
    """Notifications (required at level full-alerts; may be set below it, unused, so that raising the level is
    one key)."""


class AppSettings(Model):
    node_env: Literal["development", "production"]
    """NODE_ENV."""
    log_level: Literal["debug", "info", "warn", "error"]
    """LOG_LEVEL."""
    enable_debug: bool = False
    """ENABLE_DEBUG."""
    jwt_expiration: Annotated[str, Field(pattern=r"^\d+(s|m|h|d)$")] = "15m"
    """JWT_EXPIRATION (access token lifetime)."""
    stripe_publishable_key: Annotated[str, Field(pattern=r"^(pk_(test|live)_[A-Za-z0-9]+)?$")] = ""
    """NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY (public by design)."""
    google_analytics_id: Annotated[str, Field(pattern=r"^(G-[A-Z0-9]+)?$")] = ""
    """NEXT_PUBLIC_GOOGLE_ANALYTICS_ID."""


class AddonsConfig(Model):
    controller_replicas: Annotated[int, Strict(), Field(ge=1, le=5)] = 1
    """Replicas of the in-cluster operators (External Secrets, cert-manager, Envoy Gateway controller)."""
    proxy_replicas: Annotated[int, Strict(), Field(ge=1, le=20)] = 1
    """Envoy proxy replicas serving the Gateway."""


class DeployerConfig(Model):
    object_id: Uuid | None = None
    """Principal granted cluster admin; unset means whoever runs pulumi.
    Pin it to the CI service principal (or a group) so assignments do not churn between people and CI."""
    principal_type: Literal["ServicePrincipal", "User", "Group"] | None = None
    """Type of the deployer. Azure rejects a role assignment whose type does not match the principal
    (UnmatchedPrincipalType). Unset: ServicePrincipal when the deployer is one of the bootstrap's CI
    identities (``ciIdentities``), otherwise User (a person running pulumi). Set it for anything else
    (a group, another service principal)."""


class NamespaceRbac(Model):
    deployer_group_object_ids: tuple[Uuid, ...] = ()
    """Entra ID groups bound to the namespace deployer Role."""
    reader_group_object_ids: tuple[Uuid, ...] = ()
    """Entra ID groups bound read-only (view) in the namespace."""


# --------------------------------------------------------------------------- workloads


class Resources(Model):
    cpu: Cpu
    """CPU quantity (250m)."""
    memory: Memory
    """Memory quantity (512Mi)."""


class ResourceSpec(Model):
    requests: Resources
    """Requests."""
    limits: Resources
    """Limits; each at least its request."""

    @model_validator(mode="after")
    def _order(self) -> ResourceSpec:
        _at_most("requests.cpu", self.requests.cpu, "limits.cpu", self.limits.cpu, measure=v.parse_cpu)
        _at_most("requests.memory", self.requests.memory, "limits.memory", self.limits.memory, measure=v.parse_memory)
        return self


class Autoscaling(Model):
    min_replicas: Annotated[int, Strict(), Field(ge=1, le=500)]
    """HPA minimum."""
    max_replicas: Annotated[int, Strict(), Field(ge=1, le=500)]
    """HPA maximum."""
    cpu_utilization: Annotated[int, Strict(), Field(ge=10, le=100)] = 70
    """Target average CPU utilization in percent."""

    @model_validator(mode="after")
    def _bounds(self) -> Autoscaling:
        _at_most("minReplicas", self.min_replicas, "maxReplicas", self.max_replicas)
        return self


class Probes(Model):
    liveness: Annotated[str, Field(pattern=r"^/[A-Za-z0-9/_.-]*$")]
    """Liveness probe path."""
    readiness: Annotated[str, Field(pattern=r"^/[A-Za-z0-9/_.-]*$")]
    """Readiness probe path (also the startup probe)."""


class SmokeCheck(Model):
    path: Annotated[str, _check(v.http_path_problem)]
    """Request path on the color's Service (starts with /)."""
    status: Annotated[int, Strict(), Field(ge=100, le=599)] = 200
    """Expected HTTP status (100-599)."""


class MigrationConfig(Model):
    command: Annotated[tuple[NonEmpty, ...], Field(min_length=1)]
    """Command run in the app's image at the release's tag before that color rolls out (npm run migration:run)."""
    timeout_seconds: Annotated[int, Strict(), Field(ge=60, le=7200)] = 900
    """Deadline of the migration Job; the update fails when it is reached."""


class AppConfig(Model):
    kind: Literal["service", "worker"]
    """service: Deployments per color behind Services and routes; worker: no Service, no route."""
    container: Label
    """Container name (api, web, worker)."""
    image: Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9._/-]*[a-z0-9])?$")]
    """Image repository under the registry server (broxiva-api)."""
    port: Annotated[int, Strict(), Field(ge=1024, le=65535)] | None = None
    """Container port (services only; non-privileged)."""
    metrics_port: Annotated[int, Strict(), Field(ge=1024, le=65535)] = DEFAULT_METRICS_PORT
    """Port of the app's Prometheus metrics (/metrics, OpenTelemetry Prometheus exporter): scraped inside the
    cluster, never routed by the Gateway."""
    replicas: Annotated[int, Strict(), Field(ge=1, le=500)]
    """Replicas of a running color (the HPA minimum when autoscaling is set)."""
    autoscaling: Autoscaling | None = None
    """HPA range; omit for a fixed replica count."""
    resources: ResourceSpec
    """Requests and limits."""
    probes: Probes | None = None
    """HTTP health endpoints (services only)."""
    command: tuple[str, ...] = ()
    """Container command override (workers)."""
    hosts: tuple[Literal["web", "api", "admin"], ...] = ()
    """Domains (keys of domains) whose traffic the Gateway routes to this service."""
    path_prefix: Annotated[str, Field(pattern=r"^/([A-Za-z0-9._-]+/?)*$")] = "/"
    """Path under its hosts that the app serves (several apps may share a host on distinct prefixes)."""
    writable_paths: tuple[Annotated[str, Field(pattern=r"^/[A-Za-z0-9/_.-]+$")], ...] = ("/tmp",)
    """Writable scratch directories (emptyDir) under the read-only root filesystem."""
    termination_grace_seconds: Annotated[int, Strict(), Field(ge=5, le=600)] = 45
    """Grace period for connection draining."""
    database: bool = False
    """The app connects to PostgreSQL: only its pods may reach the PostgreSQL subnet, and only it may run
    migrations."""
    migration: MigrationConfig | None = None
    """Migrations run as a Job before a color of this release rolls out (needs database)."""
    smoke: tuple[SmokeCheck, ...] = ()
    """Checks the promotion gate runs against a color's Service before traffic moves to it (services)."""
    idle_replicas: Annotated[int, Strict(), Field(ge=0, le=500)] | None = None
    """Workers only: replicas in the idle color. Unset: 0, so only the active color's workers take jobs."""
    liveness_command: tuple[NonEmpty, ...] = ()
    """Workers only: exec liveness check (a heartbeat file's age); also its startup and readiness check."""

    @model_validator(mode="after")
    def _shape(self) -> AppConfig:
        if self.kind == "service" and self.port is None:
            raise FieldError("port", None, "must be set for a service")
        if self.kind == "service" and self.probes is None:
            raise FieldError("probes", None, "must be set for a service")
        if self.metrics_port == self.port:
            raise FieldError("metricsPort", self.metrics_port, "must differ from port (metrics are never routed)")
        if self.kind == "worker" and self.port is not None:
            raise FieldError("port", self.port, "must be unset for a worker")
        if self.kind == "service" and not self.hosts:
            raise FieldError("hosts", [], "must name at least one of web, api, admin for a service")
        if self.kind == "worker" and self.hosts:
            raise FieldError("hosts", list(self.hosts), "must be empty for a worker (no route)")
        if self.kind == "service" and not self.smoke:
            raise FieldError("smoke", [], "must list at least one check for a service (the promotion gate runs them)")
        if self.kind == "worker" and self.smoke:
            raise FieldError("smoke", [c.path for c in self.smoke], "must be empty for a worker (no Service to check)")
        if self.kind == "service" and self.idle_replicas is not None:
            raise FieldError(
                "idleReplicas", self.idle_replicas, "must be unset for a service (its idle color serves the preview)"
            )
        if self.kind == "worker" and not self.liveness_command:
            raise FieldError("livenessCommand", [], "must be set for a worker (an exec check, e.g. a heartbeat file)")
        if self.kind == "service" and self.liveness_command:
            raise FieldError(
                "livenessCommand", list(self.liveness_command), "must be unset for a service (probes are HTTP)"
            )
        if self.migration is not None and not self.database:
            raise FieldError(
                "migration",
                list(self.migration.command),
                "must be unset for an app without the database (set database: true)",
            )
        if self.autoscaling and not (self.autoscaling.min_replicas <= self.replicas <= self.autoscaling.max_replicas):
            raise FieldError(
                "replicas",
                self.replicas,
                f"must be within autoscaling {self.autoscaling.min_replicas}-{self.autoscaling.max_replicas}",
            )
        return self


class ReleaseConfig(Model):
    gate_image: Annotated[str, _check(v.pinned_image_problem)]
    """Image of the promotion gate's checks (curl), under registry.server and pinned by digest:
    <repository>@sha256:<digest> (docs/RUNBOOK.md says how it gets into the registry)."""
    gate_timeout_seconds: Annotated[int, Strict(), Field(ge=30, le=1800)] = 300
    """Deadline of a promotion gate Job; the update fails, traffic unchanged, when it is reached."""


class CanaryStickiness(Model):
    apps: Annotated[tuple[Label, ...], Field(min_length=1)]
    """Routed apps whose canary keeps a client on the color it first reached."""
    cookie_name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,128}$")] = "broxiva-canary"
    """Name of the session cookie."""
    absolute_timeout: Annotated[str, Field(pattern=r"^([1-9][0-9]{0,4}(h|m|s))+$")] = "1h"
    """How long a client stays on its color (Gateway API duration: 1h, 30m)."""


class ColorConfig(Model):
    tag: str | None = None
    """Image tag this color runs; every app of the color uses it."""
    running: bool = True
    """False scales the color to zero (after a verified release); the active color must run."""


class ColorsConfig(Model):
    blue: ColorConfig
    """The blue release."""
    green: ColorConfig
    """The green release."""

    def of(self, color: str) -> ColorConfig:
        return self.blue if color == "blue" else self.green


# --------------------------------------------------------------------------- the whole stack


# IDs of existing resources of one type (adoption).
GroupId = Annotated[str, _check(v.arm_id_problem, resource_type=v.RESOURCE_GROUP_TYPE)]
VaultId = Annotated[str, _check(v.arm_id_problem, resource_type="Microsoft.KeyVault/vaults")]
RegistryId = Annotated[str, _check(v.arm_id_problem, resource_type="Microsoft.ContainerRegistry/registries")]
ClusterId = Annotated[str, _check(v.arm_id_problem, resource_type="Microsoft.ContainerService/managedClusters")]


class AdoptConfig(Model):
    """Azure resources that already exist (the seeds' az CLI setup) and that this stack takes over instead of
    creating: each ID becomes ``import_`` on its resource, so the first ``pulumi up`` imports it. azure-native
    refuses to create a resource that already exists. The declared inputs must match the live resource, or
    the preview stops on the difference (docs/ADOPTION.md)."""

    resource_group: GroupId | None = None
    """The environment's resource group (resourceGroup)."""
    key_vault: VaultId | None = None
    """The Key Vault (keyVault.name)."""
    registry: RegistryId | None = None
    """The container registry (registry.acrName)."""
    cluster: ClusterId | None = None
    """The AKS cluster (cluster.name)."""


class StackConfig(Model):
    """Everything the program knows about one environment."""

    environment: Literal["development", "staging", "production"]
    """Environment name (APP_ENV, tags, certificate names)."""
    location: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]+$")]
    """Azure region (eastus)."""
    resource_group: Annotated[str, _check(v.resource_group_name_problem)]
    """Resource group of the environment."""
    namespace: Label
    """The app namespace."""
    protect: bool | None = None
    """Protect stateful resources from deletion; unset means on in production."""
    tags: Mapping[Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9-]{0,63}$")], NonEmpty]
    """Extra tags on every Azure resource; costCenter and owner are required."""
    cluster: ClusterConfig
    """The AKS cluster."""
    network: NetworkConfig
    """The VNet and its subnets."""
    registry: RegistryConfig
    """Where images come from."""
    postgres: PostgresConfig
    """The PostgreSQL flexible server."""
    redis: RedisConfig
    """The Azure Managed Redis cache."""
    backups: BackupsConfig
    """Where database dumps are kept."""
    key_vault: KeyVaultConfig
    """The environment's Key Vault."""
    secrets: SecretsConfig
    """Generated secrets: rotation and expiry."""
    dns: DnsConfig
    """The zone and this stack's records."""
    domains: DomainsConfig
    """Host names of the environment."""
    tls: TlsConfig
    """Certificates."""
    features: Features
    """Feature switches."""
    observability: ObservabilityConfig = ObservabilityConfig()
    """Monitoring names, tracing and notifications (what features.monitoring turns on)."""
    app_settings: AppSettings
    """Non-secret app settings (ConfigMap broxiva-config)."""
    addons: AddonsConfig = AddonsConfig()
    """Sizing of the in-cluster add-ons."""
    deployer: DeployerConfig = DeployerConfig()
    """Who is granted the access the program itself needs (cluster admin)."""
    rbac: NamespaceRbac = NamespaceRbac()
    """Namespace access for Entra ID groups."""
    apps: Mapping[Label, AppConfig]
    """The apps, by name."""
    image_tag_pattern: Annotated[str, _check(v.regex_problem)]
    """Form every image tag of this environment must match (prod: v{major}.{minor}.{patch})."""
    active_color: Color
    """The color the stable Services select: the one-value production switch."""
    colors: ColorsConfig
    """The blue and green releases."""
    canary_weight: Annotated[int, Strict(), Field(ge=0, le=100)] = 0
    """Percent of traffic sent to the idle color through the routes (0 is plain blue/green)."""
    canary_stickiness: CanaryStickiness | None = None
    """Cookie session persistence on these apps' routes while a canary runs (0 < canaryWeight < 100)."""
    release: ReleaseConfig
    """Promotion gates."""
    adopt: AdoptConfig = AdoptConfig()
    """Existing Azure resources to import instead of create, by resource ID."""

    @property
    def idle_color(self) -> Color:
        return idle_color(self.active_color)

    @property
    def protected(self) -> bool:
        return self.protect if self.protect is not None else self.environment == "production"

    @property
    def routed_apps(self) -> dict[str, AppConfig]:
        return {name: app for name, app in self.apps.items() if app.kind == "service"}
