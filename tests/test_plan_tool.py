"""The offline plan tool: render, diff, config merging, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import PROJECT_DIR, STACKS, cached_run, run_program
from tools.plan import __main__ as cli
from tools.plan import diff as plan_diff
from tools.plan import engine, stackconfig


def _cli(*args: str, cwd: Path = PROJECT_DIR) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tools.plan", *args], cwd=cwd, capture_output=True, text=True, check=False
    )


@pytest.fixture
def session_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI in this process renders through the session's runs: a run depends on its configuration only."""
    monkeypatch.setattr(engine, "run", cached_run)


@pytest.mark.usefixtures("session_runs")
@pytest.mark.parametrize("stack", STACKS)
def test_render_writes_resources_manifests_and_helm_releases(stack: str, tmp_path: Path, capsys) -> None:
    assert cli.main(["render", "--stack", stack, "--out", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "resources.json").read_text())
    assert doc["stack"] == stack and doc["project"] == "broxiva-platform"
    types = {r["type"] for r in doc["resources"]}
    assert "azure-native:containerservice:ManagedCluster" in types
    manifests = list((tmp_path / "manifests").rglob("*.yaml"))
    assert len(manifests) >= 20
    for path in manifests:
        obj = yaml.safe_load(path.read_text())
        assert path.name == f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"
    releases = yaml.safe_load((tmp_path / "helm-releases.yaml").read_text())
    assert {r["name"] for r in releases} >= {"external-secrets", "cert-manager", "envoy-gateway"}
    assert all(r["version"] and r["chart"] for r in releases)
    summary = capsys.readouterr().out
    assert f"stack {stack}:" in summary and "by component:" in summary and "invokes:" in summary


def _fresh(stack: str, **kwargs) -> engine.Plan:
    return engine.run(PROJECT_DIR, stackconfig.load(PROJECT_DIR, stack, **kwargs))


def test_render_is_deterministic() -> None:
    """A new run in this process equals the session's run of the same stack (possibly another process's).

    One stack, the largest: a run is a pure function of its configuration whatever the stack.
    """
    assert _fresh("prod").to_json() == run_program("prod").to_json()


@pytest.mark.usefixtures("session_runs")
@pytest.mark.parametrize("stack", ["prod"])
def test_secrets_never_appear_in_the_render(stack: str, tmp_path: Path) -> None:
    marker = "sk-live-NEVER-IN-RENDER-4242"
    code = cli.main(
        ["render", "--stack", stack, "--out", str(tmp_path), "--set-secret", f"providedSecrets.openaiApiKey={marker}"]
    )
    assert code == 0
    texts = [p.read_text() for p in tmp_path.rglob("*") if p.is_file()]
    assert texts and not any(marker in t for t in texts)
    assert not any(stackconfig.PLACEHOLDER_PREFIX in t for t in texts)
    doc = json.loads((tmp_path / "resources.json").read_text())
    secret = next(r for r in doc["resources"] if r["inputs"].get("secretName") == "openai-api-key")
    assert secret["inputs"]["properties"] == "[secret]"
    assert doc["outputs"]["kubeconfig"] == "[secret]"


def test_diff_reports_exactly_a_known_change() -> None:
    base = run_program("prod")
    head = run_program("prod", {"cluster.workloadPool.maxCount": "20"})
    result = plan_diff.diff(base, head)
    assert not result.added and not result.removed and not result.outputs
    assert [(c.type, c.name) for c in result.changed] == [
        ("azure-native:containerservice:AgentPool", "cluster-workload-pool")
    ]
    assert result.changed[0].paths == [("maxCount", 15, 20)]


def test_diff_of_nothing_is_empty() -> None:
    assert plan_diff.diff(run_program("dev"), run_program("dev")).empty


@pytest.mark.usefixtures("session_runs")
def test_diff_cli_json(capsys) -> None:
    assert cli.main(["diff", "--stack", "prod", "--set", "cluster.workloadPool.maxCount=20", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"] == {"add": 0, "change": 1, "delete": 0, "reorder": 0, "move": 0}
    assert doc["changed"][0]["changes"] == [{"path": "maxCount", "before": 15, "after": 20}]


@pytest.mark.usefixtures("session_runs")
def test_diff_against_a_git_ref_renders_that_commit(capsys) -> None:
    """The base is rendered from ``git archive`` of the ref, in its own process (its own module tree)."""
    if subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_DIR, capture_output=True).returncode != 0:
        pytest.skip("not a git checkout")
    code = cli.main(["diff", "--stack", "dev", "--base", "HEAD", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert set(doc) >= {"added", "removed", "changed", "summary"}
    assert cli.main(["diff", "--stack", "dev", "--base", "no-such-ref-xyz"]) == 2
    assert "no-such-ref-xyz" in capsys.readouterr().err


def test_bad_config_exits_2_with_one_line_and_no_traceback() -> None:
    proc = _cli("render", "--stack", "prod", "--set", "activeColor=purple")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert lines == [
        "Invalid configuration of stack 'prod': broxiva-platform:activeColor = 'purple': must be 'blue' or 'green'."
    ]
    assert "Traceback" not in proc.stdout + proc.stderr


def test_unknown_stack_exits_2(capsys) -> None:
    assert cli.main(["render", "--stack", "qa"]) == 2
    assert "Pulumi.qa.yaml" in capsys.readouterr().err


# ---------------------------------------------------------------- config merging, as the CLI does it


@pytest.mark.parametrize(
    ("path", "parts"),
    [
        ("activeColor", ["activeColor"]),
        ("colors.green.tag", ["colors", "green", "tag"]),
        ("apps.broxiva-api.replicas", ["apps", "broxiva-api", "replicas"]),
        ("dns.records[0].ttl", ["dns", "records", 0, "ttl"]),
        ('tags["cost.center"]', ["tags", "cost.center"]),
        ("broxiva-platform:canaryWeight", ["broxiva-platform:canaryWeight"]),
    ],
)
def test_parse_path(path: str, parts: list) -> None:
    assert stackconfig.parse_path(path) == parts


@pytest.mark.parametrize("bad", ["", "a..[x", "[0]"])
def test_parse_path_rejects(bad: str) -> None:
    with pytest.raises(stackconfig.StackConfigError):
        cfg = stackconfig.load(PROJECT_DIR, "dev", sets=[(bad, "1")])
        assert cfg  # pragma: no cover


@pytest.mark.parametrize(
    ("text", "value"), [("3", 3), ("true", True), ("green", "green"), ("[a, b]", ["a", "b"]), ("", "")]
)
def test_cli_values_are_read_as_yaml(text: str, value) -> None:
    assert stackconfig.parse_cli_value(text) == value


def test_defaults_merge_with_the_stack_file_and_secure_values_become_placeholders(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text(
        "name: demo\nruntime: python\nconfig:\n  a:\n    type: integer\n    default: 1\n  b:\n    type: string\n"
        "  c:\n    type: object\n    default: {}\n"
    )
    (tmp_path / "Pulumi.s.yaml").write_text(
        "secretsprovider: azurekeyvault://demo-kv.vault.azure.net/keys/demo-s\nconfig:\n  demo:b: x\n  demo:c:\n    inner:\n      secure: AAABAKqz\n  other:k: v\n"
    )
    cfg = stackconfig.load(tmp_path, "s", sets=[("a", "5")])
    assert cfg.values["demo:a"] == 5 and cfg.values["demo:b"] == "x" and cfg.values["other:k"] == "v"
    assert cfg.values["demo:c"]["inner"].startswith(stackconfig.PLACEHOLDER_PREFIX)
    assert cfg.secret_keys == {"demo:c"}
    assert cfg.encoded()["demo:a"] == "5" and json.loads(cfg.encoded()["demo:c"])["inner"]
    untouched = stackconfig.load(tmp_path, "s")
    assert untouched.values["demo:a"] == 1


def test_configuration_reference_is_up_to_date() -> None:
    from tools import config_docs

    assert config_docs.OUT.read_text() == config_docs.render(), "run: python -m tools.config_docs"
    assert "## `apps.<name>.autoscaling`" in config_docs.render()


# ---------------------------------------------------------------- the stack file's secrets provider


def _stack_file(tmp_path: Path, first_line: str | None) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: demo\nruntime: python\n")
    (tmp_path / "Pulumi.s.yaml").write_text((f"{first_line}\n" if first_line else "") + "config:\n  demo:a: 1\n")
    return tmp_path


@pytest.mark.parametrize(
    "value",
    [
        "azurekeyvault://broxiva-pulumi-kv.vault.azure.net/keys/pulumi-dev",
        "azurekeyvault://kv1.vault.azure.net/keys/pulumi-org/0123456789abcdef0123456789abcdef",
    ],
)
def test_secrets_provider_accepted(tmp_path: Path, value: str) -> None:
    assert stackconfig.load(_stack_file(tmp_path, f"secretsprovider: {value}"), "s").values["demo:a"] == 1


@pytest.mark.parametrize(
    "value",
    [
        "passphrase",
        "awskms://alias/pulumi",
        "azurekeyvault://kv.vault.azure.net/keys/k",  # a vault name has 3 characters at least
        "azurekeyvault://broxiva-kv.vault.azure.net/secrets/pulumi-dev",
        "azurekeyvault://broxiva-kv.vault.azure.net/keys/pulumi-dev/not-a-version",
        "azurekeyvault://broxiva-kv.vault.example.com/keys/pulumi-dev",
        "''",
    ],
)
def test_secrets_provider_refused_with_one_message(tmp_path: Path, value: str) -> None:
    with pytest.raises(stackconfig.StackConfigError) as err:
        stackconfig.load(_stack_file(tmp_path, f"secretsprovider: {value}"), "s")
    message = str(err.value)
    assert message.startswith("Pulumi.s.yaml: secretsprovider ") and stackconfig.SECRETS_PROVIDER_FORM in message
    assert repr(yaml.safe_load(value)) in message


def test_secrets_provider_required_unless_tolerated(tmp_path: Path) -> None:
    root = _stack_file(tmp_path, None)
    with pytest.raises(stackconfig.StackConfigError, match="secretsprovider is missing"):
        stackconfig.load(root, "s")
    assert stackconfig.load(root, "s", require_secrets_provider=False).values["demo:a"] == 1
    proc = _cli("render", "--project-dir", str(root), "--stack", "s")
    assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [
        f"error: Pulumi.s.yaml: secretsprovider is missing; set it to {stackconfig.SECRETS_PROVIDER_FORM} "
        "(without it the stack falls back to a passphrase)"
    ]


def test_every_stack_file_of_the_repository_names_its_key() -> None:
    files = sorted(PROJECT_DIR.glob("Pulumi.*.yaml")) + sorted(PROJECT_DIR.glob("*/Pulumi.*.yaml"))
    files = [f for f in files if (f.parent / "Pulumi.yaml").is_file()]
    assert {f.name for f in files} >= {f"Pulumi.{s}.yaml" for s in STACKS}
    for path in files:
        stackconfig.check_secrets_provider(path.name, yaml.safe_load(path.read_text()) or {})
