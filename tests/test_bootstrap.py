"""The bootstrap project (bootstrap/, stack org) rendered under the offline engine: what every environment stands on.

State store without public or shared-key access, one secrets-provider key per stack, the zone (adoptable), CI
identities with exactly the roles they need, what the environment stacks read from it, and its config errors.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from components.azure.roles import ROLES
from components.bootstrap.ci_identities import BOOTSTRAP_ROLES, delegation_condition, github_subject
from tests.conftest import PROJECT_DIR, cached_run
from tools.plan import engine, mocks, stackconfig

BOOTSTRAP_DIR = PROJECT_DIR / "bootstrap"
SUB = mocks.SUBSCRIPTION_ID
SUBSCRIPTION = f"/subscriptions/{SUB}"
STACKS = ("dev", "staging", "prod")
REPO = "repo:broxiva/broxiva-platform"
ZONE_ID = f"{SUBSCRIPTION}/resourceGroups/broxiva-dns-rg/providers/Microsoft.Network/dnsZones/broxiva.com"
ROLE = "azure-native:authorization:RoleAssignment"


def render(sets: dict[str, str] | None = None) -> engine.Plan:
    cfg = stackconfig.load(BOOTSTRAP_DIR, "org", sets=list((sets or {}).items()))
    return cached_run(BOOTSTRAP_DIR, cfg)


@pytest.fixture(scope="module")
def org() -> engine.Plan:
    return render()


def _one(plan: engine.Plan, typ: str) -> dict[str, Any]:
    found = plan.by_type(typ)
    assert len(found) == 1, [r["name"] for r in found]
    return found[0]


def _role_name(assignment: dict[str, Any]) -> str:
    guid = assignment["inputs"]["roleDefinitionId"].rsplit("/", 1)[1]
    return next(name for name, rid in BOOTSTRAP_ROLES.items() if rid == guid)


def _grants(plan: engine.Plan, component: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(role, scope) -> assignment, for the role assignments under one component (by logical name prefix)."""
    return {
        (_role_name(r), r["inputs"]["scope"]): r for r in plan.by_type(ROLE) if r["name"].startswith(component + "-")
    }


def _scope_of(plan: engine.Plan, typ: str, **inputs: str) -> str:
    for res in plan.by_type(typ):
        if all(res["inputs"].get(k) == v for k, v in inputs.items()):
            return str(res["outputs"]["id"])
    raise KeyError((typ, inputs))


def test_every_resource_is_protected(org):
    custom = [r for r in org.resources if r["custom"] and r["type"].startswith("azure-native:")]
    assert len(custom) > 30
    assert [r["name"] for r in custom if not r["protect"]] == []


def test_state_store_admits_no_public_access_and_no_shared_key(org):
    account = _one(org, "azure-native:storage:StorageAccount")["inputs"]
    assert account["accountName"] == "broxivapulumistate"
    assert account["allowBlobPublicAccess"] is False
    assert account["allowSharedKeyAccess"] is False
    assert account["minimumTlsVersion"] == "TLS1_2"
    assert account["enableHttpsTrafficOnly"] is True
    service = _one(org, "azure-native:storage:BlobServiceProperties")["inputs"]
    assert service["isVersioningEnabled"] is True
    assert service["deleteRetentionPolicy"] == {"enabled": True, "days": 30}
    assert service["containerDeleteRetentionPolicy"] == {"enabled": True, "days": 30}
    container = _one(org, "azure-native:storage:BlobContainer")
    assert container["inputs"]["containerName"] == "pulumi-state"
    assert container["inputs"]["publicAccess"] == "None"


def test_one_rsa_key_per_stack_in_an_rbac_vault_with_purge_protection(org):
    vault = _one(org, "azure-native:keyvault:Vault")["inputs"]
    assert vault["vaultName"] == "broxiva-pulumi-kv"
    assert vault["properties"]["enableRbacAuthorization"] is True
    assert vault["properties"]["enablePurgeProtection"] is True
    keys = {k["inputs"]["keyName"]: k["inputs"] for k in org.by_type("azure-native:keyvault:Key")}
    assert set(keys) == {"pulumi-dev", "pulumi-staging", "pulumi-prod", "pulumi-org"}
    for key in keys.values():
        assert key["properties"]["kty"] == "RSA"
        assert set(key["properties"]["keyOps"]) == {"encrypt", "decrypt"}


def test_federated_subjects(org):
    creds = {
        c["inputs"]["resourceName"]: c["inputs"]
        for c in org.by_type("azure-native:managedidentity:FederatedIdentityCredential")
    }
    expected = {f"broxiva-ci-{s}": f"{REPO}:environment:{s}" for s in STACKS}
    expected["broxiva-ci-preview"] = f"{REPO}:environment:preview"
    assert {name: c["subject"] for name, c in creds.items()} == expected
    for cred in creds.values():
        assert cred["issuer"] == "https://token.actions.githubusercontent.com"
        assert cred["audiences"] == ["api://AzureADTokenExchange"]
    assert github_subject("o", "r", "dev") == "repo:o/r:environment:dev"


def test_deploy_identities_hold_exactly_their_roles(org):
    container = _scope_of(org, "azure-native:storage:BlobContainer", containerName="pulumi-state")
    for stack in STACKS:
        key = _scope_of(org, "azure-native:keyvault:Key", keyName=f"pulumi-{stack}")
        grants = _grants(org, f"ci-{stack}")
        assert set(grants) == {
            ("Contributor", SUBSCRIPTION),
            ("Role Based Access Control Administrator", SUBSCRIPTION),
            ("Storage Blob Data Contributor", container),
            ("Key Vault Crypto User", key),
        }
        for assignment in grants.values():
            assert assignment["inputs"]["principalType"] == "ServicePrincipal"


def test_deploy_identities_may_assign_only_the_environment_programs_roles(org):
    for stack in STACKS:
        rbac = _grants(org, f"ci-{stack}")[("Role Based Access Control Administrator", SUBSCRIPTION)]["inputs"]
        assert rbac["conditionVersion"] == "2.0"
        condition = rbac["condition"]
        # Both actions are constrained, each by its own attribute source (write: request, delete: resource).
        assert "ActionMatches{'Microsoft.Authorization/roleAssignments/write'}" in condition
        assert "ActionMatches{'Microsoft.Authorization/roleAssignments/delete'}" in condition
        lists = re.findall(
            r"(@Request|@Resource)\[Microsoft\.Authorization/roleAssignments:RoleDefinitionId\] "
            r"ForAnyOfAnyValues:GuidEquals \{([^}]*)\}",
            condition,
        )
        assert [source for source, _ in lists] == ["@Request", "@Resource"]
        for _, ids in lists:
            assert {i.strip() for i in ids.split(",")} == set(ROLES.values())
    assert delegation_condition(["B", "a"]).count("{a, b}") == 2


def test_preview_identity_reads_and_never_decrypts_production(org):
    container = _scope_of(org, "azure-native:storage:BlobContainer", containerName="pulumi-state")
    keys = {s: _scope_of(org, "azure-native:keyvault:Key", keyName=f"pulumi-{s}") for s in (*STACKS, "org")}
    grants = _grants(org, "ci-preview")
    assert set(grants) == {
        ("Reader", SUBSCRIPTION),
        ("Azure Kubernetes Service Cluster User Role", SUBSCRIPTION),
        ("Azure Kubernetes Service RBAC Reader", SUBSCRIPTION),
        ("Storage Blob Data Reader", container),
        ("Key Vault Crypto User", keys["dev"]),
        ("Key Vault Crypto User", keys["staging"]),
    }
    # No role anywhere that could reach prod's key: not on the key, not on the vault, group or subscription.
    writable = {"Contributor", "Role Based Access Control Administrator", "Key Vault Crypto User"}
    assert not [g for g in grants if g[0] in writable and keys["prod"].startswith(g[1])]


def test_the_zone_is_created_protected(org):
    zone = _one(org, "azure-native:dns:Zone")
    assert zone["inputs"]["zoneName"] == "broxiva.com"
    assert zone["inputs"]["resourceGroupName"] == "broxiva-dns-rg"
    assert zone["protect"] is True
    group = next(g for g in org.by_type("azure-native:resources:ResourceGroup") if g["name"] == "dns-rg")
    assert group["inputs"]["resourceGroupName"] == "broxiva-dns-rg"
    assert group["urn"] in zone["dependencies"]


def test_exports_for_the_environment_stacks(org):
    out = org.outputs
    assert out["zoneId"] == ZONE_ID
    assert out["zoneName"] == "broxiva.com"
    assert out["zoneResourceGroup"] == "broxiva-dns-rg"
    assert len(out["nameServers"]) == 4
    assert out["secretsProviders"] == {
        s: f"azurekeyvault://broxiva-pulumi-kv.vault.azure.net/keys/pulumi-{s}" for s in STACKS
    }
    assert set(out["ciIdentities"]) == {*STACKS, "preview"}
    for ids in out["ciIdentities"].values():
        assert set(ids) == {"clientId", "principalId"}
    assert out["stateStorageAccount"] == "broxivapulumistate"
    assert out["stateContainer"] == "pulumi-state"


def test_stack_files_name_the_keys_the_bootstrap_exports(org):
    """Each environment's secretsprovider is the key the bootstrap creates for it."""
    import yaml

    for stack in STACKS:
        doc = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())
        assert doc["secretsprovider"] == org.outputs["secretsProviders"][stack]


def test_an_existing_zone_is_imported(monkeypatch):
    imports: dict[str, str] = {}
    original = mocks.PlausibleMocks.new_resource

    def recording(self, args):
        if args.resource_id:
            imports[args.name] = args.resource_id
        return original(self, args)

    monkeypatch.setattr(mocks.PlausibleMocks, "new_resource", recording)
    cfg = stackconfig.load(BOOTSTRAP_DIR, "org", sets=[("dns.adoptZoneId", ZONE_ID)])
    engine.run(BOOTSTRAP_DIR, cfg)
    assert imports == {"dns-zone": ZONE_ID, "dns-rg": f"{SUBSCRIPTION}/resourceGroups/broxiva-dns-rg"}


def test_a_new_zone_is_not_imported(monkeypatch):
    imports: list[str] = []
    original = mocks.PlausibleMocks.new_resource

    def recording(self, args):
        if args.resource_id:
            imports.append(args.name)
        return original(self, args)

    monkeypatch.setattr(mocks.PlausibleMocks, "new_resource", recording)
    engine.run(BOOTSTRAP_DIR, stackconfig.load(BOOTSTRAP_DIR, "org"))
    assert imports == []


BAD = [
    ("dns.adoptZoneId", "broxiva.com", "dns.adoptZoneId", "the resource ID of a Microsoft.Network/dnsZones"),
    (
        "dns.adoptZoneId",
        f"{SUBSCRIPTION}/resourceGroups/broxiva-dns-rg/providers/Microsoft.Network/privateDnsZones/broxiva.com",
        "dns.adoptZoneId",
        "the resource ID of a Microsoft.Network/dnsZones",
    ),
    (
        "dns.adoptZoneId",
        f"{SUBSCRIPTION}/resourceGroups/other-rg/providers/Microsoft.Network/dnsZones/broxiva.com",
        "dns.adoptZoneId",
        "must lie in resourceGroup (broxiva-dns-rg)",
    ),
    (
        "dns.adoptZoneId",
        f"{SUBSCRIPTION}/resourceGroups/broxiva-dns-rg/providers/Microsoft.Network/dnsZones/example.com",
        "dns.adoptZoneId",
        "must name the zone zoneName (broxiva.com)",
    ),
    ("ci.previewStacks", "[dev, prod]", "ci.previewStacks", "must not be a production stack"),
    ("ci.stacks", "[dev, dev]", "ci.stacks", "must not repeat a stack"),
    ("state.accountName", "Broxiva-State", "state.accountName", "must match"),
    ("secrets.vaultName", "kv", "secrets.vaultName", "a Key Vault name"),
    ("tags.owner", "", "tags.owner", "at least 1 character"),
]


@pytest.mark.parametrize(("key", "value", "named", "allowed"), BAD, ids=[f"{b[0]}={b[1]}"[:60] for b in BAD])
def test_bad_config_is_one_error_naming_key_and_value(key, value, named, allowed):
    with pytest.raises(engine.ProgramConfigError) as err:
        render({key: value})
    message = str(err.value)
    assert message.startswith("Invalid configuration of stack 'org': broxiva-bootstrap:" + named + " = "), message
    assert allowed in message
    assert "Traceback" not in message


def test_missing_github_owner_is_named():
    cfg = stackconfig.load(BOOTSTRAP_DIR, "org", unsets=["ci.githubOwner"])
    with pytest.raises(
        engine.ProgramConfigError, match=r"broxiva-bootstrap:ci\.githubOwner = \(not set\): is required"
    ):
        cached_run(BOOTSTRAP_DIR, cfg)


def test_every_key_is_declared(org):
    import yaml

    from components.bootstrap.settings import TOP_LEVEL_KEYS

    declared = yaml.safe_load((BOOTSTRAP_DIR / "Pulumi.yaml").read_text())["config"]
    assert set(declared) == set(TOP_LEVEL_KEYS)
    assert all(decl.get("description") for decl in declared.values())
    doc = yaml.safe_load((BOOTSTRAP_DIR / "Pulumi.yaml").read_text())
    assert doc["name"] == "broxiva-bootstrap"
    assert doc["runtime"]["options"]["virtualenv"] == "../venv"
    assert Path(BOOTSTRAP_DIR / "Pulumi.org.yaml").is_file()
