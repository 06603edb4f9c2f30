"""DNS isolation: the zone is the bootstrap's; each environment writes only its own record sets, and its
cert-manager identity may write only its own ``_acme-challenge`` TXT record sets (docs/dns.md)."""

from __future__ import annotations

from typing import Any

import pytest

from components.azure import dns as dns_records
from components.config import ConfigError
from components.k8s.cert_manager import certificate_hosts
from tests.conftest import PROJECT_DIR, STACKS, cached_run
from tools.plan import engine, mocks, references, stackconfig

SUB = mocks.SUBSCRIPTION_ID
DNS_RG = "broxiva-dns-rg"
ZONE_ID = f"/subscriptions/{SUB}/resourceGroups/{DNS_RG}/providers/Microsoft.Network/dnsZones/broxiva.com"
DNS_ZONE_CONTRIBUTOR = "befefa01-2a29-4197-83a8-272ff33ce314"
RECORD = "azure-native:dns:RecordSet"
ROLE = "azure-native:authorization:RoleAssignment"
CERT_MANAGER_SUBJECT = "system:serviceaccount:cert-manager:cert-manager"
CHALLENGES = {
    "dev": {"_acme-challenge.dev", "_acme-challenge.api-dev", "_acme-challenge.admin-dev"},
    "staging": {"_acme-challenge.staging", "_acme-challenge.api-staging", "_acme-challenge.admin-staging"},
    "prod": {"_acme-challenge", "_acme-challenge.www", "_acme-challenge.api", "_acme-challenge.admin"},
}


def _record_id(relative: str, record_type: str = "TXT") -> str:
    return f"{ZONE_ID}/{record_type}/{relative}"


def _cert_manager_principal(result: engine.Plan) -> str:
    cred = next(
        c
        for c in result.by_type("azure-native:managedidentity:FederatedIdentityCredential")
        if c["inputs"]["subject"] == CERT_MANAGER_SUBJECT
    )
    identity = next(
        i
        for i in result.by_type("azure-native:managedidentity:UserAssignedIdentity")
        if i["outputs"]["name"] == cred["inputs"]["resourceName"]
    )
    return str(identity["outputs"]["principalId"])


def _in_dns_group(scope: str) -> bool:
    return scope.lower().startswith(f"/subscriptions/{SUB}/resourcegroups/{DNS_RG}".lower())


def test_no_environment_holds_a_role_on_the_zone_or_above_it(plan, stack):
    result = plan(stack)
    for assignment in result.by_type(ROLE):
        scope = assignment["inputs"]["scope"]
        # The zone, its group, the subscription: every scope the zone lies in.
        assert not ZONE_ID.lower().startswith(scope.lower()), (assignment["name"], scope)


def test_cert_manager_may_write_only_its_own_challenge_record_sets(plan, stack):
    result = plan(stack)
    principal = _cert_manager_principal(result)
    mine = [a for a in result.by_type(ROLE) if a["inputs"]["principalId"] == principal]
    assert {a["inputs"]["scope"] for a in mine} == {_record_id(name) for name in CHALLENGES[stack]}
    for assignment in mine:
        assert assignment["inputs"]["roleDefinitionId"].endswith(DNS_ZONE_CONTRIBUTOR)
        assert assignment["inputs"]["principalType"] == "ServicePrincipal"


def test_every_role_inside_the_zone_is_cert_managers_on_a_challenge_set_of_this_stack(plan, stack):
    result = plan(stack)
    principal = _cert_manager_principal(result)
    challenge_sets = {
        r["urn"]: r["inputs"]["relativeRecordSetName"]
        for r in result.by_type(RECORD)
        if r["inputs"]["relativeRecordSetName"].startswith("_acme-challenge")
    }
    for assignment in result.by_type(ROLE):
        scope = assignment["inputs"]["scope"]
        if not _in_dns_group(scope):
            continue
        assert assignment["inputs"]["principalId"] == principal
        relative = scope.rsplit("/TXT/", 1)[1]
        assert relative in challenge_sets.values()
        # The set exists before the assignment on it (a role assignment needs an existing scope).
        owner = next(urn for urn, name in challenge_sets.items() if name == relative)
        assert owner in assignment["dependencies"]


def test_challenge_record_sets_survive_cert_managers_cleanup(plan, stack):
    result = plan(stack)
    sets = [r for r in result.by_type(RECORD) if r["inputs"]["relativeRecordSetName"].startswith("_acme-challenge")]
    assert {r["inputs"]["relativeRecordSetName"] for r in sets} == CHALLENGES[stack]
    for record in sets:
        inputs = record["inputs"]
        assert inputs["recordType"] == "TXT"
        assert inputs["zoneName"] == "broxiva.com"
        assert inputs["resourceGroupName"] == DNS_RG
        # The placeholder keeps the set non-empty after CleanUp, which would otherwise delete it.
        assert inputs["txtRecords"] == [{"value": [dns_records.CHALLENGE_PLACEHOLDER]}]
        assert record["ignoreChanges"] == ["txtRecords"]
        assert record["protect"] is False


def test_challenge_sets_cover_every_certificate_name(stack):
    cfg = stackconfig.load(PROJECT_DIR, stack)
    domains = cfg.values["broxiva-platform:domains"]
    from components.config.schema import DomainsConfig

    hosts = [h for hs in certificate_hosts(DomainsConfig.model_validate(domains)).values() for h in hs]
    assert set(dns_records.challenge_record_names(hosts, "broxiva.com")) == CHALLENGES[stack]


def test_each_environment_writes_only_its_own_record_sets(plan):
    owned = {}
    for stack in STACKS:
        result = plan(stack)
        owned[stack] = {
            (r["inputs"]["recordType"], r["inputs"]["relativeRecordSetName"]) for r in result.by_type(RECORD)
        }
    for first in STACKS:
        for second in STACKS:
            if first < second:
                assert owned[first].isdisjoint(owned[second]), (first, second, owned[first] & owned[second])


def test_dev_has_nothing_in_prods_scope(plan):
    prod = plan("prod")
    prod_records = {r["inputs"]["relativeRecordSetName"] for r in prod.by_type(RECORD)}
    dev = plan("dev")
    for res in dev.resources:
        text = str(res["inputs"])
        assert "broxiva-prod-rg" not in text and "broxiva-kv" not in text, res["name"]
        if res["type"] == RECORD:
            assert res["inputs"]["relativeRecordSetName"] not in prod_records
        if res["type"] == ROLE:
            scope = res["inputs"]["scope"]
            assert not any(scope.endswith(f"/{name}") for name in prod_records if _in_dns_group(scope)), scope


def test_no_environment_declares_the_zone(plan, stack):
    result = plan(stack)
    assert result.by_type("azure-native:dns:Zone") == []
    assert [
        g for g in result.by_type("azure-native:resources:ResourceGroup") if g["inputs"]["resourceGroupName"] == DNS_RG
    ] == []


# ----------------------------------------------------------------------------- the zone from the bootstrap


@pytest.fixture(scope="module")
def bootstrap_outputs() -> dict[str, Any]:
    directory = PROJECT_DIR / "bootstrap"
    return cached_run(directory, stackconfig.load(directory, "org")).outputs


def test_the_bootstraps_exports_resolve_to_the_zone(bootstrap_outputs):
    zone = dns_records.zone_from_bootstrap(
        bootstrap_outputs, reference="organization/broxiva-bootstrap/org", zone_name="broxiva.com"
    )
    assert zone == dns_records.ZoneRef(ZONE_ID, "broxiva.com", DNS_RG, SUB)


@pytest.mark.parametrize(
    ("change", "key", "allowed"),
    [
        ({"zoneId": None}, "dns.bootstrapStack", "missing: zoneId"),
        ({"zoneResourceGroup": ""}, "dns.bootstrapStack", "missing: zoneResourceGroup"),
        ({"zoneName": "example.com"}, "dns.zoneName", "must be the zone the bootstrap stack exports (example.com)"),
        (
            {"zoneId": "/subscriptions/x/zones/broxiva.com"},
            "dns.bootstrapStack",
            "resource ID of a Microsoft.Network/dnsZones",
        ),
        ({"zoneResourceGroup": "other-rg"}, "dns.bootstrapStack", "inside zoneResourceGroup (other-rg)"),
    ],
)
def test_a_wrong_bootstrap_stack_is_one_config_error(bootstrap_outputs, change, key, allowed):
    outputs = {**bootstrap_outputs, **change}
    with pytest.raises(ConfigError) as err:
        dns_records.zone_from_bootstrap(
            outputs, reference="organization/broxiva-bootstrap/org", zone_name="broxiva.com"
        )
    assert err.value.key == key
    assert allowed in err.value.allowed


def test_no_bootstrap_outputs_at_all():
    with pytest.raises(ConfigError, match="run the bootstrap first"):
        dns_records.zone_from_bootstrap(None, reference="organization/broxiva-bootstrap/org", zone_name="broxiva.com")


def test_the_stack_reads_the_bootstrap_stack_it_is_configured_with(plan, stack):
    """The solver addresses the zone where the bootstrap says it is."""
    result = plan(stack)
    issuer = next(r for r in result.by_type("kubernetes:cert-manager.io/v1:ClusterIssuer"))
    solver = issuer["inputs"]["spec"]["acme"]["solvers"][0]["dns01"]["azureDNS"]
    assert solver["resourceGroupName"] == DNS_RG
    assert solver["hostedZoneName"] == "broxiva.com"
    assert solver["subscriptionID"] == SUB


def test_a_bootstrap_that_does_not_match_stops_before_any_azure_resource(monkeypatch, bootstrap_outputs):
    """A bootstrap stack exporting another zone is one config error, and no Azure resource has been
    registered: every group name waits for the check (__main__.py)."""
    registered: list[str] = []
    original = mocks.RecordingMonitor.RegisterResource

    def spy(self, request):
        registered.append(request.type)
        return original(self, request)

    other = {**bootstrap_outputs, "zoneName": "example.com"}
    monkeypatch.setattr(references, "_CACHE", {})
    monkeypatch.setattr(references, "RENDERER", lambda *_: (other, set()))
    monkeypatch.setattr(mocks.RecordingMonitor, "RegisterResource", spy)
    with pytest.raises(engine.ProgramConfigError, match=r"dns\.zoneName = 'broxiva\.com': must be the zone"):
        engine.run(PROJECT_DIR, stackconfig.load(PROJECT_DIR, "dev"), repo_root=PROJECT_DIR)
    assert "broxiva:azure:Environment" in registered  # the components are declared, their resources wait
    assert not [t for t in registered if t.startswith("azure-native:")]


def test_a_ci_identity_deployer_is_typed_service_principal(monkeypatch, bootstrap_outputs):
    """When the one running pulumi is a CI identity of the bootstrap, its assignments say ServicePrincipal;
    the SDK would otherwise send User and Azure would refuse them (UnmatchedPrincipalType)."""
    ci = {**bootstrap_outputs["ciIdentities"], "dev": {"clientId": "c", "principalId": mocks.DEPLOYER_OBJECT_ID}}
    monkeypatch.setattr(references, "_CACHE", {})
    monkeypatch.setattr(references, "RENDERER", lambda *_: ({**bootstrap_outputs, "ciIdentities": ci}, set()))
    result = engine.run(PROJECT_DIR, stackconfig.load(PROJECT_DIR, "dev"), repo_root=PROJECT_DIR)
    mine = [r["inputs"] for r in result.by_type(ROLE) if r["inputs"]["principalId"] == mocks.DEPLOYER_OBJECT_ID]
    assert len(mine) == 1 and {i["principalType"] for i in mine} == {"ServicePrincipal"}
