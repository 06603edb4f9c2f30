"""Resource rules for the Azure layer (azure-native): AKS, Key Vault, ACR, role assignments, tags, protection, DNS."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pulumi_policy import Severity

from .common import (
    UNKNOWN,
    as_dict,
    as_list,
    dig,
    display_name,
    integer,
    resource_policy,
    stack_of,
    string_list,
)

MANAGED_CLUSTER = "azure-native:containerservice:ManagedCluster"
AGENT_POOL = "azure-native:containerservice:AgentPool"
VAULT = "azure-native:keyvault:Vault"
REGISTRY = "azure-native:containerregistry:Registry"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
RECORD_SET = "azure-native:dns:RecordSet"
PRIVATE_RECORD_SET = "azure-native:privatedns:PrivateRecordSet"
ZONE = "azure-native:dns:Zone"
WORKSPACE = "azure-native:operationalinsights:Workspace"
PUBLIC_IP = "azure-native:network:PublicIPAddress"

# azure-native resource types whose SDK class has no ``tags`` argument (their ARM resource carries no
# tags). Every other azure-native type is treated as taggable. The test suite checks this list against
# the installed pulumi_azure_native SDK for every type the program declares.
UNTAGGABLE_TYPES: frozenset[str] = frozenset(
    {
        "azure-native:authorization:ManagementLockAtResourceGroupLevel",
        "azure-native:authorization:ManagementLockByScope",
        "azure-native:authorization:PolicyAssignment",
        "azure-native:authorization:RoleAssignment",
        "azure-native:authorization:RoleDefinition",
        "azure-native:containerregistry:ScopeMap",
        "azure-native:containerservice:MaintenanceConfiguration",
        "azure-native:containerservice:TrustedAccessRoleBinding",
        "azure-native:dbforpostgresql:AdministratorsMicrosoftEntra",
        "azure-native:dbforpostgresql:Configuration",
        "azure-native:dbforpostgresql:Database",
        "azure-native:dbforpostgresql:FirewallRule",
        "azure-native:dns:RecordSet",
        "azure-native:keyvault:AccessPolicy",
        "azure-native:managedidentity:FederatedIdentityCredential",
        "azure-native:monitor:DataCollectionRuleAssociation",
        "azure-native:monitor:DiagnosticSetting",
        "azure-native:network:PrivateDnsZoneGroup",
        "azure-native:network:SecurityRule",
        "azure-native:network:Subnet",
        "azure-native:operationalinsights:Table",
        "azure-native:privatedns:PrivateRecordSet",
        "azure-native:redisenterprise:Database",
        "azure-native:storage:BlobContainer",
        "azure-native:storage:BlobContainerImmutabilityPolicy",
        "azure-native:storage:BlobServiceProperties",
    }
)

# Built-in roles that grant control over everything in their scope, including access itself.
PRIVILEGED_ROLES: dict[str, str] = {
    "8e3af657-a8ff-443c-a75e-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7126f08cd": "Contributor",
    "18d7d88d-d35c-4d20-a5c3-56ed7d7d0c49": "User Access Administrator",
}

NETWORK_POLICY_ENGINES = ("azure", "calico", "cilium")


def _cluster_name(props: dict[str, Any], name: str) -> str:
    return display_name(props, name, "resourceName")


# --------------------------------------------------------------------------- AKS


def check_aks_entra_id_rbac(resource_type, props, urn, name, opts, config) -> Iterable[str]:
    cluster = _cluster_name(props, name)
    aad = props.get("aadProfile")
    if aad is UNKNOWN:
        return
    aad = as_dict(aad)
    if not aad:
        yield (
            f"AKS cluster '{cluster}' has no aadProfile; set aad_profile=ManagedClusterAADProfileArgs(managed=True, "
            "enable_azure_rbac=True) so sign-in goes through Entra ID and authorization through Azure RBAC."
        )
    elif aad.get("managed") not in (True, UNKNOWN):
        yield (
            f"AKS cluster '{cluster}': aadProfile.managed is {aad.get('managed')!r}; set "
            "aad_profile=ManagedClusterAADProfileArgs(managed=True, enable_azure_rbac=True) so sign-in goes "
            "through Entra ID."
        )
    if aad.get("enableAzureRBAC") not in (True, UNKNOWN):
        yield (
            f"AKS cluster '{cluster}': aadProfile.enableAzureRBAC is {aad.get('enableAzureRBAC')!r}; set "
            "enable_azure_rbac=True so Kubernetes authorization uses Azure role assignments."
        )
    if props.get("disableLocalAccounts") not in (True, UNKNOWN):
        yield (
            f"AKS cluster '{cluster}': disableLocalAccounts is {props.get('disableLocalAccounts')!r}; set "
            "disable_local_accounts=True so no static admin kubeconfig can bypass Entra ID."
        )
    if props.get("enableRBAC") is False:
        yield f"AKS cluster '{cluster}': enableRBAC is False; set enable_rbac=True."


def check_aks_workload_identity(resource_type, props, urn, name, opts, config) -> Iterable[str]:
    cluster = _cluster_name(props, name)
    oidc = dig(props, "oidcIssuerProfile", "enabled")
    if oidc not in (True, UNKNOWN):
        yield (
            f"AKS cluster '{cluster}': oidcIssuerProfile.enabled is {oidc!r}; set "
            "oidc_issuer_profile=ManagedClusterOIDCIssuerProfileArgs(enabled=True) (federated credentials need "
            "the issuer)."
        )
    workload = dig(props, "securityProfile", "workloadIdentity", "enabled")
    if workload not in (True, UNKNOWN):
        yield (
            f"AKS cluster '{cluster}': securityProfile.workloadIdentity.enabled is {workload!r}; set "
            "security_profile.workload_identity.enabled=True so pods use Entra workload identity instead of "
            "stored credentials."
        )


def check_aks_network_policy(resource_type, props, urn, name, opts, config) -> Iterable[str]:
    engine = dig(props, "networkProfile", "networkPolicy")
    if engine is UNKNOWN:
        return
    if engine not in NETWORK_POLICY_ENGINES:
        yield (
            f"AKS cluster '{_cluster_name(props, name)}': networkProfile.networkPolicy is {engine!r}; set it to "
            f"one of {', '.join(NETWORK_POLICY_ENGINES)} (cilium with the cilium dataplane) so NetworkPolicies "
            "are enforced."
        )


def check_aks_monitoring(resource_type, props, urn, name, opts, config) -> Iterable[str]:
    addons = props.get("addonProfiles")
    if addons is UNKNOWN:
        return
    oms = next((v for k, v in as_dict(addons).items() if k.lower() == "omsagent"), None)
    cluster = _cluster_name(props, name)
    if oms is UNKNOWN:
        return
    enabled = dig(oms, "enabled")
    if enabled is UNKNOWN:
        return
    if enabled is not True:
        yield (
            f"AKS cluster '{cluster}': the omsagent add-on (Container Insights) is "
            f"{'missing' if oms is None else 'disabled'}; set addon_profiles={{'omsagent': "
            "ManagedClusterAddonProfileArgs(enabled=True, config={'logAnalyticsWorkspaceResourceID': <workspace id>})}."
        )
        return
    workspace = next(
        (v for k, v in as_dict(dig(oms, "config")).items() if k.lower() == "loganalyticsworkspaceresourceid"), None
    )
    if workspace is not UNKNOWN and not workspace:
        yield (
            f"AKS cluster '{cluster}': the omsagent add-on has no logAnalyticsWorkspaceResourceID; point it at the "
            "environment's Log Analytics workspace."
        )


def _pools(resource_type: str, props: dict[str, Any], name: str) -> list[tuple[str, dict[str, Any], str]]:
    """(label, pool props, default mode) for every node pool the resource declares."""
    if resource_type == MANAGED_CLUSTER:
        cluster = _cluster_name(props, name)
        pools = []
        for index, pool in enumerate(as_list(props.get("agentPoolProfiles"))):
            pool = as_dict(pool)
            label = pool.get("name") if isinstance(pool.get("name"), str) else f"agentPoolProfiles[{index}]"
            # The pools declared with the cluster create it: the first one must be (and defaults to) System.
            pools.append((f"node pool '{label}' of AKS cluster '{cluster}'", pool, "System"))
        return pools
    label = display_name(props, name, "agentPoolName")
    return [(f"node pool '{label}'", props, "User")]


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def check_aks_node_pool_autoscaling(resource_type, props, urn, name, opts, config) -> Iterable[str]:
    ceiling = config["maxNodeCount"]
    for label, pool, default_mode in _pools(resource_type, props, name):
        if pool.get("enableAutoScaling") is UNKNOWN:
            continue
        if pool.get("enableAutoScaling") is not True:
            yield f"{label}: enableAutoScaling is {pool.get('enableAutoScaling')!r}; set enable_auto_scaling=True."
            continue
        mode = pool.get("mode") if isinstance(pool.get("mode"), str) else default_mode
        low, high = pool.get("minCount"), pool.get("maxCount")
        if low is UNKNOWN or high is UNKNOWN:
            continue
        low_n, high_n = _int(low), _int(high)
        if low_n is None or high_n is None:
            yield f"{label}: autoscaling needs minCount and maxCount; set min_count and max_count."
            continue
        floor = 1 if mode == "System" else 0
        if low_n < floor:
            yield f"{label}: minCount {low_n} is below {floor} for a {mode} pool; set min_count >= {floor}."
        if low_n > high_n:
            yield f"{label}: minCount {low_n} is above maxCount {high_n}; set min_count <= max_count."
        if high_n > ceiling:
            yield f"{label}: maxCount {high_n} is above {ceiling}; set max_count <= {ceiling}."
        count = _int(pool.get("count"))
        if count is not None and low_n <= high_n and not low_n <= count <= high_n:
            yield f"{label}: count {count} is outside minCount..maxCount ({low_n}..{high_n}); set count inside it."


def check_aks_production_resilience(resource_type, props, urn, name, opts, config) -> Iterable[str]:
    if stack_of(urn) not in config["productionStacks"]:
        return
    zones = sorted(str(z) for z in config["requiredZones"])
    if resource_type == MANAGED_CLUSTER:
        tier = dig(props, "sku", "tier")
        if tier is not UNKNOWN and tier not in config["allowedTiers"]:
            yield (
                f"AKS cluster '{_cluster_name(props, name)}': sku.tier is {tier!r} in production stack "
                f"'{stack_of(urn)}'; set sku.tier to one of {', '.join(config['allowedTiers'])} (uptime SLA)."
            )
    for label, pool, _ in _pools(resource_type, props, name):
        declared = pool.get("availabilityZones")
        if declared is UNKNOWN:
            continue
        if sorted(str(z) for z in as_list(declared)) != zones:
            yield (
                f"{label}: availabilityZones is {declared!r} in production stack '{stack_of(urn)}'; set "
                f"availability_zones={zones!r} so nodes survive a zone outage."
            )


# --------------------------------------------------------------------------- Key Vault, ACR, roles


def check_keyvault_rbac_soft_delete(resource_type, props, urn, name, opts, config) -> Iterable[str]:
    vault = display_name(props, name, "vaultName")
    properties = props.get("properties")
    if properties is UNKNOWN:
        return
    properties = as_dict(properties)
    rbac = properties.get("enableRbacAuthorization")
    if rbac not in (True, UNKNOWN):
        yield (
            f"Key Vault '{vault}': properties.enableRbacAuthorization is {rbac!r}; set "
            "enable_rbac_authorization=True and grant access with role assignments, not access policies."
        )
    if properties.get("enableSoftDelete") is False:
        yield f"Key Vault '{vault}': properties.enableSoftDelete is False; set enable_soft_delete=True."
    retention = properties.get("softDeleteRetentionInDays")
    if isinstance(retention, int | float) and not 7 <= retention <= 90:
        yield f"Key Vault '{vault}': softDeleteRetentionInDays {retention} is outside 7..90; choose a value in range."


def check_keyvault_purge_protection(resource_type, props, urn, name, opts, config) -> Iterable[str]:
    stack = stack_of(urn)
    if stack not in config["purgeProtectionStacks"]:
        return
    purge = dig(props, "properties", "enablePurgeProtection")
    if purge not in (True, UNKNOWN):
        yield (
            f"Key Vault '{display_name(props, name, 'vaultName')}': properties.enablePurgeProtection is {purge!r} "
            f"in stack '{stack}'; set enable_purge_protection=True (keyVault.purgeProtection: true) so deleted "
            "secrets cannot be purged before their retention ends."
        )


def check_acr_access(resource_type, props, urn, name, opts, config) -> Iterable[str]:
    registry = display_name(props, name, "registryName")
    if props.get("adminUserEnabled") is True:
        yield (
            f"Container registry '{registry}': adminUserEnabled is True; set admin_user_enabled=False and grant "
            "AcrPull/AcrPush role assignments instead of the shared admin password."
        )
    if props.get("anonymousPullEnabled") is True:
        yield (
            f"Container registry '{registry}': anonymousPullEnabled is True; set anonymous_pull_enabled=False so "
            "only identities with AcrPull can pull images."
        )


def check_privileged_role_assignment(resource_type, props, urn, name, opts, config) -> Iterable[str]:
    definition = props.get("roleDefinitionId")
    if not isinstance(definition, str) or not definition:
        return
    role_id = definition.rstrip("/").rsplit("/", 1)[-1].lower()
    forbidden = {str(r).lower() for r in config["forbiddenRoleDefinitionIds"]}
    if role_id in forbidden:
        role = PRIVILEGED_ROLES.get(role_id, role_id)
        yield (
            f"Role assignment '{name}' grants {role} ({role_id}); grant the narrowest built-in role that does the "
            "job (e.g. Key Vault Secrets User, AcrPull, DNS Zone Contributor) at the narrowest scope instead."
        )


# --------------------------------------------------------------------------- tags, protection, DNS


def check_required_tags(resource_type, props, urn, name, opts, config) -> Iterable[str]:
    if not resource_type.startswith("azure-native:") or resource_type in UNTAGGABLE_TYPES:
        return
    tags = props.get("tags")
    if tags is UNKNOWN:
        return
    tags = as_dict(tags)
    missing = [
        key
        for key in config["requiredTags"]
        if (value := tags.get(key)) is not UNKNOWN and (not isinstance(value, str) or not value.strip())
    ]
    if missing:
        yield (
            f"{resource_type.rsplit(':', 1)[-1]} '{name}' lacks the tags {', '.join(missing)}; pass the stack's "
            "tags (context.tags: environment, project, managed-by, plus costCenter and owner from the stack's "
            "tags config) as tags=."
        )


def check_protected(resource_type, props, urn, name, opts, config) -> Iterable[str]:
    stack = stack_of(urn)
    if stack not in config["protectedStacks"] or resource_type not in config["protectedTypes"]:
        return
    if not getattr(opts, "protect", False):
        yield (
            f"{resource_type.rsplit(':', 1)[-1]} '{name}' holds state that cannot be recreated but is not protected "
            f"in stack '{stack}'; set ResourceOptions(protect=True) (stack config protect: true)."
        )


def check_dns_ttl(resource_type, props, urn, name, opts, config) -> Iterable[str]:
    ttl = props.get("ttl")
    if ttl is UNKNOWN:
        return
    low, high = config["minTtl"], config["maxTtl"]
    record = f"{props.get('recordType') or 'DNS'} record '{props.get('relativeRecordSetName') or name}'"
    value = _int(ttl)
    if value is None:
        yield f"{record} has no ttl; set ttl between {low} and {high} seconds."
    elif not low <= value <= high:
        yield f"{record}: ttl {value} is outside {low}..{high} seconds; set a ttl in that range."


PROTECTED_TYPES = [
    VAULT,
    ZONE,
    MANAGED_CLUSTER,
    REGISTRY,
    WORKSPACE,
    PUBLIC_IP,
    "azure-native:network:VirtualNetwork",
    "azure-native:dbforpostgresql:Server",
    "azure-native:dbforpostgresql:Database",
    "azure-native:redisenterprise:RedisEnterprise",
    "azure-native:redisenterprise:Database",
    "azure-native:storage:StorageAccount",
    "azure-native:storage:BlobContainer",
]

POLICIES = [
    resource_policy(
        name="aks-entra-id-rbac",
        description="AKS clusters authenticate with Entra ID (managed AAD), authorize with Azure RBAC and have "
        "local accounts disabled.",
        check=check_aks_entra_id_rbac,
        resource_types=[MANAGED_CLUSTER],
        severity=Severity.CRITICAL,
        remediation="Set aad_profile(managed=True, enable_azure_rbac=True) and disable_local_accounts=True on the "
        "ManagedCluster.",
    ),
    resource_policy(
        name="aks-workload-identity",
        description="AKS clusters expose an OIDC issuer and enable workload identity, so pods never hold "
        "Azure credentials.",
        check=check_aks_workload_identity,
        resource_types=[MANAGED_CLUSTER],
        severity=Severity.HIGH,
        remediation="Set oidc_issuer_profile.enabled=True and security_profile.workload_identity.enabled=True.",
    ),
    resource_policy(
        name="aks-network-policy",
        description="AKS clusters run a network policy engine (azure, calico or cilium) so NetworkPolicies "
        "are enforced.",
        check=check_aks_network_policy,
        resource_types=[MANAGED_CLUSTER],
        severity=Severity.HIGH,
        remediation="Set network_profile.network_policy to cilium (with network_dataplane cilium), azure or calico.",
    ),
    resource_policy(
        name="aks-monitoring",
        description="AKS clusters send container logs and metrics to Log Analytics (omsagent add-on enabled).",
        check=check_aks_monitoring,
        resource_types=[MANAGED_CLUSTER],
        severity=Severity.MEDIUM,
        remediation="Enable addon_profiles['omsagent'] with logAnalyticsWorkspaceResourceID set to the workspace.",
    ),
    resource_policy(
        name="aks-node-pool-autoscaling",
        description="AKS node pools autoscale within a sane range: minCount >= 1 for system pools (>= 0 for "
        "user pools), minCount <= maxCount <= maxNodeCount.",
        check=check_aks_node_pool_autoscaling,
        resource_types=[MANAGED_CLUSTER, AGENT_POOL],
        severity=Severity.MEDIUM,
        remediation="Set enable_auto_scaling=True with min_count/max_count in range (cluster.systemPool / "
        "cluster.workloadPool in the stack config).",
        settings=[integer("maxNodeCount", 1000, "Largest maxCount allowed for a node pool (AKS limit 1000).", 1)],
    ),
    resource_policy(
        name="aks-production-resilience",
        description="In production stacks AKS runs on a paid tier with the uptime SLA and spreads every node "
        "pool over availability zones 1, 2 and 3.",
        check=check_aks_production_resilience,
        resource_types=[MANAGED_CLUSTER, AGENT_POOL],
        severity=Severity.HIGH,
        remediation="Set cluster.tier to Standard or Premium and cluster.availabilityZones to [1, 2, 3].",
        settings=[
            string_list("productionStacks", ["prod"], "Stacks held to production resilience."),
            string_list("allowedTiers", ["Standard", "Premium"], "AKS tiers allowed in production stacks."),
            string_list("requiredZones", ["1", "2", "3"], "Availability zones every production node pool uses."),
        ],
    ),
    resource_policy(
        name="keyvault-rbac-soft-delete",
        description="Key Vaults use Azure RBAC authorization (no access policies) and keep soft delete on.",
        check=check_keyvault_rbac_soft_delete,
        resource_types=[VAULT],
        severity=Severity.HIGH,
        remediation="Set properties.enable_rbac_authorization=True and never set enable_soft_delete=False.",
    ),
    resource_policy(
        name="keyvault-purge-protection",
        description="Key Vaults of protected environments have purge protection on.",
        check=check_keyvault_purge_protection,
        resource_types=[VAULT],
        severity=Severity.HIGH,
        remediation="Set keyVault.purgeProtection: true in the stack config (properties.enable_purge_protection).",
        settings=[
            string_list(
                "purgeProtectionStacks", ["staging", "prod"], "Stacks whose Key Vaults must have purge protection."
            )
        ],
    ),
    resource_policy(
        name="acr-no-admin-or-anonymous-access",
        description="Container registries have the admin user and anonymous pull disabled; pulls use AcrPull.",
        check=check_acr_access,
        resource_types=[REGISTRY],
        severity=Severity.HIGH,
        remediation="Set admin_user_enabled=False and anonymous_pull_enabled=False; grant AcrPull to identities.",
    ),
    resource_policy(
        name="no-privileged-role-assignments",
        description="No role assignment grants Owner, Contributor or User Access Administrator.",
        check=check_privileged_role_assignment,
        resource_types=[ROLE_ASSIGNMENT],
        severity=Severity.CRITICAL,
        remediation="Assign a narrow built-in role (components/azure/roles.py ROLES) at the narrowest scope.",
        settings=[
            string_list(
                "forbiddenRoleDefinitionIds",
                sorted(PRIVILEGED_ROLES),
                "Role definition GUIDs that must never be assigned (Owner, Contributor, User Access Administrator).",
            )
        ],
    ),
    resource_policy(
        name="azure-required-tags",
        description="Every Azure resource that supports tags carries environment, project, managed-by, "
        "costCenter and owner.",
        check=check_required_tags,
        resource_types=None,
        severity=Severity.MEDIUM,
        remediation="Pass the stack's tags (context.tags plus the tags config) as tags= to every taggable resource.",
        settings=[
            string_list(
                "requiredTags",
                ["environment", "project", "managed-by", "costCenter", "owner"],
                "Tag keys every taggable Azure resource must carry with a non-empty value.",
            )
        ],
    ),
    resource_policy(
        name="protect-stateful-resources",
        description="In protected stacks, resources holding state that cannot be recreated (Key Vault, DNS zone, "
        "AKS cluster, registry, Log Analytics workspace, static public IP, VNet, databases, cache, backups) are "
        "protected from deletion.",
        check=check_protected,
        resource_types=None,
        severity=Severity.HIGH,
        remediation="Set protect: true in the stack config (ResourceOptions(protect=True)).",
        settings=[
            string_list("protectedStacks", ["prod"], "Stacks whose stateful resources must be protected."),
            string_list("protectedTypes", PROTECTED_TYPES, "Resource types that must be protected in those stacks."),
        ],
    ),
    resource_policy(
        name="dns-ttl-range",
        description="DNS record sets have an explicit TTL within the allowed range.",
        check=check_dns_ttl,
        resource_types=[RECORD_SET, PRIVATE_RECORD_SET],
        severity=Severity.LOW,
        remediation="Set dns.records[].ttl in the stack config within minTtl..maxTtl seconds.",
        settings=[
            integer("minTtl", 60, "Smallest TTL in seconds.", 1),
            integer("maxTtl", 86400, "Largest TTL in seconds.", 1),
        ],
    ),
]
