"""Rules that span several keys of a stack's configuration.

Each raises :class:`ConfigError` naming the one key that must change, the value it has and what is
allowed; they run after the models have validated each object on its own.
"""

from __future__ import annotations

from .. import monitoring
from ..names import COLORS
from . import validation as v
from .errors import MISSING, ConfigError
from .schema import StackConfig
from .secrets import ENCRYPTION_KEYS


def check(cfg: StackConfig) -> None:
    """Rules that span several keys; each raises ConfigError naming the key that must change."""
    for key in ("costCenter", "owner"):
        if key not in cfg.tags:
            raise ConfigError(f"tags.{key}", MISSING, "is required (every Azure resource carries it)")
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
    _check_network(cfg)
    _check_hardening(cfg)
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
            raise ConfigError(f"colors.{color}.tag", MISSING, "is required while the color is running")
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
    _check_release(cfg)
    _check_adoption(cfg)
    _check_observability(cfg)


def _check_release(cfg: StackConfig) -> None:
    sticky = cfg.canary_stickiness
    if sticky is not None:
        for i, name in enumerate(sticky.apps):
            if name not in cfg.apps:
                raise ConfigError(f"canaryStickiness.apps[{i}]", name, f"must be one of the apps {sorted(cfg.apps)}")
            if name not in cfg.routed_apps:
                raise ConfigError(
                    f"canaryStickiness.apps[{i}]",
                    name,
                    f"must name an app with a canary route (a service; {name} is a worker and has no route)",
                )
        if len(set(sticky.apps)) != len(sticky.apps):
            raise ConfigError("canaryStickiness.apps", list(sticky.apps), "must not repeat an app")
    wanted = sorted(ENCRYPTION_KEYS)
    for name in cfg.secrets.encryption_keys:
        if name not in ENCRYPTION_KEYS:
            raise ConfigError(f"secrets.encryptionKeys.{name}", "set", f"must be one of the encryption keys {wanted}")
    for name in wanted:
        if name not in cfg.secrets.encryption_keys:
            raise ConfigError(
                f"secrets.encryptionKeys.{name}",
                MISSING,
                "is required: the version its value was made under (the rotation stamp of its first deployment)",
            )


def _check_network(cfg: StackConfig) -> None:
    """AKS overlay ranges live beside the VNet, never inside it (Azure CNI overlay: the pod and service CIDRs
    must not overlap the cluster's VNet)."""
    space = cfg.network.address_space
    for key, cidr in (("podCidr", cfg.cluster.pod_cidr), ("serviceCidr", cfg.cluster.service_cidr)):
        if v.overlapping({"vnet": space, key: cidr}):
            raise ConfigError(f"cluster.{key}", cidr, f"must not overlap network.addressSpace ({space})")
    pg = cfg.postgres
    if pg.high_availability == "ZoneRedundant" and not cfg.cluster.availability_zones:
        raise ConfigError(
            "postgres.highAvailability",
            pg.high_availability,
            "must be Disabled or SameZone in an environment without availability zones (cluster.availabilityZones)",
        )
    for key, zone in (("zone", pg.zone), ("standbyZone", pg.standby_zone)):
        if zone is not None and cfg.cluster.availability_zones and zone not in cfg.cluster.availability_zones:
            raise ConfigError(
                f"postgres.{key}",
                zone,
                f"must be one of cluster.availabilityZones {list(cfg.cluster.availability_zones)}",
            )


def _check_hardening(cfg: StackConfig) -> None:
    if cfg.environment not in ("staging", "production"):
        return
    if cfg.key_vault.public_network_access != "Disabled":
        raise ConfigError(
            "keyVault.publicNetworkAccess",
            cfg.key_vault.public_network_access,
            f"must be Disabled in {cfg.environment} (the cluster reads it through its private endpoint)",
        )
    for key in ("azurePolicy", "imageCleaner"):
        if not getattr(cfg.cluster, "azure_policy" if key == "azurePolicy" else "image_cleaner"):
            raise ConfigError(f"cluster.{key}", False, f"must be true in {cfg.environment}")


def _check_adoption(cfg: StackConfig) -> None:
    """An adopted resource must be the one the stack declares: same name, in the stack's resource group.
    Anything else would import a stranger under this stack's name (or fail the import at first up)."""
    declared = {
        "resourceGroup": (cfg.adopt.resource_group, cfg.resource_group, "resourceGroup"),
        "keyVault": (cfg.adopt.key_vault, cfg.key_vault.name, "keyVault.name"),
        "registry": (cfg.adopt.registry, cfg.registry.acr_name, "registry.acrName"),
        "cluster": (cfg.adopt.cluster, cfg.cluster.name, "cluster.name"),
    }
    for key, (resource_id, name, name_key) in declared.items():
        if resource_id is None:
            continue
        parsed = v.parse_arm_id(resource_id)
        if parsed is None:  # the model has already refused it
            continue
        if name is None:
            raise ConfigError(f"adopt.{key}", resource_id, f"must be unset: this stack declares no {name_key}")
        if parsed.name.lower() != name.lower() or parsed.group.lower() != cfg.resource_group.lower():
            raise ConfigError(
                f"adopt.{key}",
                resource_id,
                f"must name the {name_key} of this stack ({name}) in its resource group ({cfg.resource_group})",
            )


def effective_severities(cfg: StackConfig) -> dict[str, str]:
    """Alert name -> severity: the rule's default unless ``observability.alerts.severities`` sets another."""
    overrides = cfg.observability.alerts.severities if cfg.observability.alerts else {}
    rules: list[monitoring.AlertRule | monitoring.MetricAlertRule] = [
        *monitoring.alert_rules(cfg.namespace, sorted(cfg.routed_apps)),
        *monitoring.METRIC_ALERTS,
    ]
    return {rule.name: overrides.get(rule.name, rule.severity) for rule in rules}


def _check_observability(cfg: StackConfig) -> None:
    level = cfg.features.monitoring
    obs = cfg.observability
    if monitoring.has_prometheus(level) and obs.grafana_name is None:
        raise ConfigError("observability.grafanaName", MISSING, f"is required when features.monitoring is {level}")
    alerts = obs.alerts
    if alerts is None:
        if monitoring.has_alerts(level):
            raise ConfigError("observability.alerts", MISSING, "is required when features.monitoring is full-alerts")
        return
    known = monitoring.alert_names(sorted(cfg.routed_apps))
    for name in alerts.severities:
        if name not in known:
            raise ConfigError(
                f"observability.alerts.severities.{name}", "set", f"must name an alert rule {list(known)}"
            )
    for severity, receivers in alerts.routes.items():
        if len(set(receivers)) != len(receivers):
            raise ConfigError(f"observability.alerts.routes.{severity}", list(receivers), "must not repeat a receiver")
        if "email" in receivers and not alerts.emails:
            raise ConfigError(
                "observability.alerts.emails", [], f"must list at least one address (routes.{severity} uses email)"
            )
    for name, level_of_alert in effective_severities(cfg).items():
        if level_of_alert not in alerts.routes:
            raise ConfigError(
                "observability.alerts.routes",
                sorted(alerts.routes),
                f"must route severity {level_of_alert} (alert {name} has it), or nobody is notified",
            )
