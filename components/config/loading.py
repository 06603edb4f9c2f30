"""Loading a stack's configuration: raw values from the engine, decoded, validated, or one clear error."""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pydantic import BaseModel, ValidationError

from ..names import PROJECT
from . import rules
from . import validation as v
from .errors import MISSING, ConfigError, FieldError
from .schema import Model, StackConfig
from .secrets import PROVIDED_BY_KEY, PROVIDED_SECRETS, vault_name


@dataclass(frozen=True)
class Platform:
    """The validated configuration plus the provided secrets, as Pulumi secret Outputs."""

    stack: str
    """The stack being deployed."""
    config: StackConfig
    """Everything the stack file says, validated."""
    provided_secrets: Mapping[str, pulumi.Output[str]]
    """Key Vault secret name -> secret Output, only for the secrets this stack provides."""


# How each top-level key arrives from the CLI: strings verbatim, everything else JSON-encoded.
STRING_KEYS = frozenset({"environment", "location", "resourceGroup", "namespace", "imageTagPattern", "activeColor"})
TOP_LEVEL_KEYS = frozenset(
    [StackConfig.model_fields[f].alias or f for f in StackConfig.model_fields] + ["providedSecrets"]
)


def _raw_config() -> dict[str, Any]:
    """Every ``broxiva-platform:*`` value the engine passed, as the raw strings it passed them.

    The language host hands the program its config as the ``PULUMI_CONFIG`` JSON and loads it with
    ``set_all_config`` (pulumi/pulumi ``sdk/python/cmd/pulumi-language-python-exec``); both are read here
    through the public ``pulumi.runtime`` API only.
    """
    prefix = PROJECT + ":"
    keys = {k for k in pulumi.runtime.get_config_env() if k.startswith(prefix)}
    keys |= {prefix + k for k in TOP_LEVEL_KEYS}
    values = {full[len(prefix) :]: pulumi.runtime.get_config(full) for full in sorted(keys)}
    return {k: val for k, val in values.items() if val is not None}


def _is_secret(key: str) -> bool:
    full = f"{PROJECT}:{key}"
    return pulumi.runtime.is_config_secret(full) or full in pulumi.runtime.get_config_secret_keys_env()


def _decode(key: str, raw: Any, stack: str | None) -> Any:
    if key in STRING_KEYS or not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        shown = "(hidden)" if key == "providedSecrets" else raw
        raise ConfigError(key, shown, "must be a YAML value of the documented shape (see Pulumi.yaml)", stack) from None


def parse(raw: Mapping[str, Any], stack: str | None = None) -> StackConfig:
    """Validate raw (already decoded) values into a StackConfig or raise ConfigError."""
    unknown = sorted(set(raw) - TOP_LEVEL_KEYS)
    if unknown:
        raise ConfigError(
            unknown[0], raw[unknown[0]], f"is not a known key (known: {', '.join(sorted(TOP_LEVEL_KEYS))})", stack
        )
    values = {k: val for k, val in raw.items() if k != "providedSecrets"}
    try:
        cfg = StackConfig.model_validate(values)
    except ValidationError as exc:
        raise first_error(exc, values, stack) from None
    except FieldError as problem:  # pragma: no cover - pydantic wraps these; kept for safety
        raise ConfigError(problem.field, problem.value, problem.allowed, stack) from None
    try:
        rules.check(cfg)
    except ConfigError as err:
        raise ConfigError(err.key, err.value, err.allowed, stack) from None
    return cfg


def first_error(
    exc: ValidationError,
    values: Mapping[str, Any],
    stack: str | None,
    root: type[BaseModel] = StackConfig,
    error_type: type[ConfigError] = ConfigError,
) -> ConfigError:
    """The one ConfigError for pydantic's first complaint about ``values`` (validated as ``root``): the key
    in the stack file's spelling, the value found there, and what is allowed, in plain words."""
    error = exc.errors(include_url=False)[0]
    loc = [str(p) for p in error["loc"]]
    ctx = error.get("ctx") or {}
    inner = ctx.get("error")
    if isinstance(inner, FieldError):
        path = ".".join([*loc, inner.field])
        return error_type(_dotted(path), inner.value, inner.allowed, stack)
    if loc and loc[-1] == "[key]":
        # A bad key of a map (apps.<name>, tags.<key>): name the map, show the key.
        message = re.sub(r"^Value error, ", "", str(error["msg"]))
        message = re.sub(r"^String should match pattern ", "must match ", message)
        return error_type(_dotted(".".join(loc[:-1])), loc[-2], f"is not an allowed key: it {message}", stack)
    path = _dotted(".".join(loc))
    value = _lookup(values, loc)
    kind = error["type"]
    if kind == "missing":
        return error_type(path, MISSING, "is required", stack)
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1], root)
        return error_type(path, value, f"is not a known key (known here: {', '.join(allowed)})", stack)
    message = str(error["msg"])
    message = re.sub(r"^Value error, ", "", message)
    message = re.sub(r"^Input should be ", "must be ", message)
    message = re.sub(r"^String should match pattern ", "must match ", message)
    message = re.sub(r"^String should have ", "must have ", message)
    message = re.sub(r"^Tuple should have ", "must have ", message)
    message = re.sub(r"a valid dictionary or instance of \w+", "a map of the documented keys", message)
    return error_type(path, value, message, stack)


def _dotted(path: str) -> str:
    # List indices read as key[0] rather than key.0.
    return re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", path)


def _lookup(values: Any, loc: list[str]) -> Any:
    current = values
    for part in loc:
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list | tuple) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return MISSING
    return current


def _allowed_keys(loc: list[str], root: type[BaseModel]) -> list[str]:
    model: Any = root
    for part in loc:
        if part.isdigit():
            continue
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            if getattr(model, "__origin__", None) is None and isinstance(model, type) and issubclass(model, Model):
                # A mapping of named entries (apps.<name>): the entry model follows.
                continue
            return []
        model = model_of(field.annotation)
        if model is None:
            return []
    if isinstance(model, type) and issubclass(model, BaseModel):
        return sorted((f.alias or n) for n, f in model.model_fields.items())
    return []


def model_of(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds, directly or inside Optional/Mapping/tuple: None for plain values."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = model_of(arg)
        if found is not None:
            return found
    return None


# What a preview declares in place of a required provided secret nobody has set yet. It never reaches Azure:
# the update run (dry_run false) stops with the missing key before declaring anything.
PREVIEW_PLACEHOLDER = "(not set yet)"


@dataclass(frozen=True)
class ProvidedSecrets:
    """The provided secrets of a stack, and the required ones still missing."""

    values: dict[str, pulumi.Output[str]]
    """Key Vault secret name -> secret Output (a placeholder for each missing one in a preview)."""
    missing: tuple[str, ...]
    """providedSecrets keys this stack requires that are not set."""


def missing_secrets_warning(missing: tuple[str, ...], stack: str | None) -> str:
    """The one warning a preview gives for required provided secrets that are not set."""
    keys = ", ".join(f"providedSecrets.{key}" for key in missing)
    return (
        f"required secrets not set: {keys}. This preview declares placeholders for them; `pulumi up` refuses "
        f"until each is set: pulumi config set --secret --path providedSecrets.<name> <value> "
        f"--stack {stack or '<stack>'}"
    )


def _provided(cfg: StackConfig, raw: Any, is_secret: bool, stack: str | None, *, preview: bool) -> ProvidedSecrets:
    """Validate providedSecrets. A missing required secret stops an update; a preview goes on without it."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError("providedSecrets", "(hidden)", "must be a map of secret values", stack)
    if raw and not is_secret:
        raise ConfigError(
            "providedSecrets",
            "(hidden)",
            "must be set with --secret: pulumi config set --secret --path providedSecrets.<name> <value>",
            stack,
        )
    unknown = sorted(set(raw) - set(PROVIDED_BY_KEY))
    if unknown:
        raise ConfigError(
            f"providedSecrets.{unknown[0]}",
            "(hidden)",
            f"is not a known secret (known: {', '.join(PROVIDED_BY_KEY)})",
            stack,
        )
    out: dict[str, pulumi.Output[str]] = {}
    missing: list[str] = []
    for secret in PROVIDED_SECRETS:
        value = raw.get(secret.key)
        if value is None or value == "":
            if secret.required_when and secret.required_when(cfg):
                if preview:
                    # Pull-request previews of a stack whose secrets are set later must still show the plan.
                    missing.append(secret.key or "")
                    out[vault_name(secret, cfg)] = pulumi.Output.secret(PREVIEW_PLACEHOLDER)
                    continue
                raise ConfigError(
                    f"providedSecrets.{secret.key}",
                    MISSING,
                    f"is required in {cfg.environment}: pulumi config set --secret --path "
                    f"providedSecrets.{secret.key} <value> --stack {stack or '<stack>'}",
                    stack,
                )
            continue
        if not isinstance(value, str):
            raise ConfigError(f"providedSecrets.{secret.key}", "(hidden)", "must be a string", stack)
        out[vault_name(secret, cfg)] = pulumi.Output.secret(value)
    return ProvidedSecrets(out, tuple(missing))


def other_address_spaces(project_dir: Path, stack: str) -> dict[str, str]:
    """Stack name -> network.addressSpace of every other stack file of the project that declares one."""
    spaces: dict[str, str] = {}
    for path in sorted(project_dir.glob("Pulumi.*.yaml")):
        other = path.name[len("Pulumi.") : -len(".yaml")]
        if other == stack:
            continue
        try:
            # The C loader where libyaml is present: this runs at the start of every program run.
            document = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
        except (OSError, yaml.YAMLError):
            continue  # another stack's broken file is that stack's error, reported when it runs
        network = ((document.get("config") or {}).get(f"{PROJECT}:network") or {}) if isinstance(document, dict) else {}
        space = network.get("addressSpace") if isinstance(network, dict) else None
        if isinstance(space, str) and v.cidr_problem(space) is None:
            spaces[other] = space
    return spaces


def check_other_stacks(cfg: StackConfig, stack: str | None, others: Mapping[str, str]) -> None:
    """The VNet must not overlap another environment's: peering, a VPN or a shared runner network needs every
    environment's range to be distinct."""
    for other, space in sorted(others.items()):
        if v.overlapping({"this": cfg.network.address_space, other: space}):
            raise ConfigError(
                "network.addressSpace",
                cfg.network.address_space,
                f"must not overlap stack {other}'s network.addressSpace ({space})",
                stack,
            )


def load(stack: str | None = None, project_dir: Path | None = None) -> Platform:
    """Read and validate this stack's configuration; the program's first step. ``project_dir``: where the
    other stacks' files are (their address spaces are checked against this one's)."""
    stack = stack or pulumi.get_stack()
    decoded = {k: _decode(k, val, stack) for k, val in _raw_config().items()}
    cfg = parse(decoded, stack)
    if project_dir is not None:
        check_other_stacks(cfg, stack, other_address_spaces(project_dir, stack))
    provided = _provided(
        cfg, decoded.get("providedSecrets"), _is_secret("providedSecrets"), stack, preview=pulumi.runtime.is_dry_run()
    )
    if provided.missing:
        pulumi.log.warn(missing_secrets_warning(provided.missing, stack))
    return Platform(stack, cfg, provided.values)
