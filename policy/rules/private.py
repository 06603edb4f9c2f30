"""Rules for the private network and the data services: nothing stateful or secret answers on the internet,
every data path is TLS, production data survives a zone (and its backups a region), nodes are hardened."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pulumi_policy import Severity

from .azure import AGENT_POOL, MANAGED_CLUSTER, REGISTRY, VAULT, _int, _pools
from .common import (
    UNKNOWN,
    StackResource,
    as_dict,
    dig,
    display_name,
    resource_policy,
    stack_of,
    stack_policy,
    string_list,
)
from .common import integer as integer_setting

POSTGRES_SERVER = "azure-native:dbforpostgresql:Server"
POSTGRES_CONFIGURATION = "azure-native:dbforpostgresql:Configuration"
REDIS = "azure-native:redisenterprise:RedisEnterprise"
REDIS_DATABASE = "azure-native:redisenterprise:Database"
STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
BLOB_CONTAINER = "azure-native:storage:BlobContainer"
KEY_VAULT_SECRET = "azure-native:keyvault:Secret"

GENERATED_SECRETS = [
    "encryption-key",
    "internal-api-key",
    "jwt-access-secret",
    "jwt-refresh-secret",
    "kyc-encryption-key",
    "postgres-password",
    "session-secret",
    "webhook-secret",
]


def _label(resource_type: str, props: dict[str, Any], name: str, *keys: str) -> str:
    return f"{resource_type.rsplit(':', 1)[-1]} '{display_name(props, name, *keys)}'"


# --------------------------------------------------------------------------- no public data plane


def check_data_services_private(resource_type, props, urn, name, opts, config) -> Iterable[str]:
    if stack_of(urn) not in config["environmentStacks"]:
        # The bootstrap's state store and stack keys serve CI runners over the internet, Entra ID only
        # (docs/bootstrap.md): the environments' data services are what this rule keeps private.
        return
    if resource_type == POSTGRES_SERVER:
        label = _label(resource_type, props, name, "serverName")
        network = props.get("network")
        if network is UNKNOWN:
            return
        subnet = dig(network, "delegatedSubnetResourceId")
        if subnet is not UNKNOWN and not subnet:
            yield (
                f"{label} has no delegated subnet: it would get a public endpoint; set network=NetworkArgs("
                "delegated_subnet_resource_id=<postgres subnet>, private_dns_zone_arm_resource_id=<its zone>)."
            )
        if dig(network, "publicNetworkAccess") == "Enabled":
            yield f"{label}: network.publicNetworkAccess is Enabled; leave it to VNet integration (Disabled)."
        return
    keys = {REDIS: "clusterName", STORAGE_ACCOUNT: "accountName", REGISTRY: "registryName", VAULT: "vaultName"}
    label = _label(resource_type, props, name, keys[resource_type])
    if resource_type == VAULT:
        access = dig(props, "properties", "publicNetworkAccess")
        if stack_of(urn) in config["privateVaultStacks"] and access not in ("Disabled", UNKNOWN):
            yield (
                f"{label}: properties.publicNetworkAccess is {access!r} in stack '{stack_of(urn)}'; set "
                "keyVault.publicNetworkAccess: Disabled (the cluster reads it through its private endpoint)."
            )
        default = dig(props, "properties", "networkAcls", "defaultAction")
        if default not in ("Deny", UNKNOWN):
            yield (
                f"{label}: networkAcls.defaultAction is {default!r}; set keyVault.networkDefaultAction: Deny so "
                "only the listed ranges and trusted services reach the data plane."
            )
        return
    if resource_type == REGISTRY and stack_of(urn) not in config["privateRegistryStacks"]:
        return
    access = props.get("publicNetworkAccess")
    if access not in ("Disabled", UNKNOWN):
        yield f"{label}: publicNetworkAccess is {access!r}; set it to Disabled and reach it through its private endpoint."
    if resource_type == STORAGE_ACCOUNT:
        for key in ("allowBlobPublicAccess", "allowSharedKeyAccess"):
            if props.get(key) not in (False, UNKNOWN):
                yield f"{label}: {key} is {props.get(key)!r}; set it to False (Entra ID only, nothing anonymous)."


# --------------------------------------------------------------------------- TLS


def check_data_services_tls(resource_type, props, urn, name, opts, config) -> Iterable[str]:
    if resource_type == REDIS:
        tls = props.get("minimumTlsVersion")
        if tls not in ("1.2", UNKNOWN):
            yield f"{_label(resource_type, props, name, 'clusterName')}: minimumTlsVersion is {tls!r}; set it to 1.2."
    elif resource_type == REDIS_DATABASE:
        protocol = props.get("clientProtocol")
        if protocol not in ("Encrypted", UNKNOWN):
            yield (
                f"Redis database '{name}': clientProtocol is {protocol!r}; set client_protocol='Encrypted' "
                "(TLS on port 10000)."
            )
    elif resource_type == STORAGE_ACCOUNT:
        label = _label(resource_type, props, name, "accountName")
        if props.get("minimumTlsVersion") not in ("TLS1_2", "TLS1_3", UNKNOWN):
            yield f"{label}: minimumTlsVersion is {props.get('minimumTlsVersion')!r}; set TLS1_2."
        if props.get("enableHttpsTrafficOnly") is False:
            yield f"{label}: enableHttpsTrafficOnly is False; set it to True."
    elif resource_type == POSTGRES_CONFIGURATION:
        setting = props.get("configurationName") or props.get("name")
        value = props.get("value")
        if setting == "require_secure_transport" and isinstance(value, str) and value.lower() != "on":
            yield f"PostgreSQL parameter require_secure_transport is {value!r}; set it to 'on'."


def check_postgres_requires_tls(
    resources: list[StackResource], config: dict[str, Any]
) -> Iterable[tuple[str, str | None]]:
    """Each server pins require_secure_transport on (its child Configuration): a default can change, a
    declared parameter cannot drift without a diff."""
    pinned = {
        r.parent
        for r in resources
        if r.resource_type == POSTGRES_CONFIGURATION
        and r.props.get("name") in ("require_secure_transport", UNKNOWN)
        and str(r.props.get("value", "on")).lower() in ("on", str(UNKNOWN).lower())
    }
    for server in resources:
        if server.resource_type == POSTGRES_SERVER and server.urn not in pinned:
            yield (
                f"PostgreSQL server '{server.name}' has no require_secure_transport=on parameter; declare a "
                "Configuration(configuration_name='require_secure_transport', value='on') under it.",
                server.urn,
            )


# --------------------------------------------------------------------------- production resilience


def check_production_data(resource_type, props, urn, name, opts, config) -> Iterable[str]:
    stack = stack_of(urn)
    if stack not in config["productionStacks"]:
        return
    if resource_type == POSTGRES_SERVER:
        label = _label(resource_type, props, name, "serverName")
        mode = dig(props, "highAvailability", "mode")
        if mode not in ("ZoneRedundant", UNKNOWN):
            yield f"{label}: highAvailability.mode is {mode!r} in stack '{stack}'; set postgres.highAvailability: ZoneRedundant."
        geo = dig(props, "backup", "geoRedundantBackup")
        if geo not in ("Enabled", UNKNOWN):
            yield (
                f"{label}: backup.geoRedundantBackup is {geo!r} in stack '{stack}'; set postgres.geoRedundantBackup: "
                "true (only possible when the server is created)."
            )
        days = _int(dig(props, "backup", "backupRetentionDays"))
        if days is not None and days < config["minBackupRetentionDays"]:
            yield (
                f"{label}: backup.backupRetentionDays is {days} in stack '{stack}'; set "
                f"postgres.backupRetentionDays >= {config['minBackupRetentionDays']}."
            )
    elif resource_type == REDIS:
        ha = props.get("highAvailability")
        if ha not in ("Enabled", UNKNOWN):
            yield (
                f"{_label(resource_type, props, name, 'clusterName')}: highAvailability is {ha!r} in stack '{stack}'; "
                "set redis.highAvailability: true."
            )
    elif resource_type == BLOB_CONTAINER:
        enabled = dig(props, "immutableStorageWithVersioning", "enabled")
        if enabled not in (True, UNKNOWN):
            yield (
                f"Backup container '{display_name(props, name, 'containerName')}' is not immutable in stack "
                f"'{stack}'; set backups.immutabilityDays."
            )


# --------------------------------------------------------------------------- nodes and secrets


def check_aks_node_hardening(resource_type, props, urn, name, opts, config) -> Iterable[str]:
    for label, pool, _ in _pools(resource_type, props, name):
        host = pool.get("enableEncryptionAtHost")
        if host not in (True, UNKNOWN):
            yield f"{label}: enableEncryptionAtHost is {host!r}; set enable_encryption_at_host=True."
    stack = stack_of(urn)
    if resource_type != MANAGED_CLUSTER or stack not in config["hardenedStacks"]:
        return
    cluster = display_name(props, name, "resourceName")
    addons = props.get("addonProfiles")
    if addons is not UNKNOWN:
        policy = next((v for k, v in as_dict(addons).items() if k.lower() == "azurepolicy"), None)
        if dig(policy, "enabled") not in (True, UNKNOWN):
            yield f"AKS cluster '{cluster}': the azurepolicy add-on is off in stack '{stack}'; set cluster.azurePolicy: true."
    cleaner = dig(props, "securityProfile", "imageCleaner", "enabled")
    if cleaner not in (True, UNKNOWN):
        yield f"AKS cluster '{cluster}': Image Cleaner is off in stack '{stack}'; set cluster.imageCleaner: true."


def check_secret_expiry(resource_type, props, urn, name, opts, config) -> Iterable[str]:
    secret = props.get("secretName") or props.get("name")
    if secret not in config["expiringSecrets"]:
        return
    properties = props.get("properties")
    if not isinstance(properties, dict):
        return  # unknown, or (offline) the masked secret: its digest is checked by the tests instead
    expires = dig(properties, "attributes", "expires")
    if expires is not UNKNOWN and _int(expires) is None:
        yield (
            f"Key Vault secret '{secret}' is generated but has no expiry; set properties.attributes.expires from "
            "the rotation stamp (secrets.expiryDays)."
        )


POLICIES = [
    resource_policy(
        name="data-services-private",
        description="PostgreSQL, Redis, backup storage, Key Vault and (prod) the registry answer only inside the "
        "VNet: no public network access, Key Vault firewall default Deny.",
        check=check_data_services_private,
        resource_types=[POSTGRES_SERVER, REDIS, STORAGE_ACCOUNT, REGISTRY, VAULT],
        severity=Severity.CRITICAL,
        remediation="Use the delegated subnet or a private endpoint and set publicNetworkAccess to Disabled.",
        settings=[
            string_list("environmentStacks", ["dev", "staging", "prod"], "Stacks whose data services are private."),
            string_list("privateVaultStacks", ["staging", "prod"], "Stacks whose Key Vault has public access off."),
            string_list("privateRegistryStacks", ["prod"], "Stacks whose registry has public access off."),
        ],
    ),
    resource_policy(
        name="data-services-tls",
        description="Every data path is TLS 1.2+: Redis encrypted on its TLS port, storage HTTPS only, PostgreSQL "
        "require_secure_transport on.",
        check=check_data_services_tls,
        resource_types=[REDIS, REDIS_DATABASE, STORAGE_ACCOUNT, POSTGRES_CONFIGURATION],
        severity=Severity.HIGH,
        remediation="Set minimum TLS 1.2, client_protocol Encrypted, enable_https_traffic_only, and "
        "require_secure_transport on.",
    ),
    stack_policy(
        name="postgres-requires-tls",
        description="Every PostgreSQL server declares require_secure_transport=on.",
        check=check_postgres_requires_tls,
        severity=Severity.HIGH,
        remediation="Declare the Configuration require_secure_transport=on as a child of the server.",
    ),
    resource_policy(
        name="production-data-resilience",
        description="In production, PostgreSQL has zone-redundant HA and geo-redundant backups kept long enough, "
        "Redis is highly available, and the backup container is immutable.",
        check=check_production_data,
        resource_types=[POSTGRES_SERVER, REDIS, BLOB_CONTAINER],
        severity=Severity.HIGH,
        remediation="Set postgres.highAvailability ZoneRedundant, geoRedundantBackup, backupRetentionDays 35, "
        "redis.highAvailability and backups.immutabilityDays in the production stack.",
        settings=[
            string_list("productionStacks", ["prod"], "Stacks held to production resilience."),
            integer_setting("minBackupRetentionDays", 35, "Smallest point-in-time restore window in production.", 7),
        ],
    ),
    resource_policy(
        name="aks-node-hardening",
        description="Every node pool encrypts at host; staging and production run the Azure Policy add-on and "
        "Image Cleaner.",
        check=check_aks_node_hardening,
        resource_types=[MANAGED_CLUSTER, AGENT_POOL],
        severity=Severity.HIGH,
        remediation="enable_encryption_at_host=True on every pool; cluster.azurePolicy and cluster.imageCleaner true.",
        settings=[string_list("hardenedStacks", ["staging", "prod"], "Stacks with the add-ons required.")],
    ),
    resource_policy(
        name="generated-secrets-expire",
        description="Generated Key Vault secrets carry an expiry derived from the rotation stamp.",
        check=check_secret_expiry,
        resource_types=[KEY_VAULT_SECRET],
        severity=Severity.LOW,
        remediation="Set properties.attributes.expires (config.secrets.expiries).",
        settings=[string_list("expiringSecrets", GENERATED_SECRETS, "Key Vault secrets the program generates.")],
    ),
]
