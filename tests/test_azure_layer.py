"""The Azure layer of every stack: names and sizes from the environment matrix, access, secrets, DNS, wiring.

Expected values are written out here (docs: shared spec environments.md and references.md, and the stack
files), never derived from the components under test. Only the Azure layer is asserted: resources of other
layers (Kubernetes objects) may be added to the program without touching these tests.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import inspect
import ipaddress
import json
import re
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi.runtime import mocks as pulumi_mocks
from pulumi_azure_native import authorization, containerservice, dns, managedidentity, monitor

from components.azure import dns as dns_component
from components.azure import kubeconfig
from components.config import DnsConfig
from tools.plan import engine, mocks, stackconfig
from tools.plan.diff import diff

PROJECT_DIR = Path(__file__).resolve().parents[1]
STACKS = ("dev", "staging", "prod")

RG = "azure-native:resources:ResourceGroup"
WORKSPACE = "azure-native:operationalinsights:Workspace"
CLUSTER = "azure-native:containerservice:ManagedCluster"
AGENT_POOL = "azure-native:containerservice:AgentPool"
MAINTENANCE = "azure-native:containerservice:MaintenanceConfiguration"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
FEDERATION = "azure-native:managedidentity:FederatedIdentityCredential"
REGISTRY = "azure-native:containerregistry:Registry"
VAULT = "azure-native:keyvault:Vault"
SECRET = "azure-native:keyvault:Secret"
PUBLIC_IP = "azure-native:network:PublicIPAddress"
ZONE = "azure-native:dns:Zone"
RECORD = "azure-native:dns:RecordSet"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
PASSWORD = "random:index/randomPassword:RandomPassword"
K8S_PROVIDER = "pulumi:providers:kubernetes"

# Azure resource types whose ARM schema has no tags (checked against the SDK below).
TAGLESS = {ROLE_ASSIGNMENT, FEDERATION, MAINTENANCE, RECORD} | {
    f"azure-native:{t}"
    for t in (
        "dbforpostgresql:AdministratorsMicrosoftEntra",
        "dbforpostgresql:Configuration",
        "dbforpostgresql:Database",
        "network:PrivateDnsZoneGroup",
        "network:Subnet",
        "redisenterprise:Database",
        "storage:BlobContainer",
        "storage:BlobContainerImmutabilityPolicy",
        "storage:BlobServiceProperties",
        # Extension resources of the monitored resources: ARM gives them no tags.
        "monitor:DataCollectionRuleAssociation",
        "monitor:DiagnosticSetting",
    )
}

# Built-in role definition IDs (references.md).
KV_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
DNS_ZONE_CONTRIBUTOR = "befefa01-2a29-4197-83a8-272ff33ce314"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
POSTGRES_SERVER = "azure-native:dbforpostgresql:Server"
AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
GRAFANA_ADMIN = "22926164-76b3-42b3-bc55-97df8dab3e41"
GRAFANA_EDITOR = "a79a5197-3a5c-4973-a920-486035ffd60f"
MONITORING_DATA_READER = "b0d8363b-8ddd-447d-831f-62ca05bff136"
MONITORING_READER = "43d0d8ad-25c7-4714-9337-8ba259a9fe05"
ADMIN_GROUP = "5b7a4c1e-3f0d-4a8e-9b6c-2d1e0f3a4b5c"
OWNER = "8e3af657-a8ff-443c-a75e-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7126f08cd"
USER_ACCESS_ADMINISTRATOR = "18d7d88d-d35c-4d20-a5c3-56ed7d7d0c49"

AKS_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
AZURE_CLI_CLIENT_ID = "80faf920-1908-4b52-b5ef-a8e7bedfc67a"
TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
SUB = mocks.SUBSCRIPTION_ID
DNS_RG = "broxiva-dns-rg"
ZONE_NAME = "broxiva.com"
ZONE_ID = f"/subscriptions/{SUB}/resourceGroups/{DNS_RG}/providers/Microsoft.Network/dnsZones/{ZONE_NAME}"

# Environment matrix (environments.md) and stack files.
ENVIRONMENT = {"dev": "development", "staging": "staging", "prod": "production"}
RESOURCE_GROUP = {"dev": "broxiva-dev-rg", "staging": "broxiva-staging-rg", "prod": "broxiva-prod-rg"}
CLUSTER_NAME = {"dev": "broxiva-dev-aks", "staging": "broxiva-staging-aks", "prod": "broxiva-prod-aks"}
VAULT_NAME = {"dev": "broxiva-dev-kv", "staging": "broxiva-staging-kv", "prod": "broxiva-kv"}

KEYS = {"encryption-key", "kyc-encryption-key"}
KEY_PASSWORDS = ("secrets-encryption-key-", "secrets-kyc-encryption-key-")
GENERATED = {
    "jwt-access-secret",
    "jwt-refresh-secret",
    "session-secret",
    "encryption-key",
    "kyc-encryption-key",
    "postgres-password",
    "internal-api-key",
}
# From the services the program creates: the connection URLs, the cache key, the Application Insights connection.
COMPOSED = {"postgres-url", "redis-password", "redis-url", "appinsights-connection-string"}
WEBHOOK = {"dev": False, "staging": True, "prod": True}
PROVIDED_BY_DEFAULT = {
    "dev": {"registry-pull-token"},
    "staging": {"stripe-secret-key", "stripe-webhook-secret", "sendgrid-api-key", "registry-pull-token"},
    "prod": {"stripe-secret-key", "stripe-webhook-secret", "sendgrid-api-key"},
}


# --------------------------------------------------------------------------- helpers


@functools.cache
def _fresh_render(stack: str) -> engine.Plan:
    """A second, independent run of the program (the fixture caches its runs)."""
    return engine.run(PROJECT_DIR, stackconfig.load(PROJECT_DIR, stack))


def _azure(plan: engine.Plan) -> list[dict[str, Any]]:
    return [r for r in plan.resources if r["type"].startswith("azure-native:")]


def _azure_layer(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    prefixes = ("azure-native:", "random:", "pulumi:providers:", "broxiva:azure:")
    return [r for r in resources if r["type"].startswith(prefixes)]


def _only(plan: engine.Plan, typ: str) -> dict[str, Any]:
    found = plan.by_type(typ)
    assert len(found) == 1, f"expected exactly one {typ}, found {[r['name'] for r in found]}"
    return found[0]


def _with(plan: engine.Plan, typ: str, key: str, value: Any) -> dict[str, Any]:
    found = [r for r in plan.by_type(typ) if r["inputs"].get(key) == value]
    assert len(found) == 1, f"expected exactly one {typ} with {key}={value!r}, found {len(found)}"
    return found[0]


def _mock_state(stack: str, resource: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The ID and output state the mock engine answered for a recorded (non-secret) registration."""
    args = pulumi_mocks.MockResourceArgs(resource["type"], resource["name"], resource["inputs"], None, None, True)
    engine_mocks = mocks.PlausibleMocks(stack)
    renamed = [a["spec"]["name"] for a in resource.get("aliases") or [] if (a.get("spec") or {}).get("name")]
    if renamed:
        engine_mocks.first_names[resource["name"]] = renamed[0]
    return engine_mocks.new_resource(args)


def _digest(value: Any) -> str:
    """Digest of a secret value in the form the plan records it (secretDigests)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _role(assignment: dict[str, Any]) -> str:
    return assignment["inputs"]["roleDefinitionId"].rsplit("/", 1)[-1]


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text.lower()
    except (ValueError, TypeError, AttributeError):
        return False


def _arm(stack: str, provider_path: str) -> str:
    return f"/subscriptions/{SUB}/resourceGroups/{RESOURCE_GROUP[stack]}/providers/{provider_path}"


# --------------------------------------------------------------------------- environment


@pytest.mark.parametrize(
    ("stack", "group", "retention"),
    [("dev", "broxiva-dev-rg", 30), ("staging", "broxiva-staging-rg", 30), ("prod", "broxiva-prod-rg", 90)],
)
def test_resource_group_and_workspace(plan, stack, group, retention):
    result = plan(stack)
    rg = _with(result, RG, "resourceGroupName", group)
    assert rg["inputs"]["location"] == "eastus"
    workspace = _only(result, WORKSPACE)
    assert workspace["inputs"]["resourceGroupName"] == group
    assert workspace["inputs"]["retentionInDays"] == retention
    assert workspace["inputs"]["location"] == "eastus"
    assert rg["urn"] in workspace["dependencies"]
    assert result.outputs["resourceGroup"] == group


@pytest.mark.parametrize(
    ("stack", "environment", "cost_center"),
    [
        ("dev", "development", "broxiva-engineering"),
        ("staging", "staging", "broxiva-commerce"),
        ("prod", "production", "broxiva-commerce"),
    ],
)
def test_every_taggable_azure_resource_carries_the_tags(plan, stack, environment, cost_center):
    expected = {
        "environment": environment,
        "project": "broxiva",
        "managed-by": "pulumi",
        "costCenter": cost_center,
        "owner": "platform-team",
    }
    resources = _azure(plan(stack))
    assert resources
    for res in resources:
        if res["type"] in TAGLESS:
            continue
        assert res["inputs"].get("tags") == expected, f"{res['type']} {res['name']}"


@pytest.mark.parametrize(
    "cls",
    [
        authorization.RoleAssignment,
        managedidentity.FederatedIdentityCredential,
        containerservice.MaintenanceConfiguration,
        dns.RecordSet,
        monitor.DataCollectionRuleAssociation,
        monitor.DiagnosticSetting,
    ],
)
def test_types_exempt_from_tags_take_no_tags(cls):
    assert "tags" not in inspect.signature(cls._internal_init).parameters


# --------------------------------------------------------------------------- AKS


@pytest.mark.parametrize(
    ("stack", "name", "group", "tier"),
    [
        ("dev", "broxiva-dev-aks", "broxiva-dev-rg", "Free"),
        ("staging", "broxiva-staging-aks", "broxiva-staging-rg", "Standard"),
        ("prod", "broxiva-prod-aks", "broxiva-prod-rg", "Standard"),
    ],
)
def test_managed_cluster(plan, stack, name, group, tier):
    result = plan(stack)
    cluster = _only(result, CLUSTER)
    inputs = cluster["inputs"]
    assert inputs["resourceName"] == name
    assert inputs["resourceGroupName"] == group
    assert inputs["location"] == "eastus"
    assert inputs["sku"]["tier"] == tier
    assert inputs["disableLocalAccounts"] is True
    assert inputs["enableRBAC"] is True
    aad = inputs["aadProfile"]
    assert aad["managed"] is True
    assert aad["enableAzureRBAC"] is True
    assert aad["tenantID"] == mocks.TENANT_ID
    assert aad["adminGroupObjectIDs"] == ["5b7a4c1e-3f0d-4a8e-9b6c-2d1e0f3a4b5c"]
    assert inputs["oidcIssuerProfile"] == {"enabled": True}
    security = inputs["securityProfile"]
    assert security["workloadIdentity"] == {"enabled": True}
    assert security["imageCleaner"]["enabled"] is True
    network = inputs["networkProfile"]
    assert network["networkPlugin"] == "azure"
    assert network["networkPluginMode"] == "overlay"
    assert network["networkDataplane"] == "cilium"
    assert network["networkPolicy"] == "cilium"
    assert inputs["autoUpgradeProfile"] == {"upgradeChannel": "patch", "nodeOSUpgradeChannel": "NodeImage"}
    # The control plane runs as the user-assigned identity declared beside it.
    identity_ids = inputs["identity"]["userAssignedIdentities"]
    assert inputs["identity"]["type"] == "UserAssigned"
    assert len(identity_ids) == 1
    assert identity_ids[0] in {_mock_state(stack, i)[0] for i in result.by_type(IDENTITY)}


def test_container_insights_sends_to_the_workspace(plan, stack):
    result = plan(stack)
    cluster = _only(result, CLUSTER)
    workspace = _only(result, WORKSPACE)
    workspace_id = _mock_state(stack, workspace)[0]
    assert workspace_id.startswith(_arm(stack, "Microsoft.OperationalInsights/workspaces/"))
    omsagent = cluster["inputs"]["addonProfiles"]["omsagent"]
    assert omsagent["enabled"] is True
    assert omsagent["config"]["logAnalyticsWorkspaceResourceID"] == workspace_id
    assert workspace["urn"] in cluster["dependencies"]


@pytest.mark.parametrize(
    ("stack", "vm_size", "min_count", "max_count", "tainted", "zones"),
    [
        ("dev", "Standard_D2s_v3", 1, 2, False, None),
        ("staging", "Standard_D2s_v3", 2, 3, True, None),
        ("prod", "Standard_D4s_v3", 3, 5, True, ["1", "2", "3"]),
    ],
)
def test_system_pool(plan, stack, vm_size, min_count, max_count, tainted, zones):
    pools = _only(plan(stack), CLUSTER)["inputs"]["agentPoolProfiles"]
    assert len(pools) == 1
    system = pools[0]
    assert system["mode"] == "System"
    assert system["enableAutoScaling"] is True
    assert (system["vmSize"], system["minCount"], system["maxCount"]) == (vm_size, min_count, max_count)
    assert system.get("availabilityZones") == zones
    if tainted:
        assert system["nodeTaints"] == ["CriticalAddonsOnly=true:NoSchedule"]
    else:
        assert not system.get("nodeTaints")


@pytest.mark.parametrize(
    ("stack", "vm_size", "min_count", "max_count", "zones"),
    [
        ("dev", "Standard_D2s_v3", 2, 4, None),
        ("staging", "Standard_D4s_v3", 3, 6, None),
        ("prod", "Standard_D8s_v3", 5, 15, ["1", "2", "3"]),
    ],
)
def test_workload_pool(plan, stack, vm_size, min_count, max_count, zones):
    result = plan(stack)
    cluster = _only(result, CLUSTER)
    pool = _only(result, AGENT_POOL)
    inputs = pool["inputs"]
    assert inputs["agentPoolName"] == "workload"
    assert inputs["resourceName"] == CLUSTER_NAME[stack]
    assert inputs["resourceGroupName"] == RESOURCE_GROUP[stack]
    assert inputs["mode"] == "User"
    assert inputs["enableAutoScaling"] is True
    assert (inputs["vmSize"], inputs["minCount"], inputs["maxCount"]) == (vm_size, min_count, max_count)
    assert inputs.get("availabilityZones") == zones
    assert not inputs.get("nodeTaints")
    assert pool["parent"] == cluster["urn"]


def test_autoscaled_node_counts_are_ignored(plan, stack):
    result = plan(stack)
    assert "agentPoolProfiles[0].count" in _only(result, CLUSTER)["ignoreChanges"]
    assert "count" in _only(result, AGENT_POOL)["ignoreChanges"]


# Deployment hours: Tuesday to Thursday, 10:00-14:00 Eastern; no automatic upgrade may run then.
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEK = 7 * 24 * 60


def _utc_spans(day: str, start: str, hours: int, utc_offset: str) -> list[tuple[int, int]]:
    """A weekly window as [start, end) minute spans of the UTC week (split where it wraps)."""
    hh, mm = (int(p) for p in start.split(":"))
    sign = -1 if utc_offset.startswith("-") else 1
    off_h, off_m = (int(p) for p in utc_offset[1:].split(":"))
    local = _DAYS.index(day) * 1440 + hh * 60 + mm
    begin = (local - sign * (off_h * 60 + off_m)) % _WEEK
    end = begin + hours * 60
    return [(begin, end)] if end <= _WEEK else [(begin, _WEEK), (0, end - _WEEK)]


def _overlaps_deployment_hours(day: str, start: str, hours: int, utc_offset: str) -> bool:
    window = _utc_spans(day, start, hours, utc_offset)
    for offset in ("-05:00", "-04:00"):  # EST, and EDT for the summer months
        for busy_day in ("Tuesday", "Wednesday", "Thursday"):
            for b0, b1 in _utc_spans(busy_day, "10:00", 4, offset):
                if any(w0 < b1 and b0 < w1 for w0, w1 in window):
                    return True
    return False


@pytest.mark.parametrize(
    ("day", "start", "hours", "utc_offset", "overlaps"),
    [
        ("Tuesday", "09:00", 4, "-05:00", True),
        ("Thursday", "13:00", 4, "-05:00", True),
        ("Thursday", "14:00", 4, "-05:00", False),
        ("Wednesday", "05:00", 4, "-05:00", False),
        ("Wednesday", "06:00", 4, "-05:00", True),  # 07:00-11:00 in summer (EDT)
        ("Monday", "23:00", 12, "-05:00", True),
        ("Tuesday", "15:00", 4, "+00:00", True),
        ("Friday", "10:00", 4, "-05:00", False),
        ("Saturday", "22:00", 4, "-05:00", False),
        ("Sunday", "22:00", 12, "-05:00", False),
    ],
)
def test_overlap_check_itself(day, start, hours, utc_offset, overlaps):
    assert _overlaps_deployment_hours(day, start, hours, utc_offset) is overlaps


def _windows(result: engine.Plan) -> dict[str, dict[str, Any]]:
    return {m["inputs"]["configName"]: m for m in result.by_type(MAINTENANCE)}


def _window_overlaps(window: dict[str, Any]) -> bool:
    return _overlaps_deployment_hours(
        window["schedule"]["weekly"]["dayOfWeek"], window["startTime"], window["durationHours"], window["utcOffset"]
    )


def test_maintenance_windows_avoid_deployment_hours(plan, stack):
    result = plan(stack)
    cluster = _only(result, CLUSTER)
    windows = _windows(result)
    assert set(windows) == {"aksManagedAutoUpgradeSchedule", "aksManagedNodeOSUpgradeSchedule"}
    for config in windows.values():
        assert config["inputs"]["resourceName"] == CLUSTER_NAME[stack]
        assert config["inputs"]["resourceGroupName"] == RESOURCE_GROUP[stack]
        assert config["parent"] == cluster["urn"]
        window = config["inputs"]["maintenanceWindow"]
        assert window["durationHours"] >= 4
        assert window["schedule"]["weekly"]["intervalWeeks"] == 1
        assert not _window_overlaps(window), window


def test_a_window_in_deployment_hours_is_detected(plan):
    result = plan(
        "dev", {"cluster.maintenanceWindow.dayOfWeek": "Wednesday", "cluster.maintenanceWindow.startTime": "09:30"}
    )
    windows = _windows(result)
    assert len(windows) == 2
    assert all(_window_overlaps(c["inputs"]["maintenanceWindow"]) for c in windows.values())


# --------------------------------------------------------------------------- protection


PROTECTED_IN_PROD = [
    (VAULT, "vaultName", "broxiva-kv"),
    (CLUSTER, "resourceName", "broxiva-prod-aks"),
    (REGISTRY, "registryName", "broxivaprodacr"),
    (WORKSPACE, "resourceGroupName", "broxiva-prod-rg"),
    # The metrics' history and the traces' ingestion key (in every pod).
    ("azure-native:monitor:AzureMonitorWorkspace", "azureMonitorWorkspaceName", "broxiva-prod-aks-metrics"),
    ("azure-native:applicationinsights:Component", "resourceName", "broxiva-prod-insights"),
    (PUBLIC_IP, "resourceGroupName", "broxiva-prod-rg"),
    (RG, "resourceGroupName", "broxiva-prod-rg"),
]


@pytest.mark.parametrize(("typ", "key", "value"), PROTECTED_IN_PROD)
def test_prod_protects_stateful_resources(plan, typ, key, value):
    assert _with(plan("prod"), typ, key, value)["protect"] is True


@pytest.mark.parametrize(("typ", "key", "value"), PROTECTED_IN_PROD)
def test_protect_false_unprotects_prod(plan, typ, key, value):
    assert _with(plan("prod", {"protect": "false"}), typ, key, value)["protect"] is False


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_nothing_protected_outside_prod(plan, stack):
    protected = [r["name"] for r in _azure_layer(plan(stack).resources) if r["protect"]]
    assert protected == []


def test_protect_false_on_prod_changes_only_protection(plan):
    result = plan("prod", {"protect": "false"})
    assert [r["name"] for r in _azure_layer(result.resources) if r["protect"]] == []
    changes = diff(plan("prod"), result)
    assert not _azure_layer(changes.added)
    assert not _azure_layer(changes.removed)
    for change in changes.changed:
        if change.type.startswith(("azure-native:", "random:", "pulumi:providers:")):
            assert [p for p, _, _ in change.paths] == ["<protect>"], change.to_dict()


# --------------------------------------------------------------------------- registry


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_no_registry_outside_prod(plan, stack):
    result = plan(stack)
    assert result.by_type(REGISTRY) == []
    assert [r for r in result.by_type(ROLE_ASSIGNMENT) if _role(r) == ACR_PULL] == []


def test_prod_registry(plan):
    registry = _only(plan("prod"), REGISTRY)["inputs"]
    assert registry["registryName"] == "broxivaprodacr"
    assert registry["resourceGroupName"] == "broxiva-prod-rg"
    assert registry["adminUserEnabled"] is False
    assert registry["anonymousPullEnabled"] is False


def _acr_pull(result: engine.Plan) -> dict[str, Any]:
    found = [r for r in result.by_type(ROLE_ASSIGNMENT) if _role(r) == ACR_PULL]
    assert len(found) == 1
    return found[0]


def test_kubelet_identity_pulls_from_the_registry(plan):
    result = plan("prod")
    pull = _acr_pull(result)["inputs"]
    kubelet = _mock_state("prod", _only(result, CLUSTER))[1]["identityProfile"]["kubeletidentity"]
    assert _is_uuid(pull["principalId"])
    assert pull["principalId"] == kubelet["objectId"]
    assert pull["principalId"] == _acr_pull(_fresh_render("prod"))["inputs"]["principalId"]
    control_plane = {_mock_state("prod", i)[1]["principalId"] for i in result.by_type(IDENTITY)}
    assert pull["principalId"] not in control_plane | {mocks.DEPLOYER_OBJECT_ID}
    assert pull["scope"].endswith("/registries/broxivaprodacr")
    assert pull["principalType"] == "ServicePrincipal"


# --------------------------------------------------------------------------- role assignments


def _identity_principals(stack: str, result: engine.Plan) -> dict[str, str]:
    """Principal ID of the identity behind: the cluster control plane, and each federated subject."""
    by_id = {}
    by_name = {}
    for identity in result.by_type(IDENTITY):
        rid, state = _mock_state(stack, identity)
        by_id[rid] = state["principalId"]
        by_name[state["name"]] = state["principalId"]
    out = {"control-plane": by_id[_only(result, CLUSTER)["inputs"]["identity"]["userAssignedIdentities"][0]]}
    for cred in result.by_type(FEDERATION):
        out[cred["inputs"]["subject"]] = by_name[cred["inputs"]["resourceName"]]
    return out


@pytest.mark.parametrize(("stack", "namespace"), [(s, f"broxiva-{ENVIRONMENT[s]}") for s in STACKS])
def test_role_assignments_are_exact_and_narrow(plan, stack, namespace):
    result = plan(stack)
    principals = _identity_principals(stack, result)
    ip_id = _mock_state(stack, _only(result, PUBLIC_IP))[0]
    assert ip_id.startswith(_arm(stack, "Microsoft.Network/publicIPAddresses/"))
    vault_id = _arm(stack, f"Microsoft.KeyVault/vaults/{VAULT_NAME[stack]}")
    cluster_id = _arm(stack, f"Microsoft.ContainerService/managedClusters/{CLUSTER_NAME[stack]}")
    expected = {
        (KV_SECRETS_USER, vault_id, principals[f"system:serviceaccount:{namespace}:keyvault-reader"]),
        # The cloud provider lists public IPs per resource group: the role is on the IP's group.
        (NETWORK_CONTRIBUTOR, ip_id.split("/providers/")[0], principals["control-plane"]),
        (AKS_RBAC_CLUSTER_ADMIN, cluster_id, mocks.DEPLOYER_OBJECT_ID),
        # Bring-your-own VNet: the control plane joins nodes to the node subnet, and nothing wider.
        (
            NETWORK_CONTRIBUTOR,
            _arm(stack, f"Microsoft.Network/virtualNetworks/broxiva-{stack}-vnet/subnets/nodes"),
            principals["control-plane"],
        ),
    }
    if stack == "prod":
        kubelet = _mock_state(stack, _only(result, CLUSTER))[1]["identityProfile"]["kubeletidentity"]["objectId"]
        registry_id = _arm(stack, "Microsoft.ContainerRegistry/registries/broxivaprodacr")
        expected.add((ACR_PULL, registry_id, kubelet))
    # cert-manager: DNS Zone Contributor on each of this stack's _acme-challenge record sets, never the zone
    # (tests/test_dns_isolation.py holds the details).
    for challenge in (r for r in result.by_type(RECORD) if r["inputs"]["relativeRecordSetName"].startswith("_acme")):
        challenge_id = f"{ZONE_ID}/TXT/{challenge['inputs']['relativeRecordSetName']}"
        expected.add(
            (DNS_ZONE_CONTRIBUTOR, challenge_id, principals["system:serviceaccount:cert-manager:cert-manager"])
        )
    groups: set[str] = set()
    if stack != "dev":
        # Grafana: its identity reads the metrics workspace and the group's platform metrics; the cluster admin
        # group administers it; the deployer edits (writes the dashboards).
        grafana_id, grafana = _mock_state(stack, _only(result, "azure-native:dashboard:Grafana"))
        workspace_id = _mock_state(stack, _only(result, "azure-native:monitor:AzureMonitorWorkspace"))[0]
        identity = grafana["identity"]["principalId"]
        groups = {ADMIN_GROUP}
        expected |= {
            (MONITORING_DATA_READER, workspace_id, identity),
            (MONITORING_READER, f"/subscriptions/{SUB}/resourceGroups/{RESOURCE_GROUP[stack]}", identity),
            (GRAFANA_ADMIN, grafana_id, ADMIN_GROUP),
            (GRAFANA_EDITOR, grafana_id, mocks.DEPLOYER_OBJECT_ID),
        }
    assignments = result.by_type(ROLE_ASSIGNMENT)
    actual = [(_role(r), r["inputs"]["scope"], r["inputs"]["principalId"]) for r in assignments]
    assert sorted(actual) == sorted(expected)
    for assignment in assignments:
        inputs = assignment["inputs"]
        assert inputs["roleDefinitionId"] == (
            f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{_role(assignment)}"
        )
        # Managed identities are service principals. The deployer's type is its configured one; unset, the
        # SDK's default (User) reaches Azure, which fits a person running the README.
        deployer = inputs["principalId"] == mocks.DEPLOYER_OBJECT_ID
        group = inputs["principalId"] in groups
        assert inputs["principalType"] == ("User" if deployer else "Group" if group else "ServicePrincipal"), (
            assignment["name"]
        )


@pytest.mark.parametrize("principal_type", ["Group", "ServicePrincipal"])
def test_a_configured_deployer_type_is_sent(plan, principal_type):
    person = "3f2b6c1d-0a4e-4b7f-9c8d-1e2f3a4b5c6d"
    result = plan("dev", {"deployer.objectId": person, "deployer.principalType": principal_type})
    mine = [r["inputs"] for r in result.by_type(ROLE_ASSIGNMENT) if r["inputs"]["principalId"] == person]
    assert len(mine) == 1  # cluster admin (the vault takes no deployer role: secrets go through ARM)
    assert {i["principalType"] for i in mine} == {principal_type}


def test_no_broad_role_anywhere(plan, stack):
    text = json.dumps(plan(stack).to_dict()).lower()
    for role in (OWNER, CONTRIBUTOR, USER_ACCESS_ADMINISTRATOR):
        assert role not in text


def test_role_assignment_names_are_deterministic_and_unique(plan, stack):
    first = {r["urn"]: r["inputs"]["roleAssignmentName"] for r in plan(stack).by_type(ROLE_ASSIGNMENT)}
    second = {r["urn"]: r["inputs"]["roleAssignmentName"] for r in _fresh_render(stack).by_type(ROLE_ASSIGNMENT)}
    assert first == second
    assert all(_is_uuid(name) for name in first.values())
    assert len(set(first.values())) == len(first)


def test_role_assignment_names_are_unique_across_stacks(plan):
    names = [r["inputs"]["roleAssignmentName"] for s in STACKS for r in plan(s).by_type(ROLE_ASSIGNMENT)]
    assert len(names) == len(set(names))


# --------------------------------------------------------------------------- workload identity


@pytest.mark.parametrize(
    ("stack", "eso_subject"),
    [
        ("dev", "system:serviceaccount:broxiva-development:keyvault-reader"),
        ("staging", "system:serviceaccount:broxiva-staging:keyvault-reader"),
        ("prod", "system:serviceaccount:broxiva-production:keyvault-reader"),
    ],
)
def test_federated_identity_credentials(plan, stack, eso_subject):
    result = plan(stack)
    creds = {c["inputs"]["subject"]: c for c in result.by_type(FEDERATION)}
    assert set(creds) == {eso_subject, "system:serviceaccount:cert-manager:cert-manager"}
    issuer = result.outputs["oidcIssuerUrl"]
    assert issuer.startswith("https://")
    assert issuer == _mock_state(stack, _only(result, CLUSTER))[1]["oidcIssuerProfile"]["issuerURL"]
    identities = {i["urn"]: _mock_state(stack, i)[1]["name"] for i in result.by_type(IDENTITY)}
    for cred in creds.values():
        inputs = cred["inputs"]
        assert inputs["audiences"] == [TOKEN_EXCHANGE_AUDIENCE]
        assert inputs["issuer"] == issuer
        assert inputs["resourceGroupName"] == RESOURCE_GROUP[stack]
        # Federated onto the identity it is declared under.
        assert inputs["resourceName"] == identities[cred["parent"]]
    assert (
        creds[eso_subject]["inputs"]["resourceName"]
        != creds["system:serviceaccount:cert-manager:cert-manager"]["inputs"]["resourceName"]
    )


# --------------------------------------------------------------------------- key vault


@pytest.mark.parametrize(
    ("stack", "name", "purge_protection", "retention"),
    [
        ("dev", "broxiva-dev-kv", False, 7),
        ("staging", "broxiva-staging-kv", True, 30),
        ("prod", "broxiva-kv", True, 90),
    ],
)
def test_key_vault(plan, stack, name, purge_protection, retention):
    result = plan(stack)
    vault = _only(result, VAULT)["inputs"]
    assert vault["vaultName"] == name
    assert vault["resourceGroupName"] == RESOURCE_GROUP[stack]
    props = vault["properties"]
    assert props["enableRbacAuthorization"] is True
    assert props["enableSoftDelete"] is True
    assert props["softDeleteRetentionInDays"] == retention
    assert props["tenantId"] == mocks.TENANT_ID
    assert "accessPolicies" not in props
    if purge_protection:
        assert props["enablePurgeProtection"] is True
    else:
        assert "enablePurgeProtection" not in props
    assert result.outputs["keyVaultUri"] == f"https://{name}.vault.azure.net/"


def _expected_secrets(stack: str) -> set[str]:
    return GENERATED | COMPOSED | ({"webhook-secret"} if WEBHOOK[stack] else set()) | PROVIDED_BY_DEFAULT[stack]


def test_key_vault_secret_names(plan, stack):
    result = plan(stack)
    names = [s["inputs"]["secretName"] for s in result.by_type(SECRET)]
    assert len(names) == len(set(names))
    assert set(names) == _expected_secrets(stack)
    assert len(result.by_type(PASSWORD)) == len(GENERATED) + WEBHOOK[stack]


def test_key_vault_secret_values_are_secret(plan, stack):
    result = plan(stack)
    vault = _only(result, VAULT)
    for secret in result.by_type(SECRET):
        assert secret["inputs"]["properties"] == "[secret]"
        assert set(secret["secretDigests"]) == {"properties"}
        assert secret["inputs"]["vaultName"] == VAULT_NAME[stack]
        assert secret["inputs"]["resourceGroupName"] == RESOURCE_GROUP[stack]
        assert vault["urn"] in secret["dependencies"]


MARKER = "sk-test-UNIQUE-MARKER-123"


def test_no_secret_value_in_the_rendered_plan(plan, stack):
    result = plan(stack, secret_sets={"providedSecrets.openaiApiKey": MARKER})
    secrets = {s["inputs"]["secretName"]: s for s in result.by_type(SECRET)}
    assert set(secrets) == _expected_secrets(stack) | {"openai-api-key"}
    # The marker did reach the vault...
    assert secrets["openai-api-key"]["secretDigests"]["properties"] == _digest(
        {"value": MARKER, "contentType": "text/plain"}
    )
    # ...and so did every generated value the mock engine produced.
    passwords = [_mock_state(stack, p)[1]["result"] for p in result.by_type(PASSWORD)]
    stored = {s["secretDigests"]["properties"] for s in secrets.values()}
    # Generated values expire secrets.expiryDays (120) after the rotation stamp (2026-11): 2027-03-01 UTC.
    # (A number on the wire is a double.)
    expires = {"expires": float(datetime.datetime(2027, 3, 1, tzinfo=datetime.UTC).timestamp())}
    for password in passwords:
        assert _digest({"value": password, "contentType": "text/plain", "attributes": expires}) in stored
    text = json.dumps(result.to_dict())
    assert MARKER not in text
    assert stackconfig.PLACEHOLDER_PREFIX not in text
    for password in passwords:
        assert password not in text


def test_rotation_regenerates_generated_secrets_and_updates_the_server_in_place(plan, stack):
    """One rotation, one `up`: new values, the vault and the PostgreSQL server agree, nothing is replaced."""
    base = plan(stack)
    head = plan(stack, {"secrets.rotation": "2027-02"})
    changes = diff(base, head)
    assert not _azure_layer(changes.added)
    assert not _azure_layer(changes.removed)
    assert changes.outputs == []
    # The encryption keys keep their values (their versions, not the stamp, make them).
    regenerated = GENERATED - KEYS | ({"webhook-secret"} if WEBHOOK[stack] else set())
    # postgres-url carries the new password; the cache's key and URL are Azure's and stay.
    rewritten = regenerated | {"postgres-url"}
    server = _only(head, POSTGRES_SERVER)
    passwords = {p["urn"] for p in head.by_type(PASSWORD) if not p["name"].startswith(KEY_PASSWORDS)}
    expected = passwords | {server["urn"]}
    expected |= {s["urn"] for s in head.by_type(SECRET) if s["inputs"]["secretName"] in rewritten}
    assert len(expected) == len(regenerated) + len(rewritten) + 1
    changed = {c.urn: c for c in changes.changed if c.type.startswith(("azure-native:", "random:", "pulumi:"))}
    assert set(changed) == expected
    for change in changed.values():
        if change.type == PASSWORD:
            assert change.paths == [("keepers.rotation", "2026-11", "2027-02")]
        elif change.type == POSTGRES_SERVER:
            # The administrator password, an update (the SDK: "can be changed at any time").
            assert [p for p, _, _ in change.paths] == ["administratorLoginPassword"]
        else:
            assert [p for p, _, _ in change.paths] == ["properties"]
    password = head.one(PASSWORD, "secrets-postgres-password")
    assert password["urn"] in server["dependencies"]


def test_rotating_an_encryption_key_keeps_the_previous_one_readable(plan):
    """A new version of encryption-key: a new value under the key's name, the old value (the same resource,
    untouched) as encryption-key-previous / ENCRYPTION_KEY_PREVIOUS; the other keys and secrets stay."""
    stack = "prod"
    base = plan(stack)
    rotated = plan(stack, {"secrets.encryptionKeys.encryption-key": '{current: "2027-05", previous: "2026-11"}'})
    changes = diff(base, rotated)
    old = base.one(PASSWORD, "secrets-encryption-key-2026-11")
    assert rotated.one(PASSWORD, "secrets-encryption-key-2026-11")["inputs"] == old["inputs"]
    assert {r["name"] for r in changes.added if r["type"] in (PASSWORD, SECRET)} == {
        "secrets-encryption-key-2027-05",
        "secrets-encryption-key-previous",
    }
    assert not [r for r in changes.removed if r["type"] in (PASSWORD, SECRET)]
    assert {c.name for c in changes.changed if c.type in (PASSWORD, SECRET)} == {"secrets-encryption-key"}
    values = {p["name"]: _mock_state(stack, p)[1]["result"] for p in rotated.by_type(PASSWORD)}
    stored = {s["inputs"]["secretName"]: s["secretDigests"]["properties"] for s in rotated.by_type(SECRET)}

    def holds(secret: str, password: str) -> bool:
        return any(
            stored[secret] == _digest({"value": values[password], "contentType": "text/plain", **extra})
            for extra in ({"attributes": {"expires": e}} for e in _expiries())
        )

    assert holds("encryption-key-previous", "secrets-encryption-key-2026-11")
    assert holds("encryption-key", "secrets-encryption-key-2027-05")
    assert values["secrets-encryption-key-2026-11"] != values["secrets-encryption-key-2027-05"]
    env = {d["secretKey"]: d["remoteRef"]["key"] for d in _external_secret_data(rotated)}
    assert env["ENCRYPTION_KEY_PREVIOUS"] == "encryption-key-previous" and env["ENCRYPTION_KEY"] == "encryption-key"
    # Dropping the previous version once the data is re-encrypted deletes it, nothing else.
    dropped = diff(rotated, plan(stack, {"secrets.encryptionKeys.encryption-key": '{current: "2027-05"}'}))
    assert {r["name"] for r in dropped.removed if r["type"] in (PASSWORD, SECRET)} == {
        "secrets-encryption-key-2026-11",
        "secrets-encryption-key-previous",
    }


def _expiries() -> list[float]:
    # Both versions of a key expire 120 days after its current version (2027-05): 2027-08-29 UTC.
    return [float(datetime.datetime(2027, 8, 29, tzinfo=datetime.UTC).timestamp())]


def _external_secret_data(result: engine.Plan) -> list[dict[str, Any]]:
    (es,) = [r for r in result.resources if r["name"] == "external-secrets-all"]
    return es["inputs"]["spec"]["data"]


@pytest.mark.parametrize(
    ("stack", "key"),
    [
        ("dev", "providedSecrets.registryPullToken"),
        ("staging", "providedSecrets.stripeSecretKey"),
        ("prod", "providedSecrets.stripeSecretKey"),
    ],
)
def test_missing_required_provided_secret_fails_clearly(plan, stack, key):
    with pytest.raises(engine.ProgramConfigError) as err:
        plan(stack, fill_secrets=False)
    assert key in str(err.value)
    assert "required" in str(err.value)


# --------------------------------------------------------------------------- DNS


DNS_TABLE = {
    "dev": {("dev", "A", 300), ("api-dev", "A", 300), ("admin-dev", "A", 300), ("*.dev", "A", 300)},
    "staging": {
        ("staging", "A", 300),
        ("api-staging", "A", 300),
        ("admin-staging", "A", 300),
        ("*.staging", "A", 300),
    },
    "prod": {
        ("@", "A", 300),
        ("www", "A", 300),
        ("api", "A", 300),
        ("admin", "A", 300),
        ("cdn", "CNAME", 3600),
        ("@", "TXT", 3600),
    },
}


@pytest.mark.parametrize(("stack", "records"), list(DNS_TABLE.items()))
def test_dns_records_match_the_matrix(plan, stack, records):
    result = plan(stack)
    found = result.by_type(RECORD)
    keys = [(r["inputs"]["relativeRecordSetName"], r["inputs"]["recordType"]) for r in found]
    assert len(keys) == len(set(keys))
    table = {
        (r["inputs"]["relativeRecordSetName"], r["inputs"]["recordType"], r["inputs"]["ttl"])
        for r in found
        # CAA: test_prod_dns_extras; the _acme-challenge sets: tests/test_dns_isolation.py.
        if r["inputs"]["recordType"] != "CAA" and not r["inputs"]["relativeRecordSetName"].startswith("_acme-challenge")
    }
    assert table == records
    gateway_ip = result.outputs["gatewayIp"]
    ipaddress.IPv4Address(gateway_ip)
    for record in found:
        assert record["inputs"]["zoneName"] == ZONE_NAME
        assert record["inputs"]["resourceGroupName"] == DNS_RG
        if record["inputs"]["recordType"] == "A":
            assert record["inputs"]["aRecords"] == [{"ipv4Address": gateway_ip}]


def test_prod_dns_extras(plan):
    records = {
        (r["inputs"]["relativeRecordSetName"], r["inputs"]["recordType"]): r for r in plan("prod").by_type(RECORD)
    }
    assert records[("cdn", "CNAME")]["inputs"]["cnameRecord"] == {"cname": "cloudfront-dist.amazonaws.com"}
    assert records[("cdn", "CNAME")]["inputs"]["ttl"] == 3600
    assert records[("@", "TXT")]["inputs"]["txtRecords"] == [{"value": ["v=spf1 include:sendgrid.net"]}]
    assert records[("@", "TXT")]["inputs"]["ttl"] == 3600
    caa = records[("@", "CAA")]["inputs"]["caaRecords"]
    # Let's Encrypt for the Gateway (wildcard included), Amazon for the CDN's certificate of cdn, no one else.
    assert caa == [
        {"flags": 0, "tag": "issue", "value": "letsencrypt.org"},
        {"flags": 0, "tag": "issue", "value": "amazon.com"},
        {"flags": 0, "tag": "issuewild", "value": "letsencrypt.org"},
    ]


@pytest.mark.parametrize(
    ("issuers", "wildcard", "records"),
    [
        ((), None, []),
        (("letsencrypt.org",), None, [("issue", "letsencrypt.org"), ("issuewild", "letsencrypt.org")]),
        (("a.org", "b.com"), ("a.org",), [("issue", "a.org"), ("issue", "b.com"), ("issuewild", "a.org")]),
        # No wildcard at all: an empty issuer, not a missing property (which would let issue govern wildcards).
        (("a.org",), (), [("issue", "a.org"), ("issuewild", ";")]),
    ],
)
def test_caa_records(issuers, wildcard, records):
    cfg = DnsConfig(
        bootstrap_stack="o/p/s",
        zone_name="broxiva.com",
        records=({"type": "A", "name": "@", "ttl": 300},),
        caa_issuers=issuers,
        caa_wildcard_issuers=wildcard,
    )
    assert dns_component.caa_records(cfg) == records


def test_no_stack_owns_the_zone(plan, stack):
    """The zone and its group are the bootstrap's (bootstrap/, docs/dns.md); prod's former record sets keep their
    URNs through an alias to the zone they were parented on."""
    result = plan(stack)
    assert result.by_type(ZONE) == []
    assert [g for g in result.by_type(RG) if g["inputs"]["resourceGroupName"] == DNS_RG] == []
    for record in result.by_type(RECORD):
        assert record["inputs"]["zoneName"] == ZONE_NAME
        assert record["inputs"]["resourceGroupName"] == DNS_RG
    if stack == "prod":
        for record in result.by_type(RECORD):
            if record["inputs"]["relativeRecordSetName"].startswith("_acme"):
                continue
            parents = [a["spec"].get("parentUrn", "") for a in record["aliases"]]
            assert any(p.endswith("broxiva:azure:DnsRecords$azure-native:dns:Zone::dns-zone") for p in parents), record


@pytest.mark.parametrize("stack", ["dev", "staging"])
def test_only_the_apex_owner_writes_caa(plan, stack):
    result = plan(stack)
    assert [r for r in result.by_type(RECORD) if r["inputs"]["recordType"] == "CAA"] == []
    assert result.by_type(RECORD)


@pytest.mark.parametrize(("stack", "zones"), [("dev", None), ("staging", None), ("prod", ["1", "2", "3"])])
def test_gateway_public_ip(plan, stack, zones):
    result = plan(stack)
    ip = _only(result, PUBLIC_IP)
    inputs = ip["inputs"]
    assert inputs["sku"]["name"] == "Standard"
    assert inputs["publicIPAllocationMethod"] == "Static"
    assert inputs["resourceGroupName"] == RESOURCE_GROUP[stack]
    assert inputs.get("zones") == zones
    assert result.outputs["gatewayIp"] == _mock_state(stack, ip)[1]["ipAddress"]


# --------------------------------------------------------------------------- invokes, provider, kubeconfig


def test_invokes_are_few(plan, stack):
    result = plan(stack)
    assert Counter(i["token"] for i in result.invokes) == {
        "azure-native:authorization:getClientConfig": 1,
        "azure-native:containerservice:listManagedClusterUserCredentials": 1,
        # The cache's access key, read from Azure on every run (never generated).
        "azure-native:redisenterprise:listDatabaseKeys": 1,
        # Grafana's API token (the dashboards; staging and prod), the Slack relay's trigger URL (prod).
        **({"azure-native:authorization:getClientToken": 1} if stack != "dev" else {}),
        **({"azure-native:logic:listWorkflowTriggerCallbackUrl": 1} if stack == "prod" else {}),
    }
    creds = next(i for i in result.invokes if i["token"].endswith("listManagedClusterUserCredentials"))
    assert creds["args"]["resourceName"] == CLUSTER_NAME[stack]
    assert creds["args"]["resourceGroupName"] == RESOURCE_GROUP[stack]


def test_kubernetes_provider(plan, stack):
    result = plan(stack)
    provider = _only(result, K8S_PROVIDER)
    assert result.urn_of(provider["parent"])["type"] == "broxiva:azure:AksCluster"
    assert provider["inputs"]["kubeconfig"] == "[secret]"
    admins = [r for r in result.by_type(ROLE_ASSIGNMENT) if _role(r) == AKS_RBAC_CLUSTER_ADMIN]
    assert len(admins) == 1
    assert admins[0]["urn"] in provider["dependencies"]
    assert result.outputs["kubeconfig"] == "[secret]"
    # The provider gets this cluster's credentials, switched to the stack's login mode (azurecli).
    doc = yaml.safe_load(mocks.fake_kubeconfig(CLUSTER_NAME[stack], RESOURCE_GROUP[stack]))
    doc["users"][0]["user"]["exec"]["args"] = [
        *("get-token", "--login", "azurecli", "--server-id", AKS_SERVER_ID),
        *("--environment", "AzurePublicCloud", "--tenant-id", mocks.TENANT_ID),
    ]
    assert provider["secretDigests"]["kubeconfig"] == _digest(yaml.safe_dump(doc, sort_keys=False))


def _exec_args(text: str) -> list[list[str]]:
    return [u["user"]["exec"]["args"] for u in yaml.safe_load(text)["users"] if "exec" in u["user"]]


def _flags(args: list[str]) -> dict[str, str]:
    assert args[0] == "get-token"
    pairs = args[1:]
    assert len(pairs) % 2 == 0
    flags = dict(zip(pairs[::2], pairs[1::2], strict=True))
    assert len(flags) == len(pairs) // 2, f"repeated flag in {args}"
    return flags


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (
            "azurecli",
            {"--login": "azurecli", "--environment": "AzurePublicCloud", "--tenant-id": mocks.TENANT_ID},
        ),
        ("workloadidentity", {"--login": "workloadidentity", "--environment": "AzurePublicCloud"}),
        ("msi", {"--login": "msi", "--environment": "AzurePublicCloud"}),
        (
            "devicecode",
            {
                "--login": "devicecode",
                "--environment": "AzurePublicCloud",
                "--tenant-id": mocks.TENANT_ID,
                "--client-id": AZURE_CLI_CLIENT_ID,
            },
        ),
    ],
)
def test_with_login_mode(mode, expected):
    original = mocks.fake_kubeconfig("broxiva-dev-aks", "broxiva-dev-rg")
    rewritten = kubeconfig.with_login_mode(original, mode)
    [args] = _exec_args(rewritten)
    assert _flags(args) == {**expected, "--server-id": AKS_SERVER_ID}
    before, after = yaml.safe_load(original), yaml.safe_load(rewritten)
    for key in ("clusters", "contexts", "current-context"):
        assert after[key] == before[key]
    assert kubeconfig.with_login_mode(rewritten, mode) == rewritten


@pytest.mark.parametrize("mode", ["azurecli", "workloadidentity"])
def test_with_login_mode_keeps_the_login_method_overridable_by_the_environment(mode):
    """CI keeps the stacks' azurecli kubeconfig and sets AAD_LOGIN_METHOD=workloadidentity: kubelogin applies
    it over --login unless --disable-environment-override is given, and client-go lets an exec `env` entry
    override the process environment. Neither survives the rewrite."""
    doc = yaml.safe_load(mocks.fake_kubeconfig("broxiva-dev-aks", "broxiva-dev-rg"))
    exec_ = doc["users"][0]["user"]["exec"]
    exec_["args"] += ["--disable-environment-override"]
    exec_["env"] = [{"name": "AAD_LOGIN_METHOD", "value": "azurecli"}, {"name": "KEEP", "value": "1"}]
    rewritten = yaml.safe_load(kubeconfig.with_login_mode(yaml.safe_dump(doc), mode))
    after = rewritten["users"][0]["user"]["exec"]
    assert "--disable-environment-override" not in after["args"]
    assert after["env"] == [{"name": "KEEP", "value": "1"}]
    exec_["env"] = [{"name": "AAD_LOGIN_METHOD", "value": "azurecli"}]
    rewritten = yaml.safe_load(kubeconfig.with_login_mode(yaml.safe_dump(doc), mode))
    assert rewritten["users"][0]["user"]["exec"]["env"] is None


def test_with_login_mode_keeps_a_custom_server_id():
    custom = "11111111-2222-4333-8444-555555555555"
    original = mocks.fake_kubeconfig("broxiva-dev-aks", "broxiva-dev-rg").replace(AKS_SERVER_ID, custom)
    for mode in ("azurecli", "workloadidentity"):
        [args] = _exec_args(kubeconfig.with_login_mode(original, mode))
        assert _flags(args)["--server-id"] == custom


def test_with_login_mode_leaves_other_users_alone():
    doc = yaml.safe_load(mocks.fake_kubeconfig("broxiva-dev-aks", "broxiva-dev-rg"))
    doc["users"].append({"name": "token-user", "user": {"token": "abc"}})
    doc["users"].append({"name": "other-exec", "user": {"exec": {"command": "aws", "args": ["eks", "get-token"]}}})
    after = yaml.safe_load(kubeconfig.with_login_mode(yaml.safe_dump(doc), "azurecli"))
    assert after["users"][1:] == doc["users"][1:]


def test_with_login_mode_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="kubelogin"):
        kubeconfig.with_login_mode(mocks.fake_kubeconfig("c", "g"), "interactive")


# --------------------------------------------------------------------------- outputs and structure


@pytest.mark.parametrize(
    ("stack", "urls"),
    [
        (
            "dev",
            {
                "web": "https://dev.broxiva.com",
                "api": "https://api-dev.broxiva.com",
                "admin": "https://admin-dev.broxiva.com",
            },
        ),
        (
            "staging",
            {
                "web": "https://staging.broxiva.com",
                "api": "https://api-staging.broxiva.com",
                "admin": "https://admin-staging.broxiva.com",
            },
        ),
        (
            "prod",
            {"web": "https://broxiva.com", "api": "https://api.broxiva.com", "admin": "https://admin.broxiva.com"},
        ),
    ],
)
def test_stack_outputs(plan, stack, urls):
    outputs = plan(stack).outputs
    assert outputs["resourceGroup"] == RESOURCE_GROUP[stack]
    assert outputs["clusterName"] == CLUSTER_NAME[stack]
    assert re.fullmatch(r"https://\S+/", outputs["oidcIssuerUrl"])
    assert outputs["kubeconfig"] == "[secret]"
    ipaddress.IPv4Address(outputs["gatewayIp"])
    assert outputs["keyVaultUri"] == f"https://{VAULT_NAME[stack]}.vault.azure.net/"
    assert outputs["urls"] == urls


def test_every_azure_resource_sits_under_a_component(plan, stack):
    result = plan(stack)
    by_urn = {r["urn"]: r for r in result.resources}
    for res in _azure_layer(result.resources):
        if not res["custom"]:
            continue
        parent = by_urn.get(res["parent"] or "")
        assert parent is not None, f"{res['type']} {res['name']} has no declared parent"
        while parent["custom"]:
            parent = by_urn[parent["parent"]]
        assert parent["type"].startswith("broxiva:"), f"{res['type']} {res['name']}"


def test_component_type_tokens(plan, stack):
    components = [r for r in plan(stack).resources if not r["custom"]]
    assert components
    for component in components:
        assert re.fullmatch(r"broxiva:[a-z0-9]+:[A-Z][A-Za-z]+", component["type"]), component["type"]


PROTECTED_IN_PROD = {
    ("azure-native:resources:ResourceGroup", "broxiva-prod-rg"),
    ("azure-native:operationalinsights:Workspace", None),
    ("azure-native:network:PublicIPAddress", "broxiva-prod-aks-gateway-ip"),
    ("azure-native:containerservice:ManagedCluster", "broxiva-prod-aks"),
    ("azure-native:containerregistry:Registry", "broxivaprodacr"),
    ("azure-native:keyvault:Vault", "broxiva-kv"),
    ("azure-native:network:VirtualNetwork", "broxiva-prod-vnet"),
    ("azure-native:dbforpostgresql:Server", "broxiva-prod-pg"),
    ("azure-native:dbforpostgresql:Database", "broxiva"),
    ("azure-native:redisenterprise:RedisEnterprise", "broxiva-prod-redis"),
    ("azure-native:redisenterprise:Database", "default"),
    ("azure-native:storage:StorageAccount", "broxivaprodbackups"),
    ("azure-native:storage:BlobContainer", "database-backups"),
    ("azure-native:monitor:AzureMonitorWorkspace", "broxiva-prod-aks-metrics"),
    ("azure-native:applicationinsights:Component", "broxiva-prod-insights"),
}
_PHYSICAL = (
    "azureMonitorWorkspaceName",
    "publicIpAddressName",
    "registryName",
    "vaultName",
    "zoneName",
    "resourceName",
    "virtualNetworkName",
    "databaseName",
    "containerName",
    "serverName",
    "clusterName",
    "accountName",
    "resourceGroupName",
)


def test_exactly_the_stateful_resources_are_protected_in_prod(plan):
    """Children inherit protect from their parent in the SDK; records, secrets and pools must stay removable."""
    protected = set()
    for res in plan("prod").resources:
        if not res["protect"]:
            continue
        physical = (
            None
            if res["type"].endswith(":Workspace")
            else next((res["inputs"][k] for k in _PHYSICAL if k in res["inputs"]), None)
        )
        protected.add((res["type"], physical))
    assert protected == PROTECTED_IN_PROD
