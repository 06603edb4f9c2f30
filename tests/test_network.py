"""The private network and the data services: address plans across stacks, the docs' numbers and commands."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from components.azure import private_link
from components.config import ConfigError
from components.config.loading import check_other_stacks, other_address_spaces
from tests.conftest import PROJECT_DIR, STACKS
from tools.plan import engine

PG_SERVER = "azure-native:dbforpostgresql:Server"
PRIVATE_ZONE = "azure-native:privatedns:PrivateZone"
ZONE_LINK = "azure-native:privatedns:VirtualNetworkLink"
ENDPOINT = "azure-native:network:PrivateEndpoint"


def _stack_file(stack: str) -> dict:
    return yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())["config"]


def test_the_stacks_address_spaces_are_apart():
    spaces = other_address_spaces(PROJECT_DIR, "none")
    assert spaces == {"dev": "10.10.0.0/16", "staging": "10.20.0.0/16", "prod": "10.30.0.0/16"}


def test_an_overlapping_address_space_stops_the_program(plan):
    with pytest.raises(engine.ProgramConfigError) as info:
        plan("staging", {"network.addressSpace": "10.30.128.0/17", "network.subnets.nodes": "10.30.128.0/22",
                         "network.subnets.privateEndpoints": "10.30.132.0/24",
                         "network.subnets.postgres": "10.30.133.0/24"})  # fmt: skip
    assert "broxiva-platform:network.addressSpace = '10.30.128.0/17'" in str(info.value)
    assert "must not overlap stack prod's network.addressSpace (10.30.0.0/16)" in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("space", "others", "clash"),
    [
        ("10.40.0.0/16", {"dev": "10.10.0.0/16", "prod": "10.30.0.0/16"}, None),
        ("10.0.0.0/8", {"dev": "10.10.0.0/16"}, "dev"),
        ("10.10.255.0/24", {"prod": "10.30.0.0/16", "dev": "10.10.0.0/16"}, "dev"),
        ("192.168.0.0/16", {}, None),
    ],
)
def test_check_other_stacks(space, others, clash):
    class Cfg:
        class network:  # noqa: N801 - the shape StackConfig has
            address_space = space

    if clash is None:
        check_other_stacks(Cfg, "this", others)  # type: ignore[arg-type]
        return
    with pytest.raises(ConfigError) as info:
        check_other_stacks(Cfg, "this", others)  # type: ignore[arg-type]
    assert info.value.key == "network.addressSpace"
    assert f"stack {clash}'s" in info.value.allowed


def test_a_broken_sibling_file_is_skipped(tmp_path: Path):
    (tmp_path / "Pulumi.a.yaml").write_text("config: {broxiva-platform:network: {addressSpace: 10.1.0.0/16}}\n")
    (tmp_path / "Pulumi.b.yaml").write_text("config: [unclosed\n")
    (tmp_path / "Pulumi.c.yaml").write_text("config: {broxiva-platform:network: {addressSpace: not-a-cidr}}\n")
    assert other_address_spaces(tmp_path, "x") == {"a": "10.1.0.0/16"}


def test_each_private_zone_is_linked_and_each_endpoint_uses_one(plan, stack):
    result = plan(stack)
    zones = {z["inputs"]["privateZoneName"]: z for z in result.by_type(PRIVATE_ZONE)}
    links = result.by_type(ZONE_LINK)
    assert {link["parent"] for link in links} == {z["urn"] for z in zones.values()}
    groups = {"secrets-endpoint": "vault", "redis-endpoint": "redisEnterprise", "backups-endpoint": "blob"}
    if stack == "prod":
        groups["registry-endpoint"] = "registry"
    endpoints = {e["name"]: e for e in result.by_type(ENDPOINT)}
    assert set(endpoints) == set(groups)
    for name, group in groups.items():
        connection = endpoints[name]["inputs"]["privateLinkServiceConnections"][0]
        assert connection["groupIds"] == [group]
        assert private_link.PRIVATE_ZONES[group] in zones
    server = _stack_file(stack)["broxiva-platform:postgres"]["serverName"]
    assert private_link.postgres_zone(server) in zones


def test_readme_counts_the_resources_a_first_preview_creates(plan):
    readme = (PROJECT_DIR / "README.md").read_text()
    match = re.search(r"# (\d+) resources to create \(prod: (\d+)\)", readme)
    assert match, "README states the resource counts of dev and prod"

    def custom(stack: str) -> int:
        return sum(1 for r in plan(stack).resources if r["custom"] and not r["type"].startswith("pulumi:providers:"))

    assert (int(match.group(1)), int(match.group(2))) == (custom("dev"), custom("prod"))


def test_runbook_restore_command_names_prods_subnet_and_zone(plan):
    runbook = (PROJECT_DIR / "docs" / "RUNBOOK.md").read_text()
    prod = _stack_file("prod")
    server = prod["broxiva-platform:postgres"]["serverName"]
    zone = re.search(r"--private-dns-zone (\S+)", runbook)
    assert zone and zone.group(1) == private_link.postgres_zone(server)
    assert f"--source-server {server} " in runbook
    vnet = prod["broxiva-platform:network"]["name"]
    assert f"--vnet-name {vnet} -n postgres" in runbook
    declared = {z["inputs"]["privateZoneName"] for z in plan("prod").by_type(PRIVATE_ZONE)}
    assert zone.group(1) in declared
    assert f"--account-name {prod['broxiva-platform:backups']['storageAccount']} " in runbook


def test_every_stack_declares_its_network(plan):
    for stack in STACKS:
        vnet = plan(stack).by_type("azure-native:network:VirtualNetwork")
        assert [v["inputs"]["addressSpace"]["addressPrefixes"] for v in vnet] == [
            [_stack_file(stack)["broxiva-platform:network"]["addressSpace"]]
        ]


def _digest(value) -> str:
    import hashlib
    import json

    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _vault_value(result, name: str) -> str:
    secret = next(s for s in result.by_type("azure-native:keyvault:Secret") if s["inputs"]["secretName"] == name)
    return secret["secretDigests"]["properties"]


def test_the_vault_holds_exactly_what_the_servers_use(plan, stack):
    """One PostgreSQL password (server and vault agree); Redis credentials are the cache's own key; the URLs
    are built from the servers' real host names and ports."""
    from components.azure.postgres import postgres_url
    from components.azure.redis import redis_url
    from components.config import parse
    from tests.test_config import raw_config
    from tools.plan import mocks

    result = plan(stack)
    cfg = parse(raw_config(stack), stack)
    password_resource = result.one("random:index/randomPassword:RandomPassword", "secrets-postgres-password")
    password = mocks.PlausibleMocks(stack)._random(password_resource["type"], password_resource["name"],
                                                   password_resource["inputs"])["result"]  # fmt: skip
    server = result.one(PG_SERVER, "postgres-server")
    assert server["secretDigests"]["administratorLoginPassword"] == _digest(password)
    host = f"{cfg.postgres.server_name}.postgres.database.azure.com"
    expires = _vault_value(result, "postgres-password")
    assert expires != _digest({"value": password, "contentType": "text/plain"})  # it carries its expiry
    assert _vault_value(result, "postgres-url") == _digest(
        {"value": postgres_url(cfg.postgres, host, password), "contentType": "text/plain"}
    )
    lookup = SimpleNamespace(
        token="azure-native:redisenterprise:listDatabaseKeys",
        args={"clusterName": cfg.redis.name, "databaseName": "default"},
    )
    keys, _ = mocks.PlausibleMocks(stack).call(lookup)  # type: ignore[arg-type]
    redis_host = f"{cfg.redis.name}.eastus.redis.azure.net"
    assert _vault_value(result, "redis-password") == _digest({"value": keys["primaryKey"], "contentType": "text/plain"})
    assert _vault_value(result, "redis-url") == _digest(
        {"value": redis_url(redis_host, 10000, keys["primaryKey"]), "contentType": "text/plain"}
    )
    assert result.outputs["postgresHost"] == host
    assert result.outputs["redisHost"] == redis_host


def test_data_services_are_configured_as_the_stack_says(plan, stack):
    result = plan(stack)
    pg = _stack_file(stack)["broxiva-platform:postgres"]
    server = result.one(PG_SERVER, "postgres-server")["inputs"]
    assert server["version"] == pg["version"] == "15"
    assert server["sku"] == {"name": pg["sku"], "tier": pg["tier"]}
    assert server["storage"] == {"storageSizeGB": pg["storageGb"], "autoGrow": "Enabled"}
    assert server["backup"]["backupRetentionDays"] == pg["backupRetentionDays"]
    assert server["backup"]["geoRedundantBackup"] == ("Enabled" if stack == "prod" else "Disabled")
    assert server["highAvailability"]["mode"] == ("ZoneRedundant" if stack == "prod" else "Disabled")
    assert server["administratorLogin"] == "broxiva"
    assert server["network"]["delegatedSubnetResourceId"].endswith(
        f"/virtualNetworks/broxiva-{stack}-vnet/subnets/postgres"
    )
    assert "publicNetworkAccess" not in server["network"]
    database = result.one("azure-native:dbforpostgresql:Database", "postgres-database")["inputs"]
    assert database["databaseName"] == "broxiva"
    tls = result.one("azure-native:dbforpostgresql:Configuration", "postgres-require-tls")["inputs"]
    assert (tls["configurationName"], tls["value"]) == ("require_secure_transport", "on")
    admin = result.one("azure-native:dbforpostgresql:AdministratorsMicrosoftEntra", "postgres-entra-admin")["inputs"]
    assert (admin["principalType"], admin["principalName"]) == ("group", "broxiva-aks-admins")
    cache = result.one("azure-native:redisenterprise:RedisEnterprise", "redis-cache")["inputs"]
    assert cache["publicNetworkAccess"] == "Disabled"
    assert cache["minimumTlsVersion"] == "1.2"
    assert cache["highAvailability"] == ("Enabled" if stack == "prod" else "Disabled")
    db = result.one("azure-native:redisenterprise:Database", "redis-database")["inputs"]
    assert (db["port"], db["clientProtocol"], db["accessKeysAuthentication"]) == (10000, "Encrypted", "Enabled")


def test_no_6379_anywhere(plan, stack):
    import json

    assert "6379" not in json.dumps(plan(stack).to_dict())


def test_nsgs_admit_only_the_listed_flows(plan):
    result = plan("prod")
    nsgs = {
        n["name"]: n["inputs"]["securityRules"] for n in result.by_type("azure-native:network:NetworkSecurityGroup")
    }
    nodes = nsgs["network-nodes-nsg"]
    gateway_ip = result.outputs["gatewayIp"]
    assert [(r["sourceAddressPrefix"], r["destinationAddressPrefix"], r["destinationPortRanges"]) for r in nodes] == [
        ("Internet", gateway_ip, ["80", "443"])
    ]
    for name, ports in (("network-endpoints-nsg", ["443", "10000"]), ("network-postgres-nsg", ["5432"])):
        rules = sorted(nsgs[name], key=lambda r: r["priority"])
        assert (rules[0]["sourceAddressPrefix"], rules[0]["destinationPortRanges"]) == ("10.30.0.0/22", ports)
        assert (rules[-1]["access"], rules[-1]["sourceAddressPrefix"]) == ("Deny", "VirtualNetwork")
        assert all(r["direction"] == "Inbound" for r in rules)


def test_server_ignores_only_what_azure_changes_on_its_own(plan):
    """Ignored paths are wire names of inputs the program sets; a misspelt one would ignore nothing."""
    server = plan("prod").one(PG_SERVER, "postgres-server")
    assert server["ignoreChanges"] == [
        "storage.storageSizeGB",
        "availabilityZone",
        "highAvailability.standbyAvailabilityZone",
    ]
    for path in server["ignoreChanges"]:
        value = server["inputs"]
        for part in path.split("."):
            value = value[part]
        assert value is not None
