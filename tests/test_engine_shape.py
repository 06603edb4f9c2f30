"""The harness answers as the providers do: the outputs each resource class declares, nothing else; and the
stack rules read only what the providers answer.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from policy.rules import stack as stack_rules
from policy.rules.common import StackCheck, StackResource, normalize
from policy.testing import stack_args
from tests.conftest import STACKS, run_program
from tools.plan import __main__ as cli
from tools.plan import engine, stackconfig
from tools.plan.mocks import SECRET_MASK, UNKNOWN_MASK
from tools.plan.shapes import output_names, preview_outputs
from tools.pulumi_sdk import SECRET_SIG, SECRET_SIG_KEY, UNKNOWN

PATH_PARAMETERS = {"resourceGroupName", "vaultName", "secretName", "resourceName", "zoneName"}
STACK_CHECKS: list[StackCheck] = [p.check for p in stack_rules.POLICIES]  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- outputs


@pytest.mark.parametrize("stack", STACKS)
def test_outputs_are_the_declared_outputs(stack: str) -> None:
    plan = run_program(stack)
    typed = 0
    for resource in plan.resources:
        names = output_names(resource["type"])
        if names is None or not resource["custom"]:
            continue
        typed += 1
        assert set(resource["outputs"]) <= names, (resource["type"], set(resource["outputs"]) - names)
        if resource["type"].startswith("azure-native:"):
            assert not PATH_PARAMETERS & set(resource["outputs"]), resource["name"]
            # Every ARM resource answers id and name; type where its SDK class declares it (a private DNS zone
            # group does not).
            assert {"id", "name"} | ({"type"} & names) <= set(resource["outputs"]), resource["name"]
    assert typed > 50


def test_plausible_computed_values() -> None:
    plan = run_program("prod")
    ip = plan.by_type("azure-native:network:PublicIPAddress")[0]["outputs"]
    assert ip["ipAddress"].startswith("203.0.113.")
    cluster = plan.one("azure-native:containerservice:ManagedCluster", "cluster-aks")["outputs"]
    assert cluster["fqdn"].endswith(".azmk8s.io") and cluster["oidcIssuerProfile"]["issuerURL"].startswith("https://")
    assert (
        cluster["name"]
        == plan.one("azure-native:containerservice:ManagedCluster", "cluster-aks")["inputs"]["resourceName"]
    )
    vault = plan.by_type("azure-native:keyvault:Vault")[0]["outputs"]
    assert vault["properties"]["vaultUri"] == f"https://{vault['name']}.vault.azure.net/"
    secret = plan.by_type("azure-native:keyvault:Secret")[0]
    name = secret["inputs"]["secretName"]
    assert secret["outputs"]["name"] == name and "secretName" not in secret["outputs"]
    assert secret["outputs"]["type"] == "Microsoft.KeyVault/vaults/secrets"
    assert secret["outputs"]["id"].endswith(f"/vaults/{secret['inputs']['vaultName']}/secrets/{name}")
    assert secret["outputs"]["properties"]["secretUri"].endswith(f"/secrets/{name}")


def _secret(value: Any) -> dict[str, Any]:
    return {SECRET_SIG_KEY: SECRET_SIG, "value": value}


def test_preview_outputs_follow_previewOutputs() -> None:  # noqa: N802 - the upstream function's name
    inputs = {
        "resourceGroupName": "rg",
        "vaultName": "kv",
        "location": "eastus",
        "tags": {"a": "b"},
        "properties": {"tenantId": "t", "enableRbacAuthorization": True, "sku": {"family": "A", "name": "standard"}},
    }
    out = preview_outputs("azure-native:keyvault:Vault", inputs)
    assert set(out) == output_names("azure-native:keyvault:Vault")
    assert "vaultName" not in out and out["name"] == UNKNOWN and out["id"] == UNKNOWN
    assert out["location"] == "eastus" and out["tags"] == {"a": "b"}
    assert out["properties"]["enableRbacAuthorization"] is True and out["properties"]["vaultUri"] == UNKNOWN
    assert out["properties"]["sku"]["name"] == "standard"
    # A secret input stays secret; a value that does not fit the output's type is unknown.
    secret = preview_outputs("azure-native:keyvault:Secret", {"properties": _secret({"value": "x"}), "tags": 3})
    assert secret["properties"][SECRET_SIG_KEY] == SECRET_SIG and secret["properties"]["value"]["value"] == "x"
    assert secret["tags"] == {} or secret["tags"] == UNKNOWN
    # Kubernetes constants are known even in a preview with a known provider.
    assert preview_outputs("kubernetes:apps/v1:Deployment", {})["kind"] == "Deployment"


# --------------------------------------------------------------------------- rules read outputs only


class _Reads(dict):
    """A resource's props that remember which top-level properties a rule read."""

    def __init__(self, value: dict[str, Any], seen: set[str]) -> None:
        super().__init__(value)
        self._seen = seen

    def __getitem__(self, key: str) -> Any:
        self._seen.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self._seen.add(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self._seen.add(str(key))
        return super().__contains__(key)


def never_returned(resources: list[StackResource], checks: list[StackCheck]) -> Iterator[str]:
    """``type: property`` for each property a stack check reads that the type's provider never answers."""
    reads: dict[str, set[str]] = {}
    watched = []
    for resource in resources:
        seen = reads.setdefault(resource.resource_type, set())
        watched.append(StackResource(resource.resource_type, _Reads(resource.props, seen), resource.urn, resource.name))
    for check in checks:
        config = {s.key: s.default for s in getattr(check, "settings", ())}
        for policy in stack_rules.POLICIES:
            if policy.check is check:  # type: ignore[attr-defined]
                config = {s.key: s.default for s in policy.settings}  # type: ignore[attr-defined]
        list(check(watched, config))
    for typ, seen in sorted(reads.items()):
        names = output_names(typ)
        if names is not None:
            yield from (f"{typ}: {key}" for key in sorted(seen - names))


@pytest.mark.parametrize("stack", STACKS)
def test_stack_rules_read_only_what_providers_return(stack: str) -> None:
    plan = run_program(stack)
    resources = normalize(stack_args(plan, {}))
    assert list(never_returned(resources, STACK_CHECKS)) == []


def test_the_read_check_catches_an_input_only_property() -> None:
    resources = normalize(stack_args(run_program("dev"), {}))

    def reads_secret_name(found: list[StackResource], config: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
        for resource in found:
            if resource.resource_type == stack_rules.KEY_VAULT_SECRET and resource.props.get("secretName"):
                yield "never", None

    assert list(never_returned(resources, [reads_secret_name])) == ["azure-native:keyvault:Secret: secretName"]


# --------------------------------------------------------------------------- stack references


def _project(root: Path, folder: str, name: str, stack: str, program: str) -> Path:
    directory = root / folder
    directory.mkdir(parents=True)
    (directory / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n")
    (directory / f"Pulumi.{stack}.yaml").write_text(
        f"secretsprovider: azurekeyvault://demo-kv.vault.azure.net/keys/{name}-{stack}\nconfig: {{}}\n"
    )
    (directory / "__main__.py").write_text(textwrap.dedent(program))
    return directory


@pytest.fixture(scope="module")
def two_projects(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("repo")
    _project(
        root,
        "base",
        "demo-base",
        "org",
        """
        import pulumi
        pulumi.export("zone", "example.com")
        pulumi.export("token", pulumi.Output.secret("s3cr3t"))
        """,
    )
    _project(
        root,
        "env",
        "demo-env",
        "dev",
        """
        import pulumi
        base = pulumi.StackReference("acme/demo-base/org")
        pulumi.export("zone", base.get_output("zone"))
        pulumi.export("token", base.get_output("token"))
        pulumi.export("names", base.secret_output_names)
        """,
    )
    _project(
        root,
        "broken",
        "demo-broken",
        "dev",
        """
        import pulumi
        pulumi.export("zone", pulumi.StackReference("acme/demo-nowhere/org").get_output("zone"))
        """,
    )
    _project(
        root,
        "nostack",
        "demo-nostack",
        "dev",
        """
        import pulumi
        pulumi.export("zone", pulumi.StackReference("acme/demo-base/qa").get_output("zone"))
        """,
    )
    return root


def _run(root: Path, folder: str, stack: str = "dev", **kwargs: Any) -> engine.Plan:
    return engine.run(root / folder, stackconfig.load(root / folder, stack), repo_root=root, **kwargs)


@pytest.mark.parametrize("preview", [False, True])
def test_stack_reference_reads_the_rendered_stack(two_projects: Path, preview: bool) -> None:
    plan = _run(two_projects, "env", preview=preview)
    assert plan.outputs["zone"] == "example.com"
    assert plan.outputs["token"] == SECRET_MASK  # a secret output of the referenced stack stays secret
    assert plan.outputs["names"] == ["token"]


def test_stack_reference_to_no_project_is_one_config_error(two_projects: Path, capsys) -> None:
    with pytest.raises(engine.ProgramConfigError) as err:
        _run(two_projects, "broken")
    assert "'acme/demo-nowhere/org'" in str(err.value) and "no Pulumi project named 'demo-nowhere'" in str(err.value)
    argv = ["render", "--project-dir", str(two_projects), "--project", "broken", "--stack", "dev"]
    assert cli.main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "acme/demo-nowhere/org" in lines[0]


def test_stack_reference_to_no_stack_is_one_config_error(two_projects: Path) -> None:
    with pytest.raises(engine.ProgramConfigError) as err:
        _run(two_projects, "nostack")
    message = str(err.value)
    assert "'acme/demo-base/qa'" in message and "no stack file Pulumi.qa.yaml (stacks: org)" in message


def test_project_option_renders_another_project(two_projects: Path, capsys) -> None:
    assert (
        cli.main(["render", "--project-dir", str(two_projects), "--project", "base", "--stack", "org", "--json"]) == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["project"] == "demo-base" and doc["outputs"]["zone"] == "example.com"
    assert cli.main(["render", "--project-dir", str(two_projects), "--project", "nowhere", "--stack", "org"]) == 2
    assert "no Pulumi.yaml in nowhere" in capsys.readouterr().err


def test_unknown_mask_is_distinct_from_secret_mask() -> None:
    assert UNKNOWN_MASK != SECRET_MASK and UNKNOWN_MASK == "[unknown]"
