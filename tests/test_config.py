"""Table-driven tests of the stack configuration rules in components/config/ (schema, rules, loading).

Each case starts from a real stack file, changes one value the way ``pulumi config set --path``
(or ``rm --path``) would, and checks the single message the program gives: the key path, the bad
value and what is allowed.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from components import config
from components.config.errors import show
from tests.conftest import PROJECT_DIR, STACKS, run_program
from tools.plan import engine, mocks, stackconfig

PREFIX = f"{config.PROJECT}:"
ENVIRONMENTS = {"dev": "development", "staging": "staging", "prod": "production"}


def raw_config(stack: str, sets: dict[str, str] | None = None, unsets: tuple[str, ...] = ()) -> dict[str, Any]:
    """The stack's project values (prefix stripped) after ``--set``/``--unset`` changes."""
    loaded = stackconfig.load(PROJECT_DIR, stack, sets=list((sets or {}).items()), unsets=list(unsets))
    return {key[len(PREFIX) :]: value for key, value in loaded.values.items() if key.startswith(PREFIX)}


def refusal(stack: str, sets: dict[str, str] | None = None, unsets: tuple[str, ...] = ()) -> config.ConfigError:
    with pytest.raises(config.ConfigError) as info:
        config.parse(raw_config(stack, sets, unsets), stack)
    return info.value


# --------------------------------------------------------------------------- the real stacks


@pytest.mark.parametrize("stack", STACKS)
def test_real_stack_parses(stack):
    cfg = config.parse(raw_config(stack), stack)
    assert isinstance(cfg, config.StackConfig)
    assert cfg.environment == ENVIRONMENTS[stack]
    assert cfg.colors.of(cfg.active_color).running
    assert cfg.routed_apps


def test_pulumi_yaml_declares_every_top_level_key():
    declared = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["config"]
    assert set(declared) == set(config.TOP_LEVEL_KEYS)
    for key, decl in declared.items():
        assert isinstance(decl, dict), key
        assert decl.get("type") in {"string", "integer", "boolean", "object", "array"}, key
        assert isinstance(decl.get("description"), str), key
        assert decl["description"].strip(), key


def test_pulumi_yaml_string_keys_are_the_ones_passed_verbatim():
    # The engine passes string values verbatim and JSON-encodes everything else; load() decodes by key.
    declared = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["config"]
    strings = {key for key, decl in declared.items() if decl["type"] == "string"}
    assert strings == set(config.STRING_KEYS)


def test_provided_secrets_key_is_accepted_by_parse():
    raw = raw_config("dev", {"providedSecrets": "{registryPullToken: x}"})
    assert config.parse(raw, "dev").environment == "development"


# --------------------------------------------------------------------------- one case per rule


@dataclass(frozen=True)
class Bad:
    stack: str
    key: str
    """Key path after the project prefix."""
    shown: str
    """The bad value as the message shows it."""
    allowed: str
    """Text saying what is allowed."""
    sets: dict[str, str] | None = None
    unsets: tuple[str, ...] = ()


def bad(
    case_id: str,
    stack: str,
    key: str,
    shown: str,
    allowed: str,
    *,
    sets: dict[str, str] | None = None,
    unsets: tuple[str, ...] = (),
) -> Any:
    return pytest.param(Bad(stack, key, shown, allowed, sets, unsets), id=case_id)


LITERALS = [
    bad("environment", "dev", "environment", "'prod'", "must be 'development', 'staging' or 'production'",
        sets={"environment": "prod"}),
    bad("tier", "dev", "cluster.tier", "'Gold'", "must be 'Free', 'Standard' or 'Premium'",
        sets={"cluster.tier": "Gold"}),
    bad("zone-name", "dev", "cluster.availabilityZones[0]", "'4'", "must be '1', '2' or '3'",
        sets={"cluster.availabilityZones": '["4"]'}),
    bad("zone-number", "prod", "cluster.availabilityZones[0]", "1", "must be '1', '2' or '3'",
        sets={"cluster.availabilityZones": "[1, 2, 3]"}),
    bad("day-of-week", "dev", "cluster.maintenanceWindow.dayOfWeek", "'sunday'",
        "must be 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday' or 'Sunday'",
        sets={"cluster.maintenanceWindow.dayOfWeek": "sunday"}),
    bad("kubelogin-mode", "dev", "cluster.kubeloginMode", "'interactive'", "must be 'azurecli', 'workloadidentity'",
        sets={"cluster.kubeloginMode": "interactive"}),
    bad("network-default", "dev", "keyVault.networkDefaultAction", "'deny'", "must be 'Allow' or 'Deny'",
        sets={"keyVault.networkDefaultAction": "deny"}),
    bad("sslmode", "dev", "postgres.sslmode", "'disable'", "must be 'require', 'verify-ca' or 'verify-full'",
        sets={"postgres.sslmode": "disable"}),
    bad("postgres-version", "dev", "postgres.version", "'12'", "must be '13', '14', '15', '16' or '17'",
        sets={"postgres.version": '"12"'}),
    bad("postgres-tier", "dev", "postgres.tier", "'Basic'", "must be 'Burstable', 'GeneralPurpose' or 'MemoryOptimized'",
        sets={"postgres.tier": "Basic"}),
    bad("redis-sku", "dev", "redis.sku", "'Basic_C0'", "must be 'Balanced_B0', 'Balanced_B1'",
        sets={"redis.sku": "Basic_C0"}),
    bad("redis-enterprise-sku", "prod", "redis.sku", "'Enterprise_E10'", "must be 'Balanced_B0'",
        sets={"redis.sku": "Enterprise_E10"}),
    bad("postgres-ha-mode", "prod", "postgres.highAvailability", "'Enabled'",
        "must be 'Disabled', 'ZoneRedundant' or 'SameZone'", sets={"postgres.highAvailability": "Enabled"}),
    bad("api-server-access", "dev", "cluster.apiServerAccess", "'vpn'",
        "must be 'public', 'authorizedRanges' or 'private'", sets={"cluster.apiServerAccess": "vpn"}),
    bad("os-disk-type", "dev", "cluster.workloadPool.osDiskType", "'Premium'", "must be 'Ephemeral' or 'Managed'",
        sets={"cluster.workloadPool.osDiskType": "Premium"}),
    bad("vault-public-access", "dev", "keyVault.publicNetworkAccess", "'Public'", "must be 'Enabled' or 'Disabled'",
        sets={"keyVault.publicNetworkAccess": "Public"}),
    bad("record-type", "dev", "dns.records[0].type", "'MX'", "must be 'A', 'CNAME' or 'TXT'",
        sets={"dns.records[0].type": "MX"}),
    bad("issuer", "dev", "tls.issuer", "'letsencrypt'", "must be 'letsencrypt-production' or 'letsencrypt-staging'",
        sets={"tls.issuer": "letsencrypt"}),
    bad("rate-limiting", "dev", "features.rateLimiting", "true", "must be 'off', 'standard' or 'strict'",
        sets={"features.rateLimiting": "on"}),  # YAML 1.1: on is a boolean
    bad("payment-mode", "dev", "features.paymentMode", "'real'", "must be 'mock', 'sandbox' or 'live'",
        sets={"features.paymentMode": "real"}),
    bad("email-provider", "dev", "features.emailProvider", "'smtp'", "must be 'mailhog', 'sendgrid-test' or 'sendgrid'",
        sets={"features.emailProvider": "smtp"}),
    bad("monitoring", "dev", "features.monitoring", "'none'", "must be 'basic', 'full' or 'full-alerts'",
        sets={"features.monitoring": "none"}),
    bad("node-env", "dev", "appSettings.nodeEnv", "'test'", "must be 'development' or 'production'",
        sets={"appSettings.nodeEnv": "test"}),
    bad("log-level", "dev", "appSettings.logLevel", "'trace'", "must be 'debug', 'info', 'warn' or 'error'",
        sets={"appSettings.logLevel": "trace"}),
    bad("app-kind", "dev", "apps.broxiva-api.kind", "'cron'", "must be 'service' or 'worker'",
        sets={"apps.broxiva-api.kind": "cron"}),
    bad("app-host", "dev", "apps.broxiva-api.hosts[1]", "'www'", "must be 'web', 'api' or 'admin'",
        sets={"apps.broxiva-api.hosts": "[api, www]"}),
    bad("active-color", "dev", "activeColor", "'red'", "must be 'blue' or 'green'", sets={"activeColor": "red"}),
    bad("principal-type", "dev", "deployer.principalType", "'Robot'", "must be 'ServicePrincipal', 'User' or 'Group'",
        sets={"deployer.principalType": "Robot"}),
]  # fmt: skip

PATTERNS = [
    bad("location", "dev", "location", "'East US'", "must match '^[a-z][a-z0-9]+$'", sets={"location": "East US"}),
    bad("kubernetes-version", "dev", "cluster.kubernetesVersion", "'v1.34'", r"must match '^1\.\d{2}(\.\d+)?$'",
        sets={"cluster.kubernetesVersion": "v1.34"}),
    bad("vm-size", "dev", "cluster.systemPool.vmSize", "'D2s_v3'", "must match '^Standard_[A-Za-z0-9_]+$'",
        sets={"cluster.systemPool.vmSize": "D2s_v3"}),
    bad("start-time", "dev", "cluster.maintenanceWindow.startTime", "'24:00'",
        r"must match '^([01]\d|2[0-3]):[0-5]\d$'",
        sets={"cluster.maintenanceWindow.startTime": '"24:00"'}),
    bad("utc-offset", "dev", "cluster.maintenanceWindow.utcOffset", "'+15:00'", "must match '^[+-](0\\d|1[0-4])",
        sets={"cluster.maintenanceWindow.utcOffset": '"+15:00"'}),
    bad("pull-token-secret", "dev", "registry.pullTokenSecret", "'Registry_Token'", "must match '^[a-z0-9-]{1,127}$'",
        sets={"registry.pullTokenSecret": "Registry_Token"}),
    bad("pull-username", "dev", "registry.pullUsername", "'bot@broxiva'", "must match '^[A-Za-z0-9-]{1,39}$'",
        sets={"registry.pullUsername": "bot@broxiva"}),
    bad("rotation", "dev", "secrets.rotation", "''", "must be a rotation stamp YYYY-MM or YYYY-MM-DD",
        sets={"secrets.rotation": '""'}),
    bad("rotation-month", "dev", "secrets.rotation", "'2026-13'", "must be a rotation stamp YYYY-MM or YYYY-MM-DD",
        sets={"secrets.rotation": "2026-13"}),
    bad("rotation-word", "prod", "secrets.rotation", "'q4'", "must be a rotation stamp", sets={"secrets.rotation": "q4"}),
    bad("postgres-user", "dev", "postgres.adminUser", "'Broxiva'", "must match '^[a-z_][a-z0-9_]{0,62}$'",
        sets={"postgres.adminUser": "Broxiva"}),
    bad("postgres-server-name", "dev", "postgres.serverName", "'Broxiva_PG'", "must match",
        sets={"postgres.serverName": "Broxiva_PG"}),
    bad("redis-name", "dev", "redis.name", "'-redis'", "must match", sets={"redis.name": "-redis"}),
    bad("backup-account", "dev", "backups.storageAccount", "'broxiva-backups'", "must match '^[a-z0-9]{3,24}$'",
        sets={"backups.storageAccount": "broxiva-backups"}),
    bad("postgres-database", "dev", "postgres.database", "'broxiva-dev'",
        "must match '^[a-z_][a-z0-9_]{0,62}$'",
        sets={"postgres.database": "broxiva-dev"}),
    bad("refresh-interval", "dev", "secrets.refreshInterval", "'0h'", "must match '^([1-9]\\d*)(s|m|h)$'",
        sets={"secrets.refreshInterval": "0h"}),
    bad("record-name", "dev", "dns.records[0].name", "'Dev'", "must match '^(@|(\\*\\.)?[a-z0-9]",
        sets={"dns.records[0].name": "Dev"}),
    bad("jwt-expiration", "dev", "appSettings.jwtExpiration", "'15 minutes'", "must match '^\\d+(s|m|h|d)$'",
        sets={"appSettings.jwtExpiration": "15 minutes"}),
    bad("stripe-publishable-key", "staging", "appSettings.stripePublishableKey", "'sk_live_51Secret'",
        "must match '^(pk_(test|live)_[A-Za-z0-9]+)?$'", sets={"appSettings.stripePublishableKey": "sk_live_51Secret"}),
    bad("google-analytics-id", "dev", "appSettings.googleAnalyticsId", "'UA-12345'", "must match '^(G-[A-Z0-9]+)?$'",
        sets={"appSettings.googleAnalyticsId": "UA-12345"}),
    bad("image", "dev", "apps.broxiva-api.image", "'Broxiva-API'", "must match '^[a-z0-9]([a-z0-9._/-]*[a-z0-9])?$'",
        sets={"apps.broxiva-api.image": "Broxiva-API"}),
    bad("writable-path", "dev", "apps.broxiva-web.writablePaths[1]", "'app/cache'", "must match '^/[A-Za-z0-9/_.-]+$'",
        sets={"apps.broxiva-web.writablePaths[1]": "app/cache"}),
    bad("probe-path", "dev", "apps.broxiva-api.probes.liveness", "'health'", "must match '^/[A-Za-z0-9/_.-]*$'",
        sets={"apps.broxiva-api.probes.liveness": "health"}),
    bad("tag-value-empty", "dev", "tags.owner", "''", "must have at least 1 character", sets={"tags.owner": '""'}),
    bad("txt-string-empty", "prod", "dns.records[5].values[0]", "''", "must have at least 1 character",
        sets={"dns.records[5].values": '[""]'}),
]  # fmt: skip

CHECKS = [
    bad("aks-name", "dev", "cluster.name", "'-broxiva-aks'", "must be an AKS cluster name: 1-63",
        sets={"cluster.name": "-broxiva-aks"}),
    bad("resource-group", "dev", "resourceGroup", "'broxiva-dev-rg.'", "must be a resource group name: 1-90",
        sets={"resourceGroup": "broxiva-dev-rg."}),
    bad("zone-resource-group-gone", "dev", "dns.zoneResourceGroup", "'broxiva-dns-rg'", "is not a known key",
        sets={"dns.zoneResourceGroup": "broxiva-dns-rg"}),
    bad("namespace", "dev", "namespace", "'Broxiva'", "must be a DNS-1123 label", sets={"namespace": "Broxiva"}),
    bad("container", "dev", "apps.broxiva-api.container", "'API'", "must be a DNS-1123 label",
        sets={"apps.broxiva-api.container": "API"}),
    bad("key-vault-short", "dev", "keyVault.name", "'kv'", "must be a Key Vault name: 3-24 characters",
        sets={"keyVault.name": "kv"}),
    bad("key-vault-hyphens", "dev", "keyVault.name", "'broxiva--kv'", "no consecutive hyphens",
        sets={"keyVault.name": "broxiva--kv"}),
    bad("acr-name", "prod", "registry.acrName", "'broxiva-prod-acr'", "must be a container registry name: 5-50",
        sets={"registry.acrName": "broxiva-prod-acr"}),
    bad("address-space", "dev", "network.addressSpace", "'10.10.0.0/33'", "must be",
        sets={"network.addressSpace": "10.10.0.0/33"}),
    bad("subnet-cidr", "dev", "network.subnets.nodes", "'10.10.0.1/22'", "must be",
        sets={"network.subnets.nodes": "10.10.0.1/22"}),
    bad("zone-name", "dev", "dns.zoneName", "'broxiva'", "must be a fully qualified DNS name with at least two labels",
        sets={"dns.zoneName": "broxiva"}),
    bad("caa-issuer", "prod", "dns.caaIssuers[1]", "'Amazon.com'", "must be a lowercase DNS name",
        sets={"dns.caaIssuers[1]": "Amazon.com"}),
    bad("domain", "dev", "domains.api", "'API.broxiva.com'", "must be a lowercase DNS name",
        sets={"domains.api": "API.broxiva.com"}),
    bad("domain-wildcard-not-allowed", "dev", "domains.web", "'*.dev.broxiva.com'", "must be a lowercase DNS name",
        sets={"domains.web": "*.dev.broxiva.com"}),
    bad("wildcard-bare", "dev", "domains.wildcard", "'*'", "must be a wildcard over a domain",
        sets={"domains.wildcard": "*"}),
    bad("acme-email", "dev", "tls.acmeEmail", "'platform'", "must be an e-mail address such as platform@broxiva.com",
        sets={"tls.acmeEmail": "platform"}),
    bad("image-tag-pattern", "dev", "imageTagPattern", "'^dev-(['", "must be a valid regular expression",
        sets={"imageTagPattern": "^dev-(["}),
    bad("admin-group", "dev", "cluster.adminGroupObjectIds[0]", "'platform-admins'", "must be a UUID such as",
        sets={"cluster.adminGroupObjectIds[0]": "platform-admins"}),
    bad("deployer-object-id", "dev", "deployer.objectId", "'ci-bot'", "must be a UUID such as",
        sets={"deployer.objectId": "ci-bot"}),
    bad("reader-group", "dev", "rbac.readerGroupObjectIds[1]", "'1234'", "must be a UUID such as",
        sets={"rbac.readerGroupObjectIds": '["5b7a4c1e-3f0d-4a8e-9b6c-2d1e0f3a4b5c", "1234"]'}),
    bad("api-server-range", "dev", "cluster.apiServerAuthorizedIpRanges[0]", "'203.0.113.7/24'",
        "must be an IP range in CIDR form with no host bits set",
        sets={"cluster.apiServerAuthorizedIpRanges": '["203.0.113.7/24"]'}),
    bad("key-vault-range", "dev", "keyVault.allowedIpRanges[0]", "'office'", "must be an IP range in CIDR form",
        sets={"keyVault.allowedIpRanges": "[office]"}),
    bad("service-cidr", "dev", "cluster.serviceCidr", "'10.0.0.0/33'", "must be an IP range in CIDR form",
        sets={"cluster.serviceCidr": "10.0.0.0/33"}),
    bad("cpu", "dev", "apps.broxiva-api.resources.limits.cpu", "'1 core'",
        "must be a CPU quantity (use millicores like 250m, or cores like 1)",
        sets={"apps.broxiva-api.resources.limits.cpu": "1 core"}),
    bad("memory", "dev", "apps.broxiva-api.resources.limits.memory", "'1GB'",
        "must be a memory quantity (use binary units like 512Mi or 1Gi)",
        sets={"apps.broxiva-api.resources.limits.memory": "1GB"}),
    bad("memory-fraction", "dev", "apps.broxiva-api.resources.requests.memory", "'0.5'",
        "must be a memory quantity (use binary units like 512Mi or 1Gi)",
        sets={"apps.broxiva-api.resources.requests.memory": '"0.5"'}),
]  # fmt: skip

GE = "must be greater than or equal to"
LE = "must be less than or equal to"
BOUNDS = [
    bad("min-count-ge", "dev", "cluster.workloadPool.minCount", "-1", f"{GE} 0",
        sets={"cluster.workloadPool.minCount": "-1"}),
    bad("max-count-ge", "dev", "cluster.workloadPool.maxCount", "0", f"{GE} 1",
        sets={"cluster.workloadPool.maxCount": "0"}),
    bad("max-count-le", "dev", "cluster.workloadPool.maxCount", "1001", f"{LE} 1000",
        sets={"cluster.workloadPool.maxCount": "1001"}),
    bad("max-pods-ge", "dev", "cluster.systemPool.maxPods", "9", f"{GE} 10", sets={"cluster.systemPool.maxPods": "9"}),
    bad("max-pods-le", "dev", "cluster.systemPool.maxPods", "251", f"{LE} 250",
        sets={"cluster.systemPool.maxPods": "251"}),
    bad("os-disk-ge", "dev", "cluster.workloadPool.osDiskSizeGb", "29", f"{GE} 30",
        sets={"cluster.workloadPool.osDiskSizeGb": "29"}),
    bad("os-disk-le", "dev", "cluster.workloadPool.osDiskSizeGb", "2049", f"{LE} 2048",
        sets={"cluster.workloadPool.osDiskSizeGb": "2049"}),
    bad("window-ge", "dev", "cluster.maintenanceWindow.durationHours", "3", f"{GE} 4",
        sets={"cluster.maintenanceWindow.durationHours": "3"}),
    bad("window-le", "dev", "cluster.maintenanceWindow.durationHours", "25", f"{LE} 24",
        sets={"cluster.maintenanceWindow.durationHours": "25"}),
    bad("log-retention-ge", "dev", "cluster.logRetentionDays", "29", f"{GE} 30",
        sets={"cluster.logRetentionDays": "29"}),
    bad("log-retention-le", "dev", "cluster.logRetentionDays", "731", f"{LE} 730",
        sets={"cluster.logRetentionDays": "731"}),
    bad("soft-delete-ge", "dev", "keyVault.softDeleteRetentionDays", "6", f"{GE} 7",
        sets={"keyVault.softDeleteRetentionDays": "6"}),
    bad("soft-delete-le", "dev", "keyVault.softDeleteRetentionDays", "91", f"{LE} 90",
        sets={"keyVault.softDeleteRetentionDays": "91"}),
    bad("backup-retention-ge", "dev", "postgres.backupRetentionDays", "6", f"{GE} 7",
        sets={"postgres.backupRetentionDays": "6"}),
    bad("backup-retention-le", "prod", "postgres.backupRetentionDays", "36", f"{LE} 35",
        sets={"postgres.backupRetentionDays": "36"}),
    bad("expiry-days-ge", "dev", "secrets.expiryDays", "7", f"{GE} 30", sets={"secrets.expiryDays": "7"}),
    bad("soft-delete-le", "dev", "backups.softDeleteDays", "400", f"{LE} 365", sets={"backups.softDeleteDays": "400"}),
    bad("ttl-ge", "dev", "dns.records[2].ttl", "59", f"{GE} 60", sets={"dns.records[2].ttl": "59"}),
    bad("ttl-le", "dev", "dns.records[2].ttl", "86401", f"{LE} 86400", sets={"dns.records[2].ttl": "86401"}),
    bad("app-port-ge", "dev", "apps.broxiva-web.port", "80", f"{GE} 1024", sets={"apps.broxiva-web.port": "80"}),
    bad("app-port-le", "dev", "apps.broxiva-web.port", "65536", f"{LE} 65535", sets={"apps.broxiva-web.port": "65536"}),
    bad("replicas-ge", "dev", "apps.broxiva-api.replicas", "0", f"{GE} 1", sets={"apps.broxiva-api.replicas": "0"}),
    bad("replicas-le", "dev", "apps.broxiva-api.replicas", "501", f"{LE} 500",
        sets={"apps.broxiva-api.replicas": "501"}),
    bad("grace-ge", "dev", "apps.broxiva-worker.terminationGraceSeconds", "4", f"{GE} 5",
        sets={"apps.broxiva-worker.terminationGraceSeconds": "4"}),
    bad("grace-le", "dev", "apps.broxiva-worker.terminationGraceSeconds", "601", f"{LE} 600",
        sets={"apps.broxiva-worker.terminationGraceSeconds": "601"}),
    bad("hpa-min-ge", "prod", "apps.broxiva-api.autoscaling.minReplicas", "0", f"{GE} 1",
        sets={"apps.broxiva-api.autoscaling.minReplicas": "0"}),
    bad("hpa-max-le", "prod", "apps.broxiva-api.autoscaling.maxReplicas", "501", f"{LE} 500",
        sets={"apps.broxiva-api.autoscaling.maxReplicas": "501"}),
    bad("hpa-cpu-ge", "prod", "apps.broxiva-web.autoscaling.cpuUtilization", "9", f"{GE} 10",
        sets={"apps.broxiva-web.autoscaling.cpuUtilization": "9"}),
    bad("hpa-cpu-le", "prod", "apps.broxiva-web.autoscaling.cpuUtilization", "101", f"{LE} 100",
        sets={"apps.broxiva-web.autoscaling.cpuUtilization": "101"}),
    bad("controller-replicas-ge", "prod", "addons.controllerReplicas", "0", f"{GE} 1",
        sets={"addons.controllerReplicas": "0"}),
    bad("controller-replicas-le", "prod", "addons.controllerReplicas", "6", f"{LE} 5",
        sets={"addons.controllerReplicas": "6"}),
    bad("proxy-replicas-le", "staging", "addons.proxyReplicas", "21", f"{LE} 20", sets={"addons.proxyReplicas": "21"}),
    bad("canary-ge", "staging", "canaryWeight", "-1", f"{GE} 0", sets={"canaryWeight": "-1"}),
    bad("canary-le", "staging", "canaryWeight", "101", f"{LE} 100", sets={"canaryWeight": "101"}),
]  # fmt: skip

POOL_KEYS = "criticalAddonsOnly, maxCount, maxPods, minCount, osDiskSizeGb, osDiskType, vmSize"
APP_KEYS = "autoscaling, command, container,"
UNKNOWN_KEYS = [
    bad("top-level", "dev", "colour", "'blue'", "is not a known key (known: activeColor, ",
        sets={"colour": "blue"}),
    bad("top-level-snake-case", "dev", "canary_weight", "5", "is not a known key (known: ",
        sets={"canary_weight": "5"}),
    bad("cluster", "dev", "cluster.kubelogin_mode", "'spn'", "is not a known key (known here: adminGroupObjectIds,",
        sets={"cluster.kubelogin_mode": "spn"}),
    bad("node-pool", "dev", "cluster.systemPool.zones", '["1"]', f"is not a known key (known here: {POOL_KEYS})",
        sets={"cluster.systemPool.zones": '["1"]'}),
    bad("app", "dev", "apps.broxiva-api.env", '{"LOG": "debug"}', f"is not a known key (known here: {APP_KEYS}",
        sets={"apps.broxiva-api.env": "{LOG: debug}"}),
    bad("record", "dev", "dns.records[1].priority", "10",
        "is not a known key (known here: name, ttl, type, value, values)",
        sets={"dns.records[1].priority": "10"}),
    bad("color", "dev", "colors.blue.weight", "50", "is not a known key (known here: running, tag)",
        sets={"colors.blue.weight": "50"}),
    bad("rbac", "dev", "rbac.adminGroupObjectIds", "[]",
        "is not a known key (known here: deployerGroupObjectIds, readerGroupObjectIds)",
        sets={"rbac.adminGroupObjectIds": "[]"}),
    bad("resources", "dev", "apps.broxiva-api.resources.requests.gpu", "'1'",
        "is not a known key (known here: cpu, memory)",
        sets={"apps.broxiva-api.resources.requests.gpu": '"1"'}),
]  # fmt: skip

MISSING = [
    bad("environment", "dev", "environment", "(not set)", "is required", unsets=("environment",)),
    bad("cluster", "dev", "cluster", "(not set)", "is required", unsets=("cluster",)),
    bad("cluster-name", "dev", "cluster.name", "(not set)", "is required", unsets=("cluster.name",)),
    bad("vm-size", "dev", "cluster.systemPool.vmSize", "(not set)", "is required",
        unsets=("cluster.systemPool.vmSize",)),
    bad("maintenance-window", "dev", "cluster.maintenanceWindow", "(not set)", "is required",
        unsets=("cluster.maintenanceWindow",)),
    bad("purge-protection", "dev", "keyVault.purgeProtection", "(not set)", "is required",
        unsets=("keyVault.purgeProtection",)),
    bad("records", "dev", "dns.records", "(not set)", "is required", unsets=("dns.records",)),
    bad("record-ttl", "dev", "dns.records[0].ttl", "(not set)", "is required", unsets=("dns.records[0].ttl",)),
    bad("limits-cpu", "dev", "apps.broxiva-api.resources.limits.cpu", "(not set)", "is required",
        unsets=("apps.broxiva-api.resources.limits.cpu",)),
    bad("color", "dev", "colors.green", "(not set)", "is required", unsets=("colors.green",)),
    bad("image-tag-pattern", "dev", "imageTagPattern", "(not set)", "is required", unsets=("imageTagPattern",)),
]  # fmt: skip

WRONG_TYPES = [
    bad("list-for-map", "dev", "cluster", "[1, 2]", "must be a map of the documented keys", sets={"cluster": "[1, 2]"}),
    bad("list-for-nested-map", "dev", "cluster.systemPool", '["Standard_D2s_v3"]',
        "must be a map of the documented keys",
        sets={"cluster.systemPool": "[Standard_D2s_v3]"}),
    bad("list-for-record", "dev", "dns.records[0]", '["A", "dev"]', "must be a map of the documented keys",
        sets={"dns.records[0]": "[A, dev]"}),
    bad("list-for-tags", "dev", "tags", '["a", "b"]', "must be a valid dictionary", sets={"tags": "[a, b]"}),
    bad("list-for-apps", "dev", "apps", "[]", "must be a valid dictionary", sets={"apps": "[]"}),
    bad("map-for-list", "dev", "dns.records", '{"type": "A"}', "must be a valid tuple",
        sets={"dns.records": "{type: A}"}),
    bad("string-for-list", "dev", "cluster.adminGroupObjectIds", "'5b7a4c1e-3f0d-4a8e-9b6c-2d1e0f3a4b5c'",
        "must be a valid tuple", sets={"cluster.adminGroupObjectIds": "5b7a4c1e-3f0d-4a8e-9b6c-2d1e0f3a4b5c"}),
    bad("string-for-int", "dev", "cluster.workloadPool.minCount", "'many'",
        "must be a valid integer", sets={"cluster.workloadPool.minCount": "many"}),
    bad("fraction-for-int", "staging", "canaryWeight", "2.5",
        "must be a valid integer", sets={"canaryWeight": "2.5"}),
    bad("bool-for-int", "dev", "cluster.workloadPool.minCount", "true",
        "must be a valid integer", sets={"cluster.workloadPool.minCount": "true"}),
    bad("string-for-bool", "dev", "protect", "'maybe'", "must be a valid boolean", sets={"protect": "maybe"}),
    bad("number-for-string", "dev", "location", "5", "must be a valid string", sets={"location": "5"}),
    bad("float-version", "dev", "cluster.kubernetesVersion", "1.34", "must be a valid string",
        sets={"cluster.kubernetesVersion": "1.34"}),
    bad("sexagesimal-time", "dev", "cluster.maintenanceWindow.startTime", "1320", "must be a valid string",
        sets={"cluster.maintenanceWindow.startTime": "22:00"}),  # YAML 1.1 reads 22:00 as 1320
    bad("number-for-quantity", "dev", "apps.broxiva-api.resources.limits.cpu", "1", "must be a valid string",
        sets={"apps.broxiva-api.resources.limits.cpu": "1"}),
    bad("number-for-tag", "prod", "colors.green.tag", "1.5", "must be a valid string",
        sets={"colors.green.tag": "1.5"}),
    bad("null-for-map", "dev", "colors.blue", "null", "must be a map of the documented keys",
        sets={"colors.blue": "null"}),
]  # fmt: skip

MODEL_RULES = [
    # The network: subnets inside the VNet, apart from each other, big enough.
    bad("subnet-outside-vnet", "dev", "network.subnets.postgres", "'10.99.5.0/24'",
        "must be inside addressSpace (10.10.0.0/16)", sets={"network.subnets.postgres": "10.99.5.0/24"}),
    bad("subnets-overlap", "staging", "network.subnets.privateEndpoints", "'10.20.2.0/24'",
        "must not overlap subnets.nodes (10.20.0.0/22)", sets={"network.subnets.privateEndpoints": "10.20.2.0/24"}),
    bad("postgres-subnet-too-small", "prod", "network.subnets.postgres", "'10.30.5.0/29'", "must be a /28 or larger",
        sets={"network.subnets.postgres": "10.30.5.0/29"}),
    # PostgreSQL: the SKU fits the tier, HA needs a tier and zones that allow it.
    bad("postgres-sku-tier", "staging", "postgres.sku", "'Standard_B2s'",
        "must be a Standard_D* size for the GeneralPurpose tier", sets={"postgres.sku": "Standard_B2s"}),
    bad("postgres-ha-burstable", "dev", "postgres.highAvailability", "'SameZone'",
        "must be Disabled for the Burstable tier", sets={"postgres.highAvailability": "SameZone"}),
    bad("postgres-ha-without-zones", "staging", "postgres.highAvailability", "'ZoneRedundant'",
        "needs zone and standbyZone (zone-redundant HA)", sets={"postgres.highAvailability": "ZoneRedundant"}),
    bad("postgres-standby-same-zone", "prod", "postgres.standbyZone", "'1'", "must differ from zone (1)",
        sets={"postgres.standbyZone": '"1"'}),
    bad("postgres-reserved-admin", "dev", "postgres.adminUser", "'admin'", "must not be a name Azure reserves",
        sets={"postgres.adminUser": "admin"}),
    # The API server: ranges only with authorizedRanges, and some then.
    bad("authorized-ranges-empty", "prod", "cluster.apiServerAuthorizedIpRanges", "[]",
        "must list at least one range with apiServerAccess authorizedRanges",
        sets={"cluster.apiServerAccess": "authorizedRanges"}),
    bad("ranges-while-public", "dev", "cluster.apiServerAuthorizedIpRanges", '["203.0.113.0/24"]',
        "must be empty with apiServerAccess public", sets={"cluster.apiServerAuthorizedIpRanges": '["203.0.113.0/24"]'}),
    # Ephemeral OS disks live in the VM's cache.
    bad("ephemeral-too-big", "dev", "cluster.workloadPool.osDiskSizeGb", "60",
        "must be <= 50 (the cache of Standard_D2s_v3)",
        sets={"cluster.workloadPool.osDiskType": "Ephemeral", "cluster.workloadPool.osDiskSizeGb": "60"}),
    bad("ephemeral-unknown-size", "dev", "cluster.systemPool.osDiskType", "'Ephemeral'",
        "must be Managed for Standard_F2s_v2, whose cache size is not known here",
        sets={"cluster.systemPool.vmSize": "Standard_F2s_v2", "cluster.systemPool.osDiskType": "Ephemeral"}),
    bad("vault-ranges-while-private", "prod", "keyVault.allowedIpRanges", '["203.0.113.0/24"]',
        "must be empty with publicNetworkAccess Disabled", sets={"keyVault.allowedIpRanges": '["203.0.113.0/24"]'}),
    # NodePool: minCount <= maxCount.
    bad("workload-pool-min-max", "dev", "cluster.workloadPool.minCount", "5", "must be <= maxCount (4)",
        sets={"cluster.workloadPool.minCount": "5"}),
    bad("system-pool-min-max", "prod", "cluster.systemPool.minCount", "6", "must be <= maxCount (5)",
        sets={"cluster.systemPool.minCount": "6"}),
    # ClusterConfig network and pool rules.
    bad("dns-ip-outside", "dev", "cluster.dnsServiceIp", "'10.1.0.10'", "must be inside serviceCidr (10.0.0.0/16)",
        sets={"cluster.dnsServiceIp": "10.1.0.10"}),
    bad("dns-ip-outside-new-cidr", "dev", "cluster.dnsServiceIp", "'10.0.0.10'",
        "must be inside serviceCidr (10.96.0.0/12)", sets={"cluster.serviceCidr": "10.96.0.0/12"}),
    bad("dns-ip-invalid", "dev", "cluster.dnsServiceIp", "'10.0.0.300'", "must be an IP address",
        sets={"cluster.dnsServiceIp": "10.0.0.300"}),
    bad("pod-cidr-overlap", "dev", "cluster.podCidr", "'10.0.0.0/8'", "must not overlap serviceCidr (10.0.0.0/16)",
        sets={"cluster.podCidr": "10.0.0.0/8"}),
    bad("pod-cidr-inside", "dev", "cluster.podCidr", "'10.0.128.0/17'", "must not overlap serviceCidr (10.0.0.0/16)",
        sets={"cluster.podCidr": "10.0.128.0/17"}),
    bad("system-pool-zero", "dev", "cluster.systemPool.minCount", "0", "must be >= 1 (AKS system pools)",
        sets={"cluster.systemPool.minCount": "0"}),
    bad("repeated-zone", "dev", "cluster.availabilityZones", '["1", "1"]', "must not repeat a zone",
        sets={"cluster.availabilityZones": '["1", "1"]'}),
    bad("repeated-zone-prod", "prod", "cluster.availabilityZones", '["1", "2", "3", "2"]', "must not repeat a zone",
        sets={"cluster.availabilityZones[3]": '"2"'}),
    # RegistryConfig.
    bad("acr-server-mismatch", "prod", "registry.server", "'ghcr.io/broxiva'",
        "must be broxivaprodacr.azurecr.io when acrName is set", sets={"registry.server": "ghcr.io/broxiva"}),
    bad("acr-added-to-ghcr", "dev", "registry.server", "'ghcr.io/broxiva'",
        "must be broxivadevacr.azurecr.io when acrName is set", sets={"registry.acrName": "broxivadevacr"}),
    bad("pull-token-with-acr", "prod", "registry.pullTokenSecret", "'registry-pull-token'",
        "must be unset with an ACR (AcrPull is used)", sets={"registry.pullTokenSecret": "registry-pull-token"}),
    # DnsRecord shapes.
    bad("a-with-value", "dev", "dns.records[0].value", "'203.0.113.10'", "must be unset: A records use the gateway IP",
        sets={"dns.records[0].value": "203.0.113.10"}),
    bad("a-with-values", "dev", "dns.records[0].value", '["203.0.113.10"]',
        "must be unset: A records use the gateway IP",
        sets={"dns.records[0].values": "[203.0.113.10]"}),
    bad("cname-without-value", "prod", "dns.records[4].value", "null", "must be a lowercase DNS name such as",
        unsets=("dns.records[4].value",)),
    bad("cname-bad-value", "prod", "dns.records[4].value", "'CloudFront.amazonaws.com'", "must be a lowercase DNS name",
        sets={"dns.records[4].value": "CloudFront.amazonaws.com"}),
    bad("txt-without-values", "prod", "dns.records[5].values", "[]", "must list at least one TXT string",
        unsets=("dns.records[5].values",)),
    bad("txt-empty-values", "prod", "dns.records[5].values", "[]", "must list at least one TXT string",
        sets={"dns.records[5].values": "[]"}),
    # DnsConfig.
    bad("duplicate-record", "dev", "dns.records[1]", "'A dev'", "must not repeat a record set",
        sets={"dns.records[1].name": "dev"}),
    bad("duplicate-txt", "prod", "dns.records[6]", "'TXT @'", "must not repeat a record set",
        sets={"dns.records[6]": '{type: TXT, name: "@", ttl: 300, values: [x]}'}),
    bad("caa-without-apex", "prod", "dns.caaIssuers", '["letsencrypt.org", "amazon.com"]',
        "must be empty unless this stack owns the zone apex (a record named @)",
        sets={"dns.records[0].name": "apex", "dns.records[5].name": "spf"}),
    bad("caa-in-dev", "dev", "dns.caaIssuers", '["letsencrypt.org"]',
        "must be empty unless this stack owns the zone apex (a record named @)",
        sets={"dns.caaIssuers[0]": "letsencrypt.org"}),
    bad("caa-repeated", "prod", "dns.caaIssuers", '["letsencrypt.org", "letsencrypt.org"]',
        "must not repeat an issuer", sets={"dns.caaIssuers[1]": "letsencrypt.org"}),
    bad("caa-wildcard-alone", "prod", "dns.caaWildcardIssuers", '["letsencrypt.org"]',
        "must be unset while caaIssuers is empty", sets={"dns.caaIssuers": "[]"}),
    # Release safety.
    bad("gate-path-slash", "prod", "apps.broxiva-api.smoke[0].path", "'api/health'",
        "must be a path starting with '/'", sets={"apps.broxiva-api.smoke[0].path": "api/health"}),
    bad("gate-status-low", "prod", "apps.broxiva-api.smoke[1].status", "99", "greater than or equal to 100",
        sets={"apps.broxiva-api.smoke[1].status": "99"}),
    bad("gate-status-high", "prod", "apps.broxiva-web.smoke[0].status", "600", "less than or equal to 599",
        sets={"apps.broxiva-web.smoke[0].status": "600"}),
    bad("gate-missing", "dev", "apps.broxiva-web.smoke", "[]", "must list at least one check for a service",
        sets={"apps.broxiva-web.smoke": "[]"}),
    bad("migration-without-database", "prod", "apps.broxiva-api.migration", '["npm", "run", "migration:run"]',
        "must be unset for an app without the database (set database: true)",
        sets={"apps.broxiva-api.database": "false"}),
    bad("migration-empty-command", "prod", "apps.broxiva-api.migration.command", "[]", "at least 1 item",
        sets={"apps.broxiva-api.migration.command": "[]"}),
    bad("stickiness-on-a-worker", "prod", "canaryStickiness.apps[0]", "'broxiva-worker'",
        "must name an app with a canary route (a service; broxiva-worker is a worker and has no route)",
        sets={"canaryStickiness.apps[0]": "broxiva-worker"}),
    bad("stickiness-unknown-app", "prod", "canaryStickiness.apps[0]", "'broxiva-shop'", "must be one of the apps",
        sets={"canaryStickiness.apps[0]": "broxiva-shop"}),
    bad("stickiness-timeout", "prod", "canaryStickiness.absoluteTimeout", "'1 hour'", "must match",
        sets={"canaryStickiness.apps[0]": "broxiva-web", "canaryStickiness.absoluteTimeout": "1 hour"}),
    bad("gate-image-tag", "prod", "release.gateImage", "'curlimages/curl:8.11.1'", "pinned by digest",
        sets={"release.gateImage": "curlimages/curl:8.11.1"}),
    bad("worker-without-liveness", "prod", "apps.broxiva-worker.livenessCommand", "[]",
        "must be set for a worker", sets={"apps.broxiva-worker.livenessCommand": "[]"}),
    bad("idle-replicas-on-a-service", "prod", "apps.broxiva-api.idleReplicas", "1", "must be unset for a service",
        sets={"apps.broxiva-api.idleReplicas": "1"}),
    bad("monitoring-full-without-grafana", "dev", "observability.grafanaName", "(not set)",
        "is required when features.monitoring is full", sets={"features.monitoring": "full"}),
    bad("monitoring-alerts-without-routes", "dev", "observability.alerts", "(not set)",
        "is required when features.monitoring is full-alerts",
        sets={"features.monitoring": "full-alerts", "observability.grafanaName": "broxiva-dev-grafana"}),
    bad("grafana-name-too-long", "staging", "observability.grafanaName", "'broxiva-staging-grafana-x'",
        "must match", sets={"observability.grafanaName": "broxiva-staging-grafana-x"}),
    bad("alert-severity-unknown-alert", "prod", "observability.alerts.severities.ApiDown", "'set'",
        "must name an alert rule", sets={"observability.alerts.severities.ApiDown": "warning"}),
    bad("alert-severity-unknown-level", "prod", "observability.alerts.severities.HighErrorRate", "'page'",
        "must be 'critical', 'error', 'warning' or 'informational'",
        sets={"observability.alerts.severities.HighErrorRate": "page"}),
    bad("alert-severity-unrouted", "staging", "observability.alerts.routes", '["critical", "error", "warning"]',
        "must route severity informational (alert HighErrorRate has it), or nobody is notified",
        sets={"observability.alerts.severities.HighErrorRate": "informational"}),
    bad("alert-route-unknown-receiver", "prod", "observability.alerts.routes.critical[0]", "'teams'",
        "must be 'email', 'slack' or 'pagerduty'", sets={"observability.alerts.routes.critical[0]": "teams"}),
    bad("alert-route-repeats", "prod", "observability.alerts.routes.warning", '["email", "email"]',
        "must not repeat a receiver", sets={"observability.alerts.routes.warning": '["email", "email"]'}),
    bad("alert-email-without-addresses", "prod", "observability.alerts.emails", "[]",
        "must list at least one address (routes.critical uses email)", sets={"observability.alerts.emails": "[]"}),
    bad("alert-bad-email", "prod", "observability.alerts.emails[0]", "'oncall'", "an e-mail address",
        sets={"observability.alerts.emails[0]": "oncall"}),
    bad("trace-ratio-above-one", "dev", "observability.traceSampleRatio", "1.5", "less than or equal to 1",
        sets={"observability.traceSampleRatio": "1.5"}),
    bad("metrics-port-is-the-app-port", "dev", "apps.broxiva-api.metricsPort", "4000",
        "must differ from port (metrics are never routed)", sets={"apps.broxiva-api.metricsPort": "4000"}),
    bad("key-version-missing", "prod", "secrets.encryptionKeys.kyc-encryption-key", "(not set)", "is required",
        unsets=("secrets.encryptionKeys.kyc-encryption-key",)),
    bad("key-version-unknown", "prod", "secrets.encryptionKeys.jwt-access-secret", "'set'",
        "must be one of the encryption keys", sets={"secrets.encryptionKeys.jwt-access-secret.current": "2026-11"}),
    bad("key-previous-same", "prod", "secrets.encryptionKeys.encryption-key.previous", "'2026-11'",
        "must differ from current", sets={"secrets.encryptionKeys.encryption-key.previous": "2026-11"}),
    bad("bootstrap-stack-form", "dev", "dns.bootstrapStack", "'broxiva-bootstrap'", "must match",
        sets={"dns.bootstrapStack": "broxiva-bootstrap"}),
    bad("bootstrap-stack-missing", "dev", "dns.bootstrapStack", "(not set)", "is required",
        unsets=("dns.bootstrapStack",)),
    # ResourceSpec: requests <= limits, compared as quantities.
    bad("cpu-request-over-limit", "dev", "apps.broxiva-api.resources.requests.cpu", "'600m'",
        "must be <= limits.cpu (500m)", sets={"apps.broxiva-api.resources.requests.cpu": "600m"}),
    bad("cpu-request-cores-over-limit", "dev", "apps.broxiva-api.resources.requests.cpu", "'1'",
        "must be <= limits.cpu (500m)", sets={"apps.broxiva-api.resources.requests.cpu": '"1"'}),
    bad("memory-request-over-limit", "dev", "apps.broxiva-api.resources.requests.memory", "'1Gi'",
        "must be <= limits.memory (512Mi)", sets={"apps.broxiva-api.resources.requests.memory": "1Gi"}),
    bad("memory-request-decimal-over-limit", "dev", "apps.broxiva-web.resources.requests.memory", "'269M'",
        "must be <= limits.memory (256Mi)", sets={"apps.broxiva-web.resources.requests.memory": "269M"}),
    # Autoscaling and AppConfig.
    bad("hpa-min-over-max", "prod", "apps.broxiva-api.autoscaling.minReplicas", "25", "must be <= maxReplicas (20)",
        sets={"apps.broxiva-api.autoscaling.minReplicas": "25"}),
    bad("replicas-below-hpa", "prod", "apps.broxiva-api.replicas", "3", "must be within autoscaling 5-20",
        sets={"apps.broxiva-api.replicas": "3"}),
    bad("replicas-above-hpa", "prod", "apps.broxiva-worker.replicas", "6", "must be within autoscaling 2-5",
        sets={"apps.broxiva-worker.replicas": "6"}),
    bad("service-without-port", "dev", "apps.broxiva-api.port", "null", "must be set for a service",
        unsets=("apps.broxiva-api.port",)),
    bad("service-without-probes", "dev", "apps.broxiva-web.probes", "null", "must be set for a service",
        unsets=("apps.broxiva-web.probes",)),
    bad("service-without-hosts", "dev", "apps.broxiva-api.hosts", "[]",
        "must name at least one of web, api, admin for a service", unsets=("apps.broxiva-api.hosts",)),
    bad("worker-with-hosts", "dev", "apps.broxiva-worker.hosts", '["api"]', "must be empty for a worker (no route)",
        sets={"apps.broxiva-worker.hosts": "[api]"}),
    bad("worker-with-port", "dev", "apps.broxiva-worker.port", "8080", "must be unset for a worker",
        sets={"apps.broxiva-worker.port": "8080"}),
]  # fmt: skip

NO_SERVICE = {
    "apps.broxiva-api.kind": "worker",
    "apps.broxiva-web.kind": "worker",
    **{f"apps.{app}.livenessCommand": "[sh, -c, 'true']" for app in ("broxiva-api", "broxiva-web")},
}
NO_SERVICE_UNSETS = tuple(
    f"apps.{app}.{key}" for app in ("broxiva-api", "broxiva-web") for key in ("port", "probes", "hosts", "smoke")
)
CROSS_FIELD_RULES = [
    bad("pod-cidr-in-vnet", "dev", "cluster.podCidr", "'10.10.128.0/17'",
        "must not overlap network.addressSpace (10.10.0.0/16)", sets={"cluster.podCidr": "10.10.128.0/17"}),
    bad("service-cidr-in-vnet", "prod", "cluster.serviceCidr", "'10.30.0.0/16'",
        "must not overlap network.addressSpace (10.30.0.0/16)",
        sets={"cluster.serviceCidr": "10.30.0.0/16", "cluster.dnsServiceIp": "10.30.0.10"}),
    bad("zone-redundant-without-zones", "dev", "postgres.highAvailability", "'ZoneRedundant'",
        "must be Disabled or SameZone in an environment without availability zones",
        sets={"postgres.tier": "GeneralPurpose", "postgres.sku": "Standard_D2ds_v5",
              "postgres.highAvailability": "ZoneRedundant", "postgres.zone": '"1"', "postgres.standbyZone": '"2"'}),
    bad("vault-public-in-staging", "staging", "keyVault.publicNetworkAccess", "'Enabled'",
        "must be Disabled in staging", sets={"keyVault.publicNetworkAccess": "Enabled"}),
    bad("no-azure-policy-in-prod", "prod", "cluster.azurePolicy", "false", "must be true in production",
        sets={"cluster.azurePolicy": "false"}),
    bad("no-image-cleaner-in-staging", "staging", "cluster.imageCleaner", "false", "must be true in staging",
        sets={"cluster.imageCleaner": "false"}),
    bad("cost-center", "dev", "tags.costCenter", "(not set)", "is required (every Azure resource carries it)",
        unsets=("tags.costCenter",)),
    bad("owner", "prod", "tags.owner", "(not set)", "is required (every Azure resource carries it)",
        unsets=("tags.owner",)),
    bad("domain-outside-zone", "dev", "domains.api", "'api.example.com'", "must be inside the DNS zone broxiva.com",
        sets={"domains.api": "api.example.com"}),
    bad("domain-suffix-not-zone", "dev", "domains.admin", "'admin-notbroxiva.com'",
        "must be inside the DNS zone broxiva.com", sets={"domains.admin": "admin-notbroxiva.com"}),
    bad("wildcard-outside-zone", "staging", "domains.wildcard", "'*.staging.example.com'",
        "must be inside the DNS zone broxiva.com", sets={"domains.wildcard": "*.staging.example.com"}),
    bad("www-outside-zone", "prod", "domains.www", "'www.broxiva.net'", "must be inside the DNS zone broxiva.com",
        sets={"domains.www": "www.broxiva.net"}),
    bad("missing-a-record", "dev", "dns.records", '["*.dev", "admin-dev", "api-dev2", "dev"]',
        "must include an A record for domains.api (api-dev)", sets={"dns.records[1].name": "api-dev2"}),
    bad("missing-apex-a-record", "prod", "dns.records", '["admin", "api", "www"]',
        "must include an A record for domains.web (@)", unsets=("dns.records[0]",)),
    bad("missing-www-a-record", "dev", "dns.records", '["*.dev", "admin-dev", "api-dev", "dev"]',
        "must include an A record for domains.www (www.dev)", sets={"domains.www": "www.dev.broxiva.com"}),
    bad("cname-is-not-a", "prod", "dns.records", '["@", "admin", "api"]',
        "must include an A record for domains.www (www)",
        sets={"dns.records[1]": "{type: CNAME, name: www, ttl: 300, value: broxiva.com}"}),
    bad("purge-protection-staging", "staging", "keyVault.purgeProtection", "false", "must be true in staging",
        sets={"keyVault.purgeProtection": "false"}),
    bad("purge-protection-prod", "prod", "keyVault.purgeProtection", "false", "must be true in production",
        sets={"keyVault.purgeProtection": "false"}),
    bad("prod-tier", "prod", "cluster.tier", "'Free'", "must be Standard or Premium in production",
        sets={"cluster.tier": "Free"}),
    bad("prod-zones", "prod", "cluster.availabilityZones", '["1", "2"]', 'must be ["1", "2", "3"] in production',
        sets={"cluster.availabilityZones": '["1", "2"]'}),
    bad("prod-no-zones", "prod", "cluster.availabilityZones", "[]", 'must be ["1", "2", "3"] in production',
        sets={"cluster.availabilityZones": "[]"}),
    bad("prod-critical-addons", "prod", "cluster.systemPool.criticalAddonsOnly", "false", "must be true in production",
        sets={"cluster.systemPool.criticalAddonsOnly": "false"}),
    bad("prod-critical-addons-default", "prod", "cluster.systemPool.criticalAddonsOnly", "false",
        "must be true in production", unsets=("cluster.systemPool.criticalAddonsOnly",)),
    bad("worker-with-probes", "dev", "apps.broxiva-worker.probes", "'set'",
        "must be unset for a worker (no HTTP endpoint)",
        sets={"apps.broxiva-worker.probes": "{liveness: /health, readiness: /health}"}),
    bad("no-service-app", "dev", "apps", '["broxiva-api", "broxiva-web", "broxiva-worker"]',
        "must contain at least one app of kind 'service'", sets=NO_SERVICE, unsets=NO_SERVICE_UNSETS),
    bad("unrouted-domain", "dev", "apps", '["broxiva-api", "broxiva-web", "broxiva-worker"]',
        "must route the admin domain", sets={"apps.broxiva-web.hosts": "[web]"}),
    bad("tag-latest", "staging", "colors.green.tag", "'latest'",
        "must be a pinned image tag; 'latest' is never deployed",
        sets={"colors.green.tag": "latest"}),
    bad("tag-latest-upper", "prod", "colors.blue.tag", "'LATEST'", "'latest' is never deployed",
        sets={"colors.blue.tag": "LATEST"}),
    bad("tag-latest-idle", "dev", "colors.green.tag", "'latest'", "'latest' is never deployed",
        sets={"colors.green.tag": "latest"}),
    bad("tag-empty", "dev", "colors.blue.tag", "''", "must be a non-empty OCI image tag",
        sets={"colors.blue.tag": '""'}),
    bad("tag-not-oci", "dev", "colors.blue.tag", "'dev 3f2c1a9'", "must be a non-empty OCI image tag",
        sets={"colors.blue.tag": "dev 3f2c1a9"}),
    bad("tag-pattern-prod", "prod", "colors.green.tag", "'1.5.0'", r"must be a tag matching ^v\d+\.\d+\.\d+$",
        sets={"colors.green.tag": "1.5.0"}),
    bad("tag-pattern-staging", "staging", "colors.green.tag", "'v1.5.0'", r"must be a tag matching ^staging-\d+",
        sets={"colors.green.tag": "v1.5.0"}),
    bad("tag-pattern-dev", "dev", "colors.blue.tag", "'dev-XYZ1234'", "must be a tag matching ^dev-[0-9a-f]{7,40}$",
        sets={"colors.blue.tag": "dev-XYZ1234"}),
    bad("tag-pattern-changed", "prod", "colors.blue.tag", "'v1.4.2'", r"must be a tag matching ^release-\d+$",
        sets={"imageTagPattern": r"^release-\d+$"}),
    bad("running-without-tag", "dev", "colors.green.tag", "(not set)", "is required while the color is running",
        sets={"colors.green.running": "true"}),
    bad("running-tag-removed", "prod", "colors.green.tag", "(not set)", "is required while the color is running",
        unsets=("colors.green.tag",)),
    bad("active-not-running", "dev", "activeColor", "'green'",
        "must name a running color: set colors.green.running to true and deploy it first",
        sets={"activeColor": "green", "colors.green.tag": "dev-abcdef1"}),
    bad("active-stopped", "staging", "activeColor", "'blue'",
        "must name a running color: set colors.blue.running to true and deploy it first",
        sets={"colors.blue.running": "false"}),
    bad("canary-idle-stopped", "dev", "canaryWeight", "10", "must be 0 while the idle color (green) is not running",
        sets={"canaryWeight": "10"}),
    bad("canary-idle-blue-stopped", "prod", "canaryWeight", "5", "must be 0 while the idle color (blue) is not running",
        sets={"activeColor": "green", "colors.blue.running": "false", "canaryWeight": "5"}),
]  # fmt: skip


def _run_case(case: Bad) -> str:
    err = refusal(case.stack, case.sets, case.unsets)
    message = str(err)
    assert message.startswith(f"Invalid configuration of stack '{case.stack}': {PREFIX}")
    assert f"{PREFIX}{case.key} = {case.shown}: " in message
    assert case.allowed in message
    assert message.endswith(".")
    assert "\n" not in message
    assert len(message.splitlines()) == 1
    assert err.key == case.key
    return message


SUB = "00000000-0000-4000-8000-00000000aaaa"
PROD_RG = f"/subscriptions/{SUB}/resourceGroups/broxiva-prod-rg"
KV_ID = f"{PROD_RG}/providers/Microsoft.KeyVault/vaults/broxiva-kv"
ACR_ID = f"{PROD_RG}/providers/Microsoft.ContainerRegistry/registries/broxivaprodacr"
AKS_ID = f"{PROD_RG}/providers/Microsoft.ContainerService/managedClusters/broxiva-prod-aks"
VAULT_ALLOWED = (
    "must be the resource ID of a Microsoft.KeyVault/vaults: "
    "/subscriptions/<subscription id>/resourceGroups/<group>/providers/Microsoft.KeyVault/vaults/<name>"
)

ADOPTION = [
    bad("adopt-malformed", "prod", "adopt.keyVault", "'broxiva-kv'", VAULT_ALLOWED, sets={"adopt.keyVault": "broxiva-kv"}),
    bad("adopt-wrong-type", "prod", "adopt.keyVault", show(ACR_ID), VAULT_ALLOWED, sets={"adopt.keyVault": ACR_ID}),
    bad("adopt-child-resource", "prod", "adopt.keyVault", show(KV_ID + "/secrets/x"), VAULT_ALLOWED,
        sets={"adopt.keyVault": KV_ID + "/secrets/x"}),
    bad("adopt-bad-subscription", "prod", "adopt.keyVault", show(KV_ID.replace(SUB, "sub")),
        VAULT_ALLOWED, sets={"adopt.keyVault": KV_ID.replace(SUB, "sub")}),
    bad("adopt-wrong-type-number", "prod", "adopt.cluster", "42", "must be a valid string", sets={"adopt.cluster": "42"}),
    bad("adopt-group-not-a-group", "prod", "adopt.resourceGroup", show(KV_ID),
        "must be a resource group ID: /subscriptions/<subscription id>/resourceGroups/<name>",
        sets={"adopt.resourceGroup": KV_ID}),
    bad("adopt-other-vault", "prod", "adopt.keyVault", show(KV_ID.replace("broxiva-kv", "other-kv")),
        "must name the keyVault.name of this stack (broxiva-kv) in its resource group (broxiva-prod-rg)",
        sets={"adopt.keyVault": KV_ID.replace("broxiva-kv", "other-kv")}),
    bad("adopt-other-group", "prod", "adopt.cluster", show(AKS_ID.replace("broxiva-prod-rg", "elsewhere-rg")),
        "must name the cluster.name of this stack (broxiva-prod-aks) in its resource group (broxiva-prod-rg)",
        sets={"adopt.cluster": AKS_ID.replace("broxiva-prod-rg", "elsewhere-rg")}),
    bad("adopt-registry-without-one", "dev", "adopt.registry",
        show(ACR_ID.replace("broxiva-prod-rg", "broxiva-dev-rg")),
        "must be unset: this stack declares no registry.acrName",
        sets={"adopt.registry": ACR_ID.replace("broxiva-prod-rg", "broxiva-dev-rg")}),
    bad("adopt-unknown-key", "prod", "adopt.database", "'x'", "is not a known key",
        sets={"adopt.database": "x"}),
]  # fmt: skip


@pytest.mark.parametrize("case", ADOPTION)
def test_adoption_ids_are_checked(case):
    _run_case(case)


@pytest.mark.parametrize(
    ("key", "resource_id"),
    [("resourceGroup", PROD_RG), ("keyVault", KV_ID), ("registry", ACR_ID), ("cluster", AKS_ID),
     # ARM compares keywords, namespaces and types without regard to case.
     ("keyVault", KV_ID.replace("resourceGroups", "resourcegroups").replace("Microsoft.KeyVault", "microsoft.keyvault"))],
)  # fmt: skip
def test_adoption_ids_of_the_stacks_own_resources_are_accepted(key, resource_id):
    cfg = config.parse(raw_config("prod", {f"adopt.{key}": resource_id}, ()), "prod")
    field = {"resourceGroup": "resource_group", "keyVault": "key_vault"}.get(key, key)
    assert getattr(cfg.adopt, field) == resource_id


@pytest.mark.parametrize("case", LITERALS)
def test_literal_enum(case):
    _run_case(case)


@pytest.mark.parametrize("case", PATTERNS)
def test_pattern(case):
    _run_case(case)


@pytest.mark.parametrize("case", CHECKS)
def test_checked_string(case):
    _run_case(case)


@pytest.mark.parametrize("case", BOUNDS)
def test_bounds(case):
    _run_case(case)


@pytest.mark.parametrize("case", UNKNOWN_KEYS)
def test_unknown_key(case):
    _run_case(case)


@pytest.mark.parametrize("case", MISSING)
def test_missing_required_key(case):
    _run_case(case)


@pytest.mark.parametrize("case", WRONG_TYPES)
def test_wrong_type(case):
    _run_case(case)


@pytest.mark.parametrize("case", MODEL_RULES)
def test_model_rule(case):
    _run_case(case)


@pytest.mark.parametrize("case", CROSS_FIELD_RULES)
def test_cross_field_rule(case):
    _run_case(case)


def test_message_names_stack_only_when_given():
    raw = raw_config("dev", {"cluster.tier": "Gold"})
    with pytest.raises(config.ConfigError) as info:
        config.parse(raw)
    assert str(info.value).startswith(f"Invalid configuration: {PREFIX}cluster.tier = 'Gold': ")


def test_long_value_is_shortened_in_the_message():
    err = refusal("dev", {"namespace": "a" * 300})
    message = str(err)
    assert f"{PREFIX}namespace = '{'a' * 56}...{'a' * 59}': must be a DNS-1123 label" in message
    assert "a" * 60 not in message


@pytest.mark.parametrize(
    ("key", "value"),
    [("apps", "Broxiva_API"), ("apps", "broxiva.api"), ("tags", "cost center")],
)
def test_bad_map_key_is_refused(key, value):
    raw = raw_config("dev")
    raw[key] = {**raw[key], value: raw[key][next(iter(raw[key]))]}
    with pytest.raises(config.ConfigError) as info:
        config.parse(raw, "dev")
    message = str(info.value)
    assert f"{PREFIX}{key}.{value}" in message
    assert ("must be a DNS-1123 label" if key == "apps" else "must match '^[A-Za-z][A-Za-z0-9-]{0,63}$'") in message


# --------------------------------------------------------------------------- values that must be accepted


@dataclass(frozen=True)
class Good:
    stack: str
    sets: dict[str, str]
    read: Callable[[config.StackConfig], Any]
    expected: Any
    unsets: tuple[str, ...] = ()


GOOD = [
    pytest.param(Good("dev", {"cluster.workloadPool.minCount": "4"}, lambda c: c.cluster.workload_pool.min_count, 4),
                 id="min-equals-max"),
    pytest.param(Good("dev", {"cluster.workloadPool.minCount": "0"}, lambda c: c.cluster.workload_pool.min_count, 0),
                 id="user-pool-to-zero"),
    pytest.param(Good("dev", {"cluster.systemPool.maxPods": "250"}, lambda c: c.cluster.system_pool.max_pods, 250),
                 id="max-pods-limit"),
    pytest.param(Good("dev", {"cluster.maintenanceWindow.durationHours": "24"},
                      lambda c: c.cluster.maintenance_window.duration_hours, 24), id="window-limit"),
    pytest.param(Good("dev", {"keyVault.name": "broxiva-development-kv01"}, lambda c: c.key_vault.name,
                      "broxiva-development-kv01"), id="key-vault-24"),
    pytest.param(Good("dev", {"apps.broxiva-api.resources.requests.memory": '"536870912"'},
                      lambda c: c.apps["broxiva-api"].resources.requests.memory, "536870912"),
                 id="request-equals-limit-other-unit"),
    pytest.param(Good("dev", {"apps.broxiva-api.resources.requests.cpu": '"0.5"'},
                      lambda c: c.apps["broxiva-api"].resources.requests.cpu, "0.5"), id="cpu-cores-equal-millis"),
    pytest.param(Good("staging", {"canaryWeight": "10"}, lambda c: c.canary_weight, 10), id="canary-idle-running"),
    pytest.param(Good("prod", {"canaryWeight": "100"}, lambda c: c.canary_weight, 100), id="canary-full"),
    pytest.param(Good("staging", {"activeColor": "green"}, lambda c: c.idle_color, "blue"), id="switch-color"),
    pytest.param(Good("prod", {"activeColor": "green", "colors.blue.running": "false"},
                      lambda c: c.colors.blue.running, False), id="stop-old-color"),
    pytest.param(Good("dev", {"activeColor": "green", "colors.green.tag": "dev-abcdef1",
                              "colors.green.running": "true"},
                      lambda c: c.colors.green.tag, "dev-abcdef1"), id="dev-green"),
    pytest.param(Good("dev", {"colors.blue.tag": "dev-" + "a" * 40}, lambda c: c.colors.blue.tag, "dev-" + "a" * 40),
                 id="dev-long-sha"),
    pytest.param(Good("staging", {"colors.green.tag": "staging-1.5.0-rc.1"}, lambda c: c.colors.green.tag,
                      "staging-1.5.0-rc.1"), id="staging-prerelease"),
    pytest.param(Good("dev", {"domains.www": "www.dev.broxiva.com",
                              "dns.records[4]": "{type: A, name: www.dev, ttl: 300}"},
                      lambda c: c.domains.www, "www.dev.broxiva.com"), id="www-with-record"),
    pytest.param(Good("prod", {"dns.records[6]": "{type: CNAME, name: status, ttl: 300, value: status.example.com}"},
                      lambda c: len(c.dns.records), 7), id="extra-cname"),
    pytest.param(Good("staging", {"tags.team": "checkout"}, lambda c: c.tags["team"], "checkout"), id="extra-tag"),
    pytest.param(Good("staging", {"apps.broxiva-worker.autoscaling.maxReplicas": "1"},
                      lambda c: c.apps["broxiva-worker"].autoscaling.max_replicas, 1), id="hpa-min-equals-max"),
    pytest.param(Good("dev", {"cluster.availabilityZones": '["2", "1"]'}, lambda c: c.cluster.availability_zones,
                      ("2", "1")), id="zones-any-order"),
    pytest.param(Good("prod", {"cluster.availabilityZones": '["3", "1", "2"]'}, lambda c: c.cluster.availability_zones,
                      ("3", "1", "2")), id="prod-zones-any-order"),
    pytest.param(Good("prod", {"cluster.tier": "Premium"}, lambda c: c.cluster.tier, "Premium"), id="prod-premium"),
    pytest.param(Good("dev", {"cluster.podCidr": "10.1.0.0/16"}, lambda c: c.cluster.pod_cidr, "10.1.0.0/16"),
                 id="pod-cidr-adjacent"),
    pytest.param(Good("dev", {"cluster.serviceCidr": "10.96.0.0/12", "cluster.dnsServiceIp": "10.96.0.10"},
                      lambda c: c.cluster.dns_service_ip, "10.96.0.10"), id="service-cidr-moved"),
    pytest.param(Good("dev", {"keyVault.purgeProtection": "true"}, lambda c: c.key_vault.purge_protection, True),
                 id="dev-purge-protection"),
    pytest.param(Good("dev", {}, lambda c: c.protected, False, unsets=("protect",)), id="protect-default-dev"),
    pytest.param(Good("prod", {}, lambda c: c.protected, True, unsets=("protect",)), id="protect-default-prod"),
]  # fmt: skip


@pytest.mark.parametrize("case", GOOD)
def test_accepted_change(case):
    cfg = config.parse(raw_config(case.stack, case.sets, case.unsets), case.stack)
    assert case.read(cfg) == case.expected


# --------------------------------------------------------------------------- the whole program: provided secrets


def test_prod_without_provided_secrets_is_refused():
    with pytest.raises(engine.ProgramConfigError) as info:
        run_program("prod", fill_secrets=False)
    message = str(info.value)
    assert f"{PREFIX}providedSecrets.stripeSecretKey = (not set): is required in production" in message
    assert "pulumi config set --secret --path providedSecrets.stripeSecretKey <value> --stack prod" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("stack", "provided", "missing"),
    [
        ("prod", {}, "stripeSecretKey"),
        ("prod", {"stripeSecretKey": "sk"}, "stripeWebhookSecret"),
        ("prod", {"stripeSecretKey": "sk", "stripeWebhookSecret": "wh"}, "sendgridApiKey"),
        (
            "staging",
            {"stripeSecretKey": "sk", "stripeWebhookSecret": "wh", "sendgridApiKey": "sg"},
            "registryPullToken",
        ),
        ("dev", {}, "registryPullToken"),
    ],
)
def test_each_required_provided_secret_is_named(stack, provided, missing):
    secret_sets = {f"providedSecrets.{key}": value for key, value in provided.items()}
    with pytest.raises(engine.ProgramConfigError) as info:
        run_program(stack, fill_secrets=False, secret_sets=secret_sets)
    message = str(info.value)
    assert f"{PREFIX}providedSecrets.{missing} = (not set): is required in {ENVIRONMENTS[stack]}" in message
    assert f"pulumi config set --secret --path providedSecrets.{missing} <value> --stack {stack}" in message
    for value in provided.values():
        assert f"'{value}'" not in message


def test_dev_with_its_pull_token_runs():
    plan = run_program("dev", fill_secrets=False, secret_sets={"providedSecrets.registryPullToken": "x"})
    assert plan.stack == "dev"
    assert plan.outputs["environment"] == "development"


def test_provided_secret_without_secret_flag_is_refused():
    with pytest.raises(engine.ProgramConfigError) as info:
        run_program("dev", {"providedSecrets.registryPullToken": "plain-token-123"}, fill_secrets=False)
    message = str(info.value)
    assert f"{PREFIX}providedSecrets = '(hidden)': must be set with --secret" in message
    assert "pulumi config set --secret --path providedSecrets.<name> <value>" in message
    assert "plain-token-123" not in message


def test_unknown_provided_secret_is_refused():
    secret_sets = {"providedSecrets.registryPullToken": "x", "providedSecrets.stripeKey": "value-456"}
    with pytest.raises(engine.ProgramConfigError) as info:
        run_program("dev", fill_secrets=False, secret_sets=secret_sets)
    message = str(info.value)
    assert f"{PREFIX}providedSecrets.stripeKey = '(hidden)': is not a known secret (known: stripeSecretKey," in message
    assert "value-456" not in message


def test_provided_secrets_must_be_a_map():
    with pytest.raises(engine.ProgramConfigError) as info:
        run_program("dev", fill_secrets=False, secret_sets={"providedSecrets": "[1, 2]"})
    assert f"{PREFIX}providedSecrets = '(hidden)': must be a map of secret values" in str(info.value)


def test_bad_config_through_the_program_is_refused_with_the_same_message():
    with pytest.raises(engine.ProgramConfigError) as info:
        run_program("prod", {"cluster.tier": "Free"})
    assert str(info.value) == str(refusal("prod", {"cluster.tier": "Free"}))


# --------------------------------------------------------------------------- nothing is declared on bad config


def test_config_load_is_the_first_call_of_the_program():
    tree = ast.parse((PROJECT_DIR / "__main__.py").read_text())
    imports = [node for node in tree.body if isinstance(node, ast.ImportFrom) and node.module == "components"]
    assert any(alias.name == "config" and alias.asname is None for node in imports for alias in node.names)
    calls = []
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        calls.extend(node for node in ast.walk(statement) if isinstance(node, ast.Call))
    assert calls, "the program calls nothing"
    first = min(calls, key=lambda node: (node.lineno, node.col_offset))
    assert ast.unparse(first) == "config.load(project_dir=Path(__file__).parent)"
    load_line = first.lineno
    for statement in tree.body:
        if statement.lineno < load_line:
            assert isinstance(statement, ast.Import | ast.ImportFrom | ast.Expr), ast.unparse(statement)


@pytest.fixture
def monitors(monkeypatch) -> list[mocks.RecordingMonitor]:
    """Every monitor the engine creates while the test runs."""
    created: list[mocks.RecordingMonitor] = []

    class Monitor(mocks.RecordingMonitor):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            created.append(self)

    monkeypatch.setattr(engine, "RecordingMonitor", Monitor)
    return created


@pytest.mark.parametrize(
    ("stack", "sets"),
    [
        ("prod", {"cluster.tier": "Free"}),
        ("staging", {"colors.green.tag": "latest"}),
        ("dev", {"cluster.workloadPool.minCount": "5"}),
    ],
)
def test_bad_config_declares_no_resource(monitors, stack, sets):
    cfg = stackconfig.load(PROJECT_DIR, stack, sets=list(sets.items()))
    with pytest.raises(engine.ProgramConfigError, match=f"^Invalid configuration of stack '{stack}': "):
        engine.run(PROJECT_DIR, cfg)
    assert len(monitors) == 1
    assert monitors[0].registrations == []
    assert monitors[0].invokes == []


def test_good_config_is_seen_by_the_monitor(monitors):
    # The counterpart of the test above: the same monitor does see what a valid run declares.
    engine.run(PROJECT_DIR, stackconfig.load(PROJECT_DIR, "dev"))
    assert len(monitors) == 1
    assert monitors[0].registrations


# --------------------------------------------------------------------------- regressions
# Each test below pins a defect that was found and fixed.


@pytest.mark.parametrize(("key", "value"), [("apps", "Broxiva_API"), ("tags", "cost center")])
def test_regression_bad_map_key_message(key, value):
    raw = raw_config("dev")
    raw[key] = {**raw[key], value: raw[key][next(iter(raw[key]))]}
    with pytest.raises(config.ConfigError) as info:
        config.parse(raw, "dev")
    message = str(info.value)
    assert "[key]" not in message
    assert "(not set)" not in message


@pytest.mark.parametrize(
    "sets",
    [
        {"cluster.adminGroupObjectIds": "{1: a, b: c}"},
        {"cluster.extra": "{1: a, b: c}"},
        {"cluster.extra": "{2026-01-01: a}"},
    ],
    ids=["mixed-keys-for-list", "mixed-keys-unknown", "date-key-unknown"],
)
def test_regression_any_value_can_be_shown(sets):
    assert refusal("dev", sets).key.startswith("cluster.")


@pytest.mark.parametrize("pattern", ["a{4294967296}", "(" * 2000 + ")" * 2000], ids=["huge-repeat", "deep-nesting"])
def test_regression_uncompilable_image_tag_pattern_is_a_config_error(pattern):
    assert refusal("dev", {"imageTagPattern": pattern}).key == "imageTagPattern"


def test_regression_message_is_one_line_for_any_key():
    raw = raw_config("dev")
    raw["cluster"] = {**raw["cluster"], "node\npools": 1}
    with pytest.raises(config.ConfigError) as info:
        config.parse(raw, "dev")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("namespace",), "broxiva-development\n"),
        (("keyVault", "name"), "broxiva-dev-kv\n"),
        (("tls", "acmeEmail"), "platform@broxiva.com\n"),
        (("postgres", "serverName"), "broxiva-dev-pg\n"),
        (("apps", "broxiva-api", "resources", "requests", "cpu"), "100m\n"),
    ],
    ids=["namespace", "key-vault", "acme-email", "postgres-server", "cpu"],
)
def test_regression_trailing_newline_is_refused(path, value):
    # YAML block scalars end in a newline; --set would strip it, so the raw value is set directly.
    raw = raw_config("dev")
    target = raw
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    with pytest.raises(config.ConfigError) as info:
        config.parse(raw, "dev")
    assert info.value.key == ".".join(path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "sets",
    [{"dns.records[5].value": "ignored.example.com"}, {"dns.records[4].values": "[ignored]"}],
    ids=["txt-with-value", "cname-with-values"],
)
def test_regression_record_fields_of_other_types_are_refused(sets):
    refusal("prod", sets)


def test_regression_malformed_provided_secrets_are_not_shown():
    with pytest.raises(engine.ProgramConfigError) as info:
        run_program("dev", fill_secrets=False, secret_sets={"providedSecrets": "sk_live_topsecret"})
    message = str(info.value)
    assert "sk_live_topsecret" not in message
    assert "of stack 'dev'" in message


def test_regression_quantity_message_keeps_the_allowed_text():
    message = str(refusal("dev", {"apps.broxiva-api.resources.limits.cpu": "x is not y"}))
    assert ": must be a CPU quantity (use millicores like 250m, or cores like 1)." in message


@pytest.mark.parametrize(
    ("stack", "sets", "key", "fragment"),
    [
        ("prod", {"apps.broxiva-web.hosts": "[web, admin, api]"}, "apps.broxiva-web.pathPrefix", "must differ from"),
        ("prod", {"apps.broxiva-web.hosts": "[web]"}, "apps", "must route the admin domain at /"),
        ("prod", {"dns.records[4].name": "@"}, "dns.records[4].name", "must not be the zone apex"),
        ("prod", {"dns.records[4].name": "www"}, "dns.records[4].name", "must not also hold A records"),
    ],
)
def test_routing_and_cname_rules(stack, sets, key, fragment):
    err = refusal(stack, sets)
    assert err.key == key and fragment in str(err)


def test_apps_may_share_a_host_on_distinct_path_prefixes():
    shop = (
        "{kind: service, container: shop, image: broxiva-shop, port: 5000, replicas: 1, hosts: [api],"
        " pathPrefix: /shop, resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {cpu: 10m, memory: 16Mi}},"
        " probes: {liveness: /h, readiness: /h}, smoke: [{path: /h}]}"
    )
    cfg = config.parse(raw_config("prod", {"apps.broxiva-shop": shop}), "prod")
    assert cfg.apps["broxiva-shop"].path_prefix == "/shop"
    err = refusal("prod", {"apps.broxiva-shop": shop.replace("/shop", "/")})
    assert err.key == "apps.broxiva-shop.pathPrefix"


# --------------------------------------------------------------------------- previews with secrets still to set


def _provided_for(stack: str, raw: dict, *, preview: bool):
    from components.config import loading

    cfg = config.parse(raw_config(stack, {}, ()), stack)
    return loading._provided(cfg, raw, True, stack, preview=preview)


# Prod's alerts notify Slack and PagerDuty: their addresses are required secrets too.
ALERT_RECEIVERS = ("alertSlackWebhookUrl", "alertPagerdutyIntegrationKey")


@pytest.mark.parametrize(
    ("stack", "raw", "missing"),
    [
        ("prod", {}, ("stripeSecretKey", "stripeWebhookSecret", "sendgridApiKey", *ALERT_RECEIVERS)),
        ("prod", {"stripeSecretKey": "sk", "stripeWebhookSecret": "wh"}, ("sendgridApiKey", *ALERT_RECEIVERS)),
        ("dev", {}, ("registryPullToken",)),
        ("dev", {"registryPullToken": "t"}, ()),
    ],
)
def test_a_preview_goes_on_with_placeholders_and_names_what_is_missing(stack, raw, missing):
    from components.config import loading
    from components.config.secrets import PROVIDED_BY_KEY, vault_name

    cfg = config.parse(raw_config(stack, {}, ()), stack)
    provided = _provided_for(stack, raw, preview=True)
    assert provided.missing == missing
    # Each missing one still has its Key Vault secret (a placeholder), so the preview shows the whole plan.
    assert {vault_name(PROVIDED_BY_KEY[k], cfg) for k in missing} <= set(provided.values)
    warning = loading.missing_secrets_warning(missing, stack) if missing else ""
    for key in missing:
        assert f"providedSecrets.{key}" in warning
    if missing:
        assert warning.count("\n") == 0 and f"--stack {stack}" in warning and "`pulumi up` refuses" in warning


def test_an_update_still_refuses_a_missing_secret():
    with pytest.raises(config.ConfigError, match=r"providedSecrets\.stripeSecretKey"):
        _provided_for("prod", {}, preview=False)


def test_a_preview_placeholder_is_a_secret():
    from tools.pulumi_sdk import sync_await

    provided = _provided_for("dev", {}, preview=True)
    (value,) = provided.values.values()
    assert sync_await(value.is_secret()) is True
