"""The first `pulumi preview` of a new stack, offline (``bin/plan render --first-preview``).

A create preview answers with what the providers' previews answer: azure-native maps the inputs onto the
response and leaves everything else unknown, and pulumi-kubernetes gives every object empty outputs while
the cluster (and so its kubeconfig) does not exist yet. The policy pack must let that preview through:
a mandatory violation there would block the first `pulumi up` of every new stack.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pulumi_policy import EnforcementLevel

from policy.testing import evaluate
from tests.conftest import OTHER_PROJECT_STACKS, STACKS, cached_run, run_program
from tools.plan import __main__ as cli
from tools.plan import engine
from tools.plan.mocks import SECRET_MASK, UNKNOWN_MASK
from tools.plan.shapes import output_names

ALL_STACKS = [(".", s) for s in STACKS] + list(OTHER_PROJECT_STACKS)
IDS = [f"{p}:{s}" if p != "." else s for p, s in ALL_STACKS]


def _show(violations) -> str:
    return "\n".join(f"{v.policy_name} [{v.enforcement_level.value}] {v.urn}: {v.message}" for v in violations)


def _mandatory(plan: engine.Plan) -> list:
    return [v for v in evaluate(plan) if v.enforcement_level == EnforcementLevel.MANDATORY]


@pytest.mark.parametrize(("project", "stack"), ALL_STACKS, ids=IDS)
def test_first_preview_passes_the_pack(project: str, stack: str) -> None:
    preview = run_program(stack, first_preview=True, project=project)
    assert preview.preview
    assert _mandatory(preview) == [], _show(_mandatory(preview))


@pytest.mark.parametrize(
    ("project", "stack"), list(OTHER_PROJECT_STACKS), ids=[f"{p}:{s}" for p, s in OTHER_PROJECT_STACKS]
)
def test_other_projects_pass_the_pack(project: str, stack: str) -> None:
    deployed = run_program(stack, project=project)
    assert _mandatory(deployed) == [], _show(_mandatory(deployed))


@pytest.mark.parametrize("stack", STACKS)
def test_provider_computed_outputs_are_unknown(stack: str) -> None:
    preview = run_program(stack, first_preview=True)
    azure = [r for r in preview.resources if r["type"].startswith("azure-native:")]
    assert azure
    for resource in azure:
        outputs = resource["outputs"]
        # Path parameters are inputs only; name, id and type come from the response, unknown on a create.
        # (A type whose path parameter is itself called name, a diagnostic setting's, gets it copied.)
        assert outputs["id"] == UNKNOWN_MASK, resource["name"]
        assert outputs["name"] == resource["inputs"].get("name", UNKNOWN_MASK), resource["name"]
        assert set(outputs) <= (output_names(resource["type"]) or set()), resource["name"]
    vault = next(r for r in azure if r["type"] == "azure-native:keyvault:Vault")
    # Copied from inputs where names match, recursively; the vault's URI only exists once it does.
    assert vault["outputs"]["location"] == vault["inputs"]["location"]
    assert vault["outputs"]["properties"]["enableRbacAuthorization"] is True
    assert vault["outputs"]["properties"]["vaultUri"] == UNKNOWN_MASK
    ip = next(r for r in azure if r["type"] == "azure-native:network:PublicIPAddress")
    assert ip["outputs"]["ipAddress"] == UNKNOWN_MASK
    assert preview.outputs["gatewayIp"] == UNKNOWN_MASK and preview.outputs["clusterName"] == UNKNOWN_MASK


@pytest.mark.parametrize("stack", STACKS)
def test_kubernetes_objects_have_no_outputs_before_the_cluster_exists(stack: str) -> None:
    preview = run_program(stack, first_preview=True)
    [provider] = preview.by_type("pulumi:providers:kubernetes")
    assert provider["inputs"]["kubeconfig"] == SECRET_MASK  # secret, and unknown underneath
    objects = [r for r in preview.resources if r["type"].startswith("kubernetes:") and r["custom"]]
    assert len(objects) > 20
    assert all(r["outputs"] == {} for r in objects)
    # The inputs are still rendered: the manifests of the preview.
    assert all(r["inputs"] for r in objects)


def test_first_preview_does_not_fill_provided_secrets() -> None:
    """The program's dry-run path for missing provided secrets runs, instead of the harness filling them."""
    assert run_program("prod").placeholders
    preview = run_program("prod", first_preview=True)
    assert not any("providedSecrets" in p for p in preview.placeholders)


def test_a_preview_with_the_cluster_known_passes_the_pack() -> None:
    """A later preview that adds Key Vault secrets to a running cluster: the secrets' names are unknown while
    the ExternalSecrets reading them are known. Stack rules must not call those secrets undeclared."""
    preview = run_program("prod", first_preview=True)
    for resource in preview.resources:
        if resource["type"].startswith("kubernetes:") and resource["custom"]:
            names = output_names(resource["type"])
            inputs = resource["inputs"]
            resource["outputs"] = {k: v for k, v in inputs.items() if names is None or k in names}
    assert _mandatory(preview) == [], _show(_mandatory(preview))


def test_render_cli_first_preview(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "run", cached_run)
    assert cli.main(["render", "--stack", "dev", "--first-preview", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "first preview (dry run):" in out
    doc = json.loads((tmp_path / "resources.json").read_text())
    assert doc["preview"] is True
    assert UNKNOWN_MASK in json.dumps(doc["resources"])
    # Manifests are what would be applied: inputs, rendered as usual.
    assert list((tmp_path / "manifests").rglob("*.yaml"))


def test_normal_render_has_no_unknowns() -> None:
    plan = run_program("dev")
    assert not plan.preview
    assert UNKNOWN_MASK not in json.dumps([r["outputs"] for r in plan.resources])
