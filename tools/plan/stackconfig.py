"""Build the configuration the Pulumi CLI would hand the program, offline.

``Pulumi.yaml`` defaults are merged with ``Pulumi.<stack>.yaml`` (the CLI does
this, not the SDK); keys get the project prefix; non-string values are
JSON-encoded; ``secure:`` values become clearly fake placeholders that stay
marked secret. ``--set`` takes ``--path``-style keys like ``colors.green.tag``.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PLACEHOLDER_PREFIX = "offline-placeholder-"

# The stacks of this repository keep their secrets encrypted with a Key Vault key: without the key a stack
# on a DIY backend (azblob://) would fall back to a passphrase (PULUMI_CONFIG_PASSPHRASE). The URL is the
# Pulumi CLI's azurekeyvault:// secrets provider: a vault host and a key, optionally pinned to a version.
# Vault names: 3-24 letters, digits and hyphens, starting with a letter; key names: 1-127 letters, digits
# and hyphens; a key version is 32 hex digits.
SECRETS_PROVIDER_KEY = "secretsprovider"
SECRETS_PROVIDER_FORM = "azurekeyvault://<vault>.vault.azure.net/keys/<key>[/<version>]"
_SECRETS_PROVIDER = re.compile(
    r"azurekeyvault://[a-z][a-z0-9-]{1,22}[a-z0-9]\.vault\.azure\.net/keys/[A-Za-z0-9-]{1,127}(/[0-9a-f]{32})?",
    re.IGNORECASE,
)


class StackConfigError(Exception):
    """The stack file or a --set argument cannot be read (not a validation failure)."""


@dataclass
class OfflineConfig:
    project: str
    stack: str
    values: dict[str, Any]
    """Fully qualified key -> decoded value (dicts, lists, scalars) before encoding."""
    secret_keys: set[str] = field(default_factory=set)
    placeholders: list[str] = field(default_factory=list)
    """Paths whose value is an offline placeholder for a secret."""

    def encoded(self) -> dict[str, str]:
        """Values as the engine passes them: strings verbatim, everything else as JSON."""
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in self.values.items()}


_PATH_TOKEN = re.compile(r'\["([^"]+)"\]|\[(\d+)\]|([^.\[\]]+)')


def parse_path(path: str) -> list[str | int]:
    """Split a ``--path`` key (``apps.broxiva-api.replicas``, ``dns.records[0].ttl``)."""
    parts: list[str | int] = []
    pos = 0
    while pos < len(path):
        if path[pos] == ".":
            pos += 1
            continue
        match = _PATH_TOKEN.match(path, pos)
        if not match:
            raise StackConfigError(f"cannot parse config path {path!r}")
        quoted, index, plain = match.groups()
        parts.append(int(index) if index is not None else (quoted if quoted is not None else plain))
        pos = match.end()
    if not parts:
        raise StackConfigError(f"empty config path {path!r}")
    return parts


def _qualify(project: str, key: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _set_path(values: dict[str, Any], project: str, path: str, value: Any, *, delete: bool = False) -> str:
    """Set (or delete) a value at a --path key; returns the fully qualified top-level key."""
    parts = parse_path(path)
    head = parts[0]
    if not isinstance(head, str):
        raise StackConfigError(f"config path {path!r} must start with a key")
    top = _qualify(project, head)
    if len(parts) == 1:
        if delete:
            values.pop(top, None)
        else:
            values[top] = value
        return top
    container = values.setdefault(top, {} if isinstance(parts[1], str) else [])
    for part, following in itertools.pairwise(parts[1:]):
        container = _step(container, part, {} if isinstance(following, str) else [], path)
    last = parts[-1]
    if delete:
        if isinstance(container, dict):
            container.pop(last, None)
        elif isinstance(container, list) and isinstance(last, int) and last < len(container):
            container.pop(last)
        return top
    if isinstance(container, dict) and isinstance(last, str):
        container[last] = value
    elif isinstance(container, list) and isinstance(last, int):
        while len(container) <= last:
            container.append(None)
        container[last] = value
    else:
        raise StackConfigError(f"config path {path!r} does not fit the value's shape")
    return top


def _step(container: Any, part: str | int, empty: Any, path: str) -> Any:
    if isinstance(container, dict) and isinstance(part, str):
        if not isinstance(container.get(part), dict | list):
            container[part] = empty
        return container[part]
    if isinstance(container, list) and isinstance(part, int):
        while len(container) <= part:
            container.append(None)
        if not isinstance(container[part], dict | list):
            container[part] = empty
        return container[part]
    raise StackConfigError(f"config path {path!r} does not fit the value's shape")


def _replace_secure(value: Any, path: str, found: list[str]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            found.append(path)
            return PLACEHOLDER_PREFIX + re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-")
        return {k: _replace_secure(v, f"{path}.{k}", found) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_secure(v, f"{path}[{i}]", found) for i, v in enumerate(value)]
    return value


def parse_cli_value(text: str) -> Any:
    """Values of --set are read as YAML scalars or flow collections (3, true, [a, b], {a: 1})."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return text if value is None and text not in ("null", "~") else value


def check_secrets_provider(stack_file: str, doc: dict[str, Any], *, required: bool = True) -> None:
    """The stack file's ``secretsprovider``: a Key Vault key (see SECRETS_PROVIDER_FORM), required unless told."""
    if SECRETS_PROVIDER_KEY not in doc:
        if required:
            raise StackConfigError(
                f"{stack_file}: {SECRETS_PROVIDER_KEY} is missing; set it to {SECRETS_PROVIDER_FORM} "
                "(without it the stack falls back to a passphrase)"
            )
        return
    value = doc[SECRETS_PROVIDER_KEY]
    if not isinstance(value, str) or not _SECRETS_PROVIDER.fullmatch(value):
        raise StackConfigError(
            f"{stack_file}: {SECRETS_PROVIDER_KEY} {value!r} is not allowed; use {SECRETS_PROVIDER_FORM} "
            "(a Key Vault key, optionally with its 32-hex-digit version)"
        )


def load(
    project_dir: Path,
    stack: str,
    sets: list[tuple[str, str]] | None = None,
    secret_sets: list[tuple[str, str]] | None = None,
    unsets: list[str] | None = None,
    *,
    require_secrets_provider: bool = True,
) -> OfflineConfig:
    """Merge Pulumi.yaml defaults, the stack file and --set/--unset, as the CLI would.

    The stack file must name its secrets provider (check_secrets_provider); ``require_secrets_provider=False``
    tolerates a stack file without one (a tree from before the key existed), never a wrong one.
    """
    project_file = project_dir / "Pulumi.yaml"
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.exists():
        known = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))
        raise StackConfigError(f"no stack file {stack_file.name} (stacks: {', '.join(known)})")
    project_doc = yaml.safe_load(project_file.read_text()) or {}
    project = project_doc["name"]
    values: dict[str, Any] = {}
    secret_keys: set[str] = set()
    for key, decl in (project_doc.get("config") or {}).items():
        if isinstance(decl, dict) and "default" in decl:
            values[_qualify(project, key)] = decl["default"]
        elif not isinstance(decl, dict):
            values[_qualify(project, key)] = decl
    stack_doc = yaml.safe_load(stack_file.read_text()) or {}
    if not isinstance(stack_doc, dict):
        raise StackConfigError(f"{stack_file.name} is not a mapping")
    check_secrets_provider(stack_file.name, stack_doc, required=require_secrets_provider)
    placeholders: list[str] = []
    for key, value in (stack_doc.get("config") or {}).items():
        full = _qualify(project, key)
        found: list[str] = []
        values[full] = _replace_secure(value, full, found)
        if found:
            secret_keys.add(full)
            placeholders.extend(found)
    for path in unsets or []:
        _set_path(values, project, path, None, delete=True)
    for path, text in sets or []:
        _set_path(values, project, path, parse_cli_value(text))
    for path, text in secret_sets or []:
        secret_keys.add(_set_path(values, project, path, text))
    return OfflineConfig(project, stack, values, secret_keys, placeholders)


def split_assignment(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise StackConfigError(f"expected KEY=VALUE, got {text!r}")
    key, _, value = text.partition("=")
    return key.strip(), value
