"""Shared pieces of the rules: value access that tolerates unknowns, config with defaults, policy builders.

Rule logic is written as plain functions so the same code runs under the Pulumi engine and in tests:

- resource rules: ``check(resource_type, props, urn, name, opts, config) -> Iterable[str]`` (one message
  per violation);
- stack rules: ``check(resources: list[StackResource], config) -> Iterable[tuple[str, str | None]]``
  (message and the URN of the offending resource).

``props`` are plain dicts and lists: the engine's unknown-checking proxies are unwrapped first and every
value that is not known yet (during a preview) becomes :data:`UNKNOWN`. Rules skip what is unknown.

Only the standard library and ``pulumi_policy`` are imported: the pack runs in its own environment.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)

# The unknown sentinels the engine sends during a preview, one per kind of value.
_UNKNOWN_SENTINELS = frozenset(
    {
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_STRING_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_OBJECT_VALUE,
    }
)


class _Unknown:
    """A value the engine does not know yet (computed during the update)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown>"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Any = _Unknown()


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN


def plain(value: Any) -> Any:
    """A deep copy of ``value`` as dicts and lists, unknown values (proxied or raw sentinels) as UNKNOWN,
    integral floats as ints."""
    # Plain JSON types first, by exact type: the abstract Mapping/Sequence checks below are the slow part,
    # and only the engine's proxies need them (reading a proxy's unknown value raises).
    kind = type(value)
    if kind is str:
        return UNKNOWN if value in _UNKNOWN_SENTINELS else value
    if kind is bool or kind is int or value is None:
        return value
    if kind is dict:
        return {key: plain(item) for key, item in value.items()}
    if kind is list:
        return [plain(item) for item in value]
    if isinstance(value, str):
        return UNKNOWN if value in _UNKNOWN_SENTINELS else value
    if isinstance(value, float) and value.is_integer():
        return int(value)  # numbers arrive as floats from the engine
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key in value:
            try:
                out[key] = plain(value[key])
            except UnknownValueError:
                out[key] = UNKNOWN
        return out
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        items: list[Any] = []
        for index in range(len(value)):
            try:
                items.append(plain(value[index]))
            except UnknownValueError:
                items.append(UNKNOWN)
        return items
    return value


def dig(value: Any, *path: str | int, default: Any = None) -> Any:
    """``value[path[0]][path[1]]...``; ``default`` when a step is missing, UNKNOWN when a step is unknown."""
    current = value
    for step in path:
        if current is UNKNOWN:
            return UNKNOWN
        if isinstance(step, int):
            if not isinstance(current, list) or not -len(current) <= step < len(current):
                return default
            current = current[step]
        else:
            if not isinstance(current, dict) or step not in current:
                return default
            current = current[step]
    return current


def as_list(value: Any) -> list[Any]:
    """A list value, or [] when absent or not a list (unknown lists are treated as empty)."""
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict[str, Any]:
    """A dict value, or {} when absent or not a dict (unknown objects are treated as empty)."""
    return value if isinstance(value, dict) else {}


def stack_of(urn: str) -> str | None:
    """The stack name in ``urn:pulumi:<stack>::<project>::<type>::<name>``."""
    match = re.match(r"^urn:pulumi:([^:]+)::", urn or "")
    return match.group(1) if match else None


def k8s_group_kind(resource_type: str) -> tuple[str, str] | None:
    """``kubernetes:apps/v1:Deployment`` -> ("apps", "Deployment"); core objects have group "core"."""
    match = re.match(r"^kubernetes:([^:]+)/[^/:]+:([A-Za-z0-9]+)$", resource_type)
    return (match.group(1), match.group(2)) if match else None


def display_name(props: Mapping[str, Any], name: str, *keys: str) -> str:
    """A resource's physical name for messages (first known of ``keys``, else metadata.name, else logical)."""
    for key in keys:
        value = props.get(key)
        if isinstance(value, str) and value:
            return value
    meta_name = dig(props, "metadata", "name")
    if isinstance(meta_name, str) and meta_name:
        return meta_name
    return name


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class Setting:
    """One configurable threshold of a rule, with its JSON schema and default."""

    key: str
    schema: dict[str, Any]
    default: Any
    description: str

    def property_schema(self) -> dict[str, Any]:
        return {**self.schema, "default": copy.deepcopy(self.default), "description": self.description}


def with_defaults(config: Mapping[str, Any] | None, settings: Sequence[Setting]) -> dict[str, Any]:
    """The rule's configuration: every setting's default, overridden by what the user configured."""
    merged = {s.key: copy.deepcopy(s.default) for s in settings}
    for key, value in (config or {}).items():
        if key in merged and value is not None:
            merged[key] = plain(value)
    return merged


# --------------------------------------------------------------------------- policy builders

ResourceCheck = Callable[[str, dict[str, Any], str, str, Any, dict[str, Any]], Iterable[str]]


@dataclass(frozen=True)
class StackResource:
    """A normalized stack resource: plain props (inputs in tests, outputs under the engine)."""

    resource_type: str
    props: dict[str, Any]
    urn: str
    name: str
    protect: bool = False
    parent: str | None = None
    dependencies: tuple[str, ...] = field(default_factory=tuple)


StackCheck = Callable[[list[StackResource], dict[str, Any]], Iterable[tuple[str, str | None]]]


def _schema(settings: Sequence[Setting]) -> PolicyConfigSchema | None:
    if not settings:
        return None
    return PolicyConfigSchema(properties={s.key: s.property_schema() for s in settings})


def resource_policy(
    *,
    name: str,
    description: str,
    check: ResourceCheck,
    resource_types: Iterable[str] | None,
    severity: Severity,
    remediation: str,
    settings: Sequence[Setting] = (),
    enforcement_level: EnforcementLevel = EnforcementLevel.MANDATORY,
) -> ResourceValidationPolicy:
    """A ResourceValidationPolicy running ``check`` on resources of ``resource_types`` (None: every type)."""
    types = frozenset(resource_types) if resource_types is not None else None

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if types is not None and args.resource_type not in types:
            return
        config = with_defaults(args.get_config(), settings)
        props = plain(args.props)
        for message in check(args.resource_type, props, args.urn, args.name, args.opts, config):
            report_violation(message, None)

    policy = ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=enforcement_level,
        config_schema=_schema(settings),
        severity=severity,
        remediation_steps=remediation,
    )
    policy.resource_types = types  # type: ignore[attr-defined]
    return _with_metadata(policy, check, settings)


def _with_metadata(policy, check: Callable, settings: Sequence[Setting]):
    """Keep the plain check and its settings on the policy, for tests and the adapter."""
    policy.check = check
    policy.settings = tuple(settings)
    return policy


def normalize(args: StackValidationArgs) -> list[StackResource]:
    """The stack's resources as plain StackResource values."""
    out = []
    for resource in args.resources:
        opts = resource.opts
        parent = resource.parent.urn if resource.parent is not None else getattr(opts, "parent", None)
        out.append(
            StackResource(
                resource_type=resource.resource_type,
                props=as_dict(plain(resource.props)),
                urn=resource.urn,
                name=resource.name,
                protect=bool(getattr(opts, "protect", False)),
                parent=parent,
                dependencies=tuple(d.urn for d in resource.dependencies or ()),
            )
        )
    return out


def stack_policy(
    *,
    name: str,
    description: str,
    check: StackCheck,
    severity: Severity,
    remediation: str,
    settings: Sequence[Setting] = (),
    enforcement_level: EnforcementLevel = EnforcementLevel.MANDATORY,
) -> StackValidationPolicy:
    """A StackValidationPolicy running ``check`` over the normalized resources of the stack."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        config = with_defaults(args.get_config(), settings)
        for message, urn in check(normalize(args), config):
            report_violation(message, urn)

    policy = StackValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=enforcement_level,
        config_schema=_schema(settings),
        severity=severity,
        remediation_steps=remediation,
    )
    return _with_metadata(policy, check, settings)


# --------------------------------------------------------------------------- shared settings


def string_list(key: str, default: list[str], description: str) -> Setting:
    return Setting(key, {"type": "array", "items": {"type": "string"}}, default, description)


def text(key: str, default: str, description: str) -> Setting:
    return Setting(key, {"type": "string", "minLength": 1}, default, description)


def integer(key: str, default: int, description: str, minimum: int = 0) -> Setting:
    return Setting(key, {"type": "integer", "minimum": minimum}, default, description)


def matches_prefix(value: str, allowed: Iterable[str]) -> bool:
    """``value`` equals an allowed entry, or starts with an entry that ends in '/' (a path prefix)."""
    stripped = value.rstrip("/")
    for entry in allowed:
        if not isinstance(entry, str) or not entry:
            continue
        if stripped == entry.rstrip("/") or (entry.endswith("/") and value.startswith(entry)):
            return True
    return False
