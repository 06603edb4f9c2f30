"""Typed, validated stack configuration.

This is the only module that reads ``pulumi.Config``. It turns the stack's raw
values into frozen objects and checks every rule before the program declares a
single resource. A violation raises :class:`ConfigError` with one message that
names the key path, the bad value and what is allowed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import pulumi
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel

from . import validation as v

PROJECT = "broxiva-platform"
COLORS: tuple[str, str] = ("blue", "green")


class ConfigError(pulumi.RunError):
    """Bad stack configuration: printed by the CLI as a single message, no traceback."""

    def __init__(self, key: str, value: Any, allowed: str, stack: str | None = None):
        self.key = key
        self.value = value
        self.allowed = allowed
        where = f" of stack '{stack}'" if stack else ""
        message = f"Invalid configuration{where}: {PROJECT}:{_one_line(key)} = {_show(value)}: {_one_line(allowed)}."
        super().__init__(message)


def _one_line(text: str) -> str:
    return text.encode("unicode_escape").decode("ascii") if any(c in text for c in "\r\n") else text


def _show(value: Any) -> str:
    if value is _MISSING:
        return "(not set)"
    if isinstance(value, str):
        text = repr(value)
    else:
        try:
            text = json.dumps(value, sort_keys=True, default=str)
        except (TypeError, ValueError):
            text = repr(value)
    text = _one_line(text)
    return text if len(text) <= 120 else text[:117] + "..."


_MISSING = object()


def _check(problem: Callable[..., str | None], **kwargs: Any) -> AfterValidator:
    def run(value: Any) -> Any:
        issue = problem(value, **kwargs)
        if issue:
            raise ValueError(f"must be {issue}")
        return value

    return AfterValidator(run)


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
Color = Literal["blue", "green"]


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
    os_disk_size_gb: Annotated[int, Strict(), Field(ge=30, le=2048)] = 128
    """OS disk size of each node in GB."""
    critical_addons_only: bool = False
    """Taint the pool CriticalAddonsOnly=true:NoSchedule (system pools in staging and prod)."""

    @model_validator(mode="after")
    def _bounds(self) -> NodePool:
        if self.min_count > self.max_count:
            raise _FieldError("minCount", self.min_count, f"must be <= maxCount ({self.max_count})")
        return self


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
    api_server_authorized_ip_ranges: tuple[Cidr, ...] = ()
    """CIDR ranges allowed to reach the API server; empty means unrestricted."""
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
        import ipaddress

        service = ipaddress.ip_network(self.service_cidr)
        try:
            dns_ip = ipaddress.ip_address(self.dns_service_ip)
        except ValueError:
            raise _FieldError("dnsServiceIp", self.dns_service_ip, "must be an IP address") from None
        if dns_ip not in service:
            raise _FieldError("dnsServiceIp", self.dns_service_ip, f"must be inside serviceCidr ({service})")
        if ipaddress.ip_network(self.pod_cidr).overlaps(service):
            raise _FieldError("podCidr", self.pod_cidr, f"must not overlap serviceCidr ({service})")
        if self.system_pool.min_count < 1:
            raise _FieldError("systemPool.minCount", self.system_pool.min_count, "must be >= 1 (AKS system pools)")
        if len(set(self.availability_zones)) != len(self.availability_zones):
            raise _FieldError("availabilityZones", list(self.availability_zones), "must not repeat a zone")
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

    @model_validator(mode="after")
    def _acr(self) -> RegistryConfig:
        if self.acr_name and self.server != f"{self.acr_name}.azurecr.io":
            raise _FieldError("server", self.server, f"must be {self.acr_name}.azurecr.io when acrName is set")
        if self.acr_name and self.pull_token_secret:
            raise _FieldError("pullTokenSecret", self.pull_token_secret, "must be unset with an ACR (AcrPull is used)")
        return self


class KeyVaultConfig(Model):
    name: Annotated[str, _check(v.key_vault_name_problem)]
    """Key Vault name (globally unique)."""
    purge_protection: bool
    """Purge protection (irreversible once on); required in staging and prod."""
    soft_delete_retention_days: Annotated[int, Strict(), Field(ge=7, le=90)] = 90
    """Soft delete retention."""
    network_default_action: Literal["Allow", "Deny"] = "Allow"
    """Firewall default; Deny admits only allowedIpRanges and trusted Azure services."""
    allowed_ip_ranges: tuple[Cidr, ...] = ()
    """Ranges admitted when networkDefaultAction is Deny (the deploying runner, operators)."""


class PostgresConfig(Model):
    host: DnsName
    """PostgreSQL server host name."""
    port: Annotated[int, Strict(), Field(ge=1, le=65535)] = 5432
    """PostgreSQL port."""
    user: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,62}$")]
    """Application database user."""
    database: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]{0,62}$")]
    """Application database name."""
    sslmode: Literal["require", "verify-ca", "verify-full"] = "require"
    """sslmode of the composed connection URL."""


class RedisConfig(Model):
    host: DnsName
    """Redis host name."""
    port: Annotated[int, Strict(), Field(ge=1, le=65535)] = 6379
    """Redis port (REDIS_PORT, 6379 in the environment matrix)."""
    tls: bool = True
    """Compose a rediss:// URL."""


class SecretsConfig(Model):
    rotation: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
    """Rotation generation; changing it regenerates every generated secret (90-day rotation)."""
    postgres: PostgresConfig
    """Where postgres-url points."""
    redis: RedisConfig
    """Where redis-url points."""
    webhook_secret: bool = False
    """Generate the optional webhook-secret."""
    refresh_interval: Annotated[str, Field(pattern=r"^([1-9]\d*)(s|m|h)$")] = "1h"
    """How often External Secrets re-reads Key Vault (at most 1h)."""


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
            raise _FieldError("value", self.value or list(self.values), "must be unset: A records use the gateway IP")
        if self.type == "CNAME":
            issue = v.dns_name_problem(self.value or "")
            if issue:
                raise _FieldError("value", self.value, f"must be {issue}")
        if self.type == "TXT" and not self.values:
            raise _FieldError("values", [], "must list at least one TXT string")
        if self.type == "TXT" and self.value is not None:
            raise _FieldError("value", self.value, "must be unset for TXT records (use values)")
        if self.type == "CNAME" and self.values:
            raise _FieldError("values", list(self.values), "must be unset for CNAME records (use value)")
        if self.type == "CNAME" and self.name == "@":
            raise _FieldError("name", self.name, "must not be the zone apex: a CNAME cannot sit beside SOA and NS")
        return self


class DnsConfig(Model):
    zone_name: DnsName
    """The public zone (broxiva.com)."""
    zone_resource_group: Annotated[str, _check(v.resource_group_name_problem)]
    """Resource group of the zone (broxiva-dns-rg)."""
    manage_zone: bool = False
    """Create and own the zone (prod only); others reference it."""
    records: tuple[DnsRecord, ...]
    """The record sets this stack owns."""
    caa_issuer: DnsName | None = None
    """Create a CAA record allowing only this CA (letsencrypt.org)."""

    @model_validator(mode="after")
    def _unique(self) -> DnsConfig:
        seen: set[tuple[str, str]] = set()
        for i, record in enumerate(self.records):
            key = (record.type, record.name)
            if key in seen:
                raise _FieldError(f"records[{i}]", f"{record.type} {record.name}", "must not repeat a record set")
            seen.add(key)
        for i, record in enumerate(self.records):
            others = {r.type for r in self.records if r.name == record.name and r is not record}
            if record.type == "CNAME" and others:
                raise _FieldError(
                    f"records[{i}].name",
                    record.name,
                    f"must not also hold {', '.join(sorted(others))} records beside a CNAME",
                )
        if self.caa_issuer and not self.manage_zone:
            raise _FieldError("caaIssuer", self.caa_issuer, "must be unset unless manageZone is true")
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
    monitoring: Literal["container-insights", "full", "full-alerts"]
    """Monitoring level."""


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
    """Principal granted cluster admin and Key Vault Secrets Officer; unset means whoever runs pulumi.
    Pin it to the CI service principal (or a group) so assignments do not churn between people and CI."""
    principal_type: Literal["ServicePrincipal", "User", "Group"] = "ServicePrincipal"
    """Type of that principal (Azure rejects a role assignment whose type does not match)."""


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
        if v.parse_cpu(self.requests.cpu) > v.parse_cpu(self.limits.cpu):
            raise _FieldError("requests.cpu", self.requests.cpu, f"must be <= limits.cpu ({self.limits.cpu})")
        if v.parse_memory(self.requests.memory) > v.parse_memory(self.limits.memory):
            raise _FieldError(
                "requests.memory", self.requests.memory, f"must be <= limits.memory ({self.limits.memory})"
            )
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
        if self.min_replicas > self.max_replicas:
            raise _FieldError("minReplicas", self.min_replicas, f"must be <= maxReplicas ({self.max_replicas})")
        return self


class Probes(Model):
    liveness: Annotated[str, Field(pattern=r"^/[A-Za-z0-9/_.-]*$")]
    """Liveness probe path."""
    readiness: Annotated[str, Field(pattern=r"^/[A-Za-z0-9/_.-]*$")]
    """Readiness probe path (also the startup probe)."""


class AppConfig(Model):
    kind: Literal["service", "worker"]
    """service: Deployments per color behind Services and routes; worker: no Service, no route."""
    container: Label
    """Container name (api, web, worker)."""
    image: Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9._/-]*[a-z0-9])?$")]
    """Image repository under the registry server (broxiva-api)."""
    port: Annotated[int, Strict(), Field(ge=1024, le=65535)] | None = None
    """Container port (services only; non-privileged)."""
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

    @model_validator(mode="after")
    def _shape(self) -> AppConfig:
        if self.kind == "service" and self.port is None:
            raise _FieldError("port", None, "must be set for a service")
        if self.kind == "service" and self.probes is None:
            raise _FieldError("probes", None, "must be set for a service")
        if self.kind == "worker" and self.port is not None:
            raise _FieldError("port", self.port, "must be unset for a worker")
        if self.kind == "service" and not self.hosts:
            raise _FieldError("hosts", [], "must name at least one of web, api, admin for a service")
        if self.kind == "worker" and self.hosts:
            raise _FieldError("hosts", list(self.hosts), "must be empty for a worker (no route)")
        if self.autoscaling and not (self.autoscaling.min_replicas <= self.replicas <= self.autoscaling.max_replicas):
            raise _FieldError(
                "replicas",
                self.replicas,
                f"must be within autoscaling {self.autoscaling.min_replicas}-{self.autoscaling.max_replicas}",
            )
        return self


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
    registry: RegistryConfig
    """Where images come from."""
    key_vault: KeyVaultConfig
    """The environment's Key Vault."""
    secrets: SecretsConfig
    """Generated secrets and data service hosts."""
    dns: DnsConfig
    """The zone and this stack's records."""
    domains: DomainsConfig
    """Host names of the environment."""
    tls: TlsConfig
    """Certificates."""
    features: Features
    """Feature switches."""
    app_settings: AppSettings
    """Non-secret app settings (ConfigMap broxiva-config)."""
    addons: AddonsConfig = AddonsConfig()
    """Sizing of the in-cluster add-ons."""
    deployer: DeployerConfig = DeployerConfig()
    """Who is granted the access the program itself needs (cluster admin, secrets officer)."""
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

    @property
    def idle_color(self) -> str:
        return "green" if self.active_color == "blue" else "blue"

    @property
    def protected(self) -> bool:
        return self.protect if self.protect is not None else self.environment == "production"

    @property
    def routed_apps(self) -> dict[str, AppConfig]:
        return {name: app for name, app in self.apps.items() if app.kind == "service"}


class _FieldError(ValueError):
    """Raised inside model validators to name the offending field relative to the model."""

    def __init__(self, field: str, value: Any, allowed: str):
        super().__init__(allowed)
        self.field = field
        self.value = value
        self.allowed = allowed


# --------------------------------------------------------------------------- cross-field rules


def _cross_field_rules(cfg: StackConfig) -> None:
    """Rules that span several keys; each raises ConfigError naming the key that must change."""
    for key in ("costCenter", "owner"):
        if key not in cfg.tags:
            raise ConfigError(f"tags.{key}", _MISSING, "is required (every Azure resource carries it)")
    zone = cfg.dns.zone_name
    for field in ("web", "api", "admin", "wildcard", "www"):
        host = getattr(cfg.domains, field)
        if host is not None and not v.in_zone(host, zone):
            raise ConfigError(f"domains.{field}", host, f"must be inside the DNS zone {zone}")
    a_records = {r.name for r in cfg.dns.records if r.type == "A"}
    for field in ("web", "api", "admin", "www"):
        host = getattr(cfg.domains, field)
        if host is not None and v.relative_record_name(host, zone) not in a_records:
            raise ConfigError(
                "dns.records",
                sorted(a_records),
                f"must include an A record for domains.{field} ({v.relative_record_name(host, zone)})",
            )
    if cfg.environment in ("staging", "production") and not cfg.key_vault.purge_protection:
        raise ConfigError("keyVault.purgeProtection", False, f"must be true in {cfg.environment}")
    if cfg.environment == "production":
        if cfg.cluster.tier == "Free":
            raise ConfigError("cluster.tier", cfg.cluster.tier, "must be Standard or Premium in production")
        if sorted(cfg.cluster.availability_zones) != ["1", "2", "3"]:
            raise ConfigError(
                "cluster.availabilityZones",
                list(cfg.cluster.availability_zones),
                'must be ["1", "2", "3"] in production',
            )
        if not cfg.cluster.system_pool.critical_addons_only:
            raise ConfigError("cluster.systemPool.criticalAddonsOnly", False, "must be true in production")
    for name, app in cfg.apps.items():
        if app.kind == "worker" and app.probes is not None:
            raise ConfigError(f"apps.{name}.probes", "set", "must be unset for a worker (no HTTP endpoint)")
    if not cfg.routed_apps:
        raise ConfigError("apps", sorted(cfg.apps), "must contain at least one app of kind 'service'")
    claimed: dict[tuple[str, str], str] = {}
    for name, app in cfg.routed_apps.items():
        for host in app.hosts:
            owner = claimed.get((host, app.path_prefix))
            if owner:
                raise ConfigError(
                    f"apps.{name}.pathPrefix", app.path_prefix, f"must differ from {owner}'s on the {host} host"
                )
            claimed[(host, app.path_prefix)] = name
    for host in ("web", "api", "admin"):
        if (host, "/") not in claimed:
            raise ConfigError(
                "apps", sorted(cfg.apps), f"must route the {host} domain at /: add '{host}' to a service's hosts"
            )
    for color in COLORS:
        tag = cfg.colors.of(color).tag
        if tag is not None:
            issue = v.image_tag_problem(tag, cfg.image_tag_pattern)
            if issue:
                raise ConfigError(f"colors.{color}.tag", tag, f"must be {issue}")
        elif cfg.colors.of(color).running:
            raise ConfigError(f"colors.{color}.tag", _MISSING, "is required while the color is running")
    active = cfg.colors.of(cfg.active_color)
    if not active.running:
        raise ConfigError(
            "activeColor",
            cfg.active_color,
            f"must name a running color: set colors.{cfg.active_color}.running to true and deploy it first",
        )
    if cfg.canary_weight > 0 and not cfg.colors.of(cfg.idle_color).running:
        raise ConfigError(
            "canaryWeight",
            cfg.canary_weight,
            f"must be 0 while the idle color ({cfg.idle_color}) is not running",
        )


# --------------------------------------------------------------------------- provided secrets


@dataclass(frozen=True)
class ProvidedSecret:
    """An operator-provided Key Vault secret, read from the ``providedSecrets`` stack value."""

    key: str
    """Key under providedSecrets (camelCase)."""
    vault_name: str
    """Key Vault secret name."""
    env_name: str
    """Environment variable the apps read."""
    required_when: Callable[[StackConfig], bool] | None = None
    """Whether the environment cannot run without it."""


PROVIDED_SECRETS: tuple[ProvidedSecret, ...] = (
    ProvidedSecret(
        key="stripeSecretKey",
        vault_name="stripe-secret-key",
        env_name="STRIPE_SECRET_KEY",
        required_when=lambda c: c.features.payment_mode != "mock",
    ),
    ProvidedSecret(
        key="stripeWebhookSecret",
        vault_name="stripe-webhook-secret",
        env_name="STRIPE_WEBHOOK_SECRET",
        required_when=lambda c: c.features.payment_mode != "mock",
    ),
    ProvidedSecret(
        key="sendgridApiKey",
        vault_name="sendgrid-api-key",
        env_name="SENDGRID_API_KEY",
        required_when=lambda c: c.features.email_provider != "mailhog",
    ),
    ProvidedSecret(
        key="registryPullToken",
        vault_name="registry-pull-token",
        env_name="",
        required_when=lambda c: c.registry.pull_token_secret is not None,
    ),
    *(
        ProvidedSecret(key=to_camel(n.replace("-", "_")), vault_name=n, env_name=n.upper().replace("-", "_"))
        for n in (
            "paypal-client-id",
            "paypal-client-secret",
            "openai-api-key",
            "google-oauth-client-id",
            "google-oauth-client-secret",
            "facebook-app-id",
            "facebook-app-secret",
            "sentry-dsn",
            "datadog-api-key",
        )
    ),
)
PROVIDED_BY_KEY = {s.key: s for s in PROVIDED_SECRETS}


class Platform:
    """The validated configuration plus the provided secrets, as Pulumi secret Outputs."""

    def __init__(self, stack: str, config: StackConfig, provided: Mapping[str, pulumi.Output[str]]):
        self.stack = stack
        self.config = config
        self.provided_secrets = dict(provided)
        """Key Vault secret name -> secret Output, only for the secrets this stack provides."""


# --------------------------------------------------------------------------- loading

# How each top-level key arrives from the CLI: strings verbatim, everything else JSON-encoded.
_STRING_KEYS = frozenset({"environment", "location", "resourceGroup", "namespace", "imageTagPattern", "activeColor"})
TOP_LEVEL_KEYS = frozenset(
    [StackConfig.model_fields[f].alias or f for f in StackConfig.model_fields] + ["providedSecrets"]
)


def _raw_config() -> dict[str, Any]:
    """Every ``broxiva-platform:*`` value the engine passed, as the raw strings it passed them."""
    from pulumi.runtime import config as runtime_config

    merged: dict[str, Any] = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    prefix = PROJECT + ":"
    return {k[len(prefix) :]: val for k, val in merged.items() if k.startswith(prefix)}


def _decode(key: str, raw: Any, stack: str | None) -> Any:
    if key in _STRING_KEYS or not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        shown = "(hidden)" if key == "providedSecrets" else raw
        raise ConfigError(key, shown, "must be a YAML value of the documented shape (see Pulumi.yaml)", stack) from None


def parse(raw: Mapping[str, Any], stack: str | None = None) -> StackConfig:
    """Validate raw (already decoded) values into a StackConfig or raise ConfigError."""
    unknown = sorted(set(raw) - TOP_LEVEL_KEYS)
    if unknown:
        raise ConfigError(
            unknown[0], raw[unknown[0]], f"is not a known key (known: {', '.join(sorted(TOP_LEVEL_KEYS))})", stack
        )
    values = {k: val for k, val in raw.items() if k != "providedSecrets"}
    try:
        cfg = StackConfig.model_validate(values)
    except ValidationError as exc:
        raise _first_error(exc, values, stack) from None
    except _FieldError as problem:  # pragma: no cover - pydantic wraps these; kept for safety
        raise ConfigError(problem.field, problem.value, problem.allowed, stack) from None
    try:
        _cross_field_rules(cfg)
    except ConfigError as err:
        raise ConfigError(err.key, err.value, err.allowed, stack) from None
    return cfg


def _first_error(exc: ValidationError, values: Mapping[str, Any], stack: str | None) -> ConfigError:
    error = exc.errors(include_url=False)[0]
    loc = [str(p) for p in error["loc"]]
    ctx = error.get("ctx") or {}
    inner = ctx.get("error")
    if isinstance(inner, _FieldError):
        path = ".".join([*loc, inner.field])
        return ConfigError(_dotted(path), inner.value, inner.allowed, stack)
    if loc and loc[-1] == "[key]":
        # A bad key of a map (apps.<name>, tags.<key>): name the map, show the key.
        message = re.sub(r"^Value error, ", "", str(error["msg"]))
        message = re.sub(r"^String should match pattern ", "must match ", message)
        return ConfigError(_dotted(".".join(loc[:-1])), loc[-2], f"is not an allowed key: it {message}", stack)
    path = _dotted(".".join(loc))
    value = _lookup(values, loc)
    kind = error["type"]
    if kind == "missing":
        return ConfigError(path, _MISSING, "is required", stack)
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        return ConfigError(path, value, f"is not a known key (known here: {', '.join(allowed)})", stack)
    message = str(error["msg"])
    message = re.sub(r"^Value error, ", "", message)
    message = re.sub(r"^Input should be ", "must be ", message)
    message = re.sub(r"^String should match pattern ", "must match ", message)
    message = re.sub(r"^String should have ", "must have ", message)
    message = re.sub(r"^Tuple should have ", "must have ", message)
    message = re.sub(r"a valid dictionary or instance of \w+", "a map of the documented keys", message)
    return ConfigError(path, value, message, stack)


def _dotted(path: str) -> str:
    # List indices read as key[0] rather than key.0.
    return re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", path)


def _lookup(values: Any, loc: list[str]) -> Any:
    current = values
    for part in loc:
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list | tuple) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


def _allowed_keys(loc: list[str]) -> list[str]:
    model: Any = StackConfig
    for part in loc:
        if part.isdigit():
            continue
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            if getattr(model, "__origin__", None) is None and isinstance(model, type) and issubclass(model, Model):
                # A mapping of named entries (apps.<name>): the entry model follows.
                continue
            return []
        model = _model_of(field.annotation)
        if model is None:
            return []
    if isinstance(model, type) and issubclass(model, BaseModel):
        return sorted((f.alias or n) for n, f in model.model_fields.items())
    return []


def _model_of(annotation: Any) -> Any:
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _provided(cfg: StackConfig, raw: Any, is_secret: bool, stack: str | None) -> dict[str, pulumi.Output[str]]:
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError("providedSecrets", "(hidden)", "must be a map of secret values", stack)
    if raw and not is_secret:
        raise ConfigError(
            "providedSecrets",
            "(hidden)",
            "must be set with --secret: pulumi config set --secret --path providedSecrets.<name> <value>",
            stack,
        )
    unknown = sorted(set(raw) - set(PROVIDED_BY_KEY))
    if unknown:
        raise ConfigError(
            f"providedSecrets.{unknown[0]}",
            "(hidden)",
            f"is not a known secret (known: {', '.join(PROVIDED_BY_KEY)})",
            stack,
        )
    out: dict[str, pulumi.Output[str]] = {}
    for secret in PROVIDED_SECRETS:
        value = raw.get(secret.key)
        if value is None or value == "":
            if secret.required_when and secret.required_when(cfg):
                raise ConfigError(
                    f"providedSecrets.{secret.key}",
                    _MISSING,
                    f"is required in {cfg.environment}: pulumi config set --secret --path "
                    f"providedSecrets.{secret.key} <value> --stack {stack or '<stack>'}",
                    stack,
                )
            continue
        if not isinstance(value, str):
            raise ConfigError(f"providedSecrets.{secret.key}", "(hidden)", "must be a string", stack)
        vault_name = cfg.registry.pull_token_secret if secret.key == "registryPullToken" else secret.vault_name
        out[vault_name or secret.vault_name] = pulumi.Output.secret(value)
    return out


def load(stack: str | None = None) -> Platform:
    """Read and validate this stack's configuration; the program's first step."""
    from pulumi.runtime import config as runtime_config

    stack = stack or pulumi.get_stack()
    raw = _raw_config()
    decoded = {k: _decode(k, val, stack) for k, val in raw.items()}
    cfg = parse(decoded, stack)
    key = f"{PROJECT}:providedSecrets"
    secret_keys = set(runtime_config._SECRET_KEYS.get()) | set(runtime_config.get_config_secret_keys_env())
    provided = _provided(cfg, decoded.get("providedSecrets"), key in secret_keys, stack)
    return Platform(stack, cfg, provided)
