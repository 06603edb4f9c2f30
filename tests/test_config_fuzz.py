"""Property test: any mutation of a real stack file is accepted or refused with one ConfigError.

A mutation picks an existing path of a stack's ``broxiva-platform`` values (nested keys and list
indices included) and replaces the value there, deletes it, or adds an unknown key next to it.
Whatever the result, ``components.config.parse`` must return a StackConfig or raise ConfigError;
any other exception is a defect.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from components import config
from tests.conftest import PROJECT_DIR, STACKS
from tools.plan import stackconfig

PREFIX = f"{config.PROJECT}:"
KeyPath = tuple[str | int, ...]


@cache
def _base(stack: str) -> dict[str, Any]:
    loaded = stackconfig.load(PROJECT_DIR, stack)
    return {key[len(PREFIX) :]: value for key, value in loaded.values.items() if key.startswith(PREFIX)}


def base_config(stack: str) -> dict[str, Any]:
    return copy.deepcopy(_base(stack))


def paths(tree: Any, prefix: KeyPath = ()) -> list[KeyPath]:
    """Every path below ``tree``: map keys and list indices, in document order."""
    found: list[KeyPath] = []
    if isinstance(tree, dict):
        items: list[tuple[str | int, Any]] = list(tree.items())
    elif isinstance(tree, list):
        items = list(enumerate(tree))
    else:
        return found
    for key, child in items:
        found.append((*prefix, key))
        found.extend(paths(child, (*prefix, key)))
    return found


def maps(tree: Any, prefix: KeyPath = ()) -> list[KeyPath]:
    """Every path whose value is a map (the root included), where a key can be added."""
    found: list[KeyPath] = [prefix] if isinstance(tree, dict) else []
    children = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(tree, list) else ()
    for key, child in children:
        found.extend(maps(child, (*prefix, key)))
    return found


def leaves(tree: Any) -> list[Any]:
    if isinstance(tree, dict):
        return [leaf for child in tree.values() for leaf in leaves(child)]
    if isinstance(tree, list):
        return [leaf for child in tree for leaf in leaves(child)]
    return [tree]


def parent_of(tree: dict[str, Any], path: KeyPath) -> Any:
    node: Any = tree
    for part in path[:-1]:
        node = node[part]
    return node


# Strings that are close to values the rules care about.
INTERESTING_STRINGS = [
    "",
    " ",
    "latest",
    "LATEST",
    "v1.4.2",
    "dev-3f2c1a9",
    "staging-1.5.0",
    "blue",
    "green",
    "red",
    "1.34",
    "Standard_D2s_v3",
    "Free",
    "production",
    "250m",
    "1Gi",
    "0.5",
    "-1",
    "10.0.0.0/8",
    "10.0.0.10",
    "::1",
    "*.broxiva.com",
    "broxiva.com",
    "api.example.com",
    "5b7a4c1e-3f0d-4a8e-9b6c-2d1e0f3a4b5c",
    "@",
    "(",
    ".*",
    "null",
    "{}",
    "[]",
    "true",
    "a" * 300,
    "ünïcödé",
    "line\nbreak",
]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-10, max_value=1100),
    st.integers(min_value=2**63, max_value=2**200),
    st.integers(max_value=-1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(INTERESTING_STRINGS),
    st.text(max_size=40),
)
# Maps may have non-string keys, as YAML allows ({1: a}); the program gets whatever the file holds.
map_keys = st.one_of(st.text(max_size=12), st.integers(min_value=-5, max_value=5))
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(map_keys, children, max_size=4),
    ),
    max_leaves=10,
)


class Mutated:
    """A stack's values after some changes; shown by its changes alone."""

    def __init__(self, stack: str, raw: dict[str, Any]):
        self.stack = stack
        self.raw = raw
        self.changes: list[str] = []

    def __repr__(self) -> str:
        return f"Mutated(stack={self.stack!r}, changes={self.changes!r})"


@st.composite
def mutated_configs(draw: st.DrawFn) -> Mutated:
    stack = draw(st.sampled_from(STACKS))
    mutated = Mutated(stack, base_config(stack))
    for _ in range(draw(st.integers(min_value=1, max_value=2))):
        raw = mutated.raw
        action = draw(st.sampled_from(["replace", "replace", "swap", "delete", "add"]))
        if action == "add":
            where = draw(st.sampled_from(maps(raw)))
            container = raw
            for part in where:
                container = container[part]
            # Top-level keys always come as strings (the CLI qualifies them); nested ones may not.
            key = draw(st.text(min_size=1, max_size=12) if not where else map_keys)
            value = draw(values)
            container[key] = value
            mutated.changes.append(f"add {[*where, key]} = {value!r}")
            continue
        path = draw(st.sampled_from(paths(raw)))
        parent = parent_of(raw, path)
        if action == "delete":
            del parent[path[-1]]
            mutated.changes.append(f"delete {list(path)}")
            continue
        # swap: a value taken from elsewhere in the same stack (right type, wrong place).
        value = draw(st.sampled_from(leaves(raw))) if action == "swap" else draw(values)
        parent[path[-1]] = copy.deepcopy(value)
        mutated.changes.append(f"set {list(path)} = {value!r}")
    return mutated


def test_base_paths_cover_nested_keys_and_indices():
    found = set(paths(base_config("prod")))
    assert ("cluster", "systemPool", "minCount") in found
    assert ("dns", "records", 4, "value") in found
    assert ("cluster", "availabilityZones", 2) in found
    assert ("apps", "broxiva-worker", "command", 1) in found
    assert ("dns",) in set(maps(base_config("prod")))


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_configs())
def test_any_mutation_is_accepted_or_refused_with_a_config_error(mutated):
    try:
        result = config.parse(mutated.raw, mutated.stack)
    except config.ConfigError as err:
        message = str(err)
        event("refused")
        assert message.startswith("Invalid configuration"), message
        assert "broxiva-platform:" in message, message
    else:
        event("accepted")
        assert isinstance(result, config.StackConfig)
