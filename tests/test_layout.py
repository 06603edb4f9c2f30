"""The tree, the type tokens and the docs tell the same story.

Each component's type token ``broxiva:<layer>:<Name>`` names the folder it lives in; the README's layout
table and docs/architecture.md name only paths that exist and every layer that does.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import PROJECT_DIR

COMPONENTS = PROJECT_DIR / "components"
LAYERS = ("config", "azure", "k8s", "apps")
TOKEN = re.compile(r"^broxiva:(?P<layer>[a-z0-9]+):(?P<name>[A-Z][A-Za-z0-9]+)$")


def component_tokens() -> dict[str, Path]:
    """Type token -> module, for every ``super().__init__("broxiva:...", ...)`` of a ComponentResource."""
    found: dict[str, Path] = {}
    for path in sorted(COMPONENTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "__init__"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
                and node.args[0].value.startswith("broxiva:")
            ):
                token = node.args[0].value
                assert token not in found, f"{token} is declared twice ({found.get(token)} and {path})"
                found[token] = path
    return found


def layout_table() -> list[str]:
    """The backticked first cells of README.md's layout table."""
    text = (PROJECT_DIR / "README.md").read_text()
    section = text.split("## Layout", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [cell for row in rows for cell in re.findall(r"`([^`]+)`", row.split("|")[1])]


def test_every_component_lives_in_the_folder_its_token_names():
    tokens = component_tokens()
    assert len(tokens) >= 14, sorted(tokens)
    for token, path in tokens.items():
        match = TOKEN.match(token)
        assert match, f"{token} is not of the form broxiva:<layer>:<Name>"
        assert path.parent == COMPONENTS / match["layer"], f"{token} is declared in {path.relative_to(PROJECT_DIR)}"


def test_the_type_tokens_are_the_released_ones():
    # A token is part of every URN below it: renaming one replaces live resources. Add new ones here;
    # never edit or remove one (use aliases to move a component).
    released = {
        "broxiva:azure:Environment",
        "broxiva:azure:GatewayAddress",
        "broxiva:azure:AksCluster",
        "broxiva:azure:ContainerRegistry",
        "broxiva:azure:SecretVault",
        "broxiva:azure:DnsRecords",
        "broxiva:azure:WorkloadIdentity",
        "broxiva:k8s:AppNamespace",
        "broxiva:k8s:ExternalSecrets",
        "broxiva:k8s:CertManager",
        "broxiva:k8s:Edge",
        "broxiva:apps:BlueGreenService",
        "broxiva:apps:Worker",
        "broxiva:apps:Routes",
    }
    assert released <= set(component_tokens())


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_is_a_package_in_the_readme_and_the_architecture(layer):
    assert (COMPONENTS / layer / "__init__.py").is_file()
    assert f"components/{layer}/" in layout_table()
    assert f"`components/{layer}/`" in (PROJECT_DIR / "docs" / "architecture.md").read_text()


def test_components_hold_no_module_outside_the_layers():
    loose = sorted(p.name for p in COMPONENTS.glob("*.py") if p.name != "__init__.py")
    # Only what every layer shares may sit at the top: the shared names, the option helpers, and what the
    # platform monitors (config validates against it, azure and k8s declare it).
    assert loose == ["monitoring.py", "names.py", "options.py"]


def test_the_readme_layout_names_only_paths_that_exist():
    cells = layout_table()
    assert "components/names.py" in cells
    for cell in cells:
        for path in (p.strip() for p in cell.split(",")):
            if "<" in path:
                stem = path.split("<", 1)[0]
                assert list(PROJECT_DIR.glob(stem + "*")), f"README names {path}, nothing matches"
            else:
                assert (PROJECT_DIR / path.rstrip("/")).exists(), f"README names {path}, which does not exist"


def test_every_component_appears_in_the_architecture_diagram():
    text = (PROJECT_DIR / "docs" / "architecture.md").read_text()
    assert "```mermaid" in text
    for token in component_tokens():
        name = token.rsplit(":", 1)[1]
        assert name in text, f"docs/architecture.md does not show {name}"
