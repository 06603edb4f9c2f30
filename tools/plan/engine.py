"""Run the real program (``__main__.py``) in-process under Pulumi's mock engine."""

from __future__ import annotations

import json
import os
import runpy
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.pulumi_sdk import settle_outputs, sync_await

from . import references, stackconfig
from .mocks import (
    SECRET_MASK,
    UNKNOWN_MASK,
    PlausibleMocks,
    RecordingMonitor,
    mask_secrets,
    secret_digests,
    unwrap_secrets,
)
from .shapes import contains_unknown

_CONFIG_ENV = ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS")


class ProgramConfigError(Exception):
    """The program refused the stack configuration (its one clear message)."""


@dataclass
class Plan:
    """Everything one run of the program declared, secrets masked, JSON-ready."""

    project: str
    stack: str
    resources: list[dict[str, Any]]
    invokes: list[dict[str, Any]]
    outputs: dict[str, Any]
    placeholders: list[str] = field(default_factory=list)
    preview: bool = False
    """A create preview of a new stack (``--first-preview``): provider-computed outputs are ``[unknown]``."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "schemaVersion": 1,
            "project": self.project,
            "stack": self.stack,
            "preview": self.preview,
            "placeholders": self.placeholders,
            "resources": self.resources,
            "invokes": self.invokes,
            "outputs": self.outputs,
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Plan:
        return cls(
            doc["project"],
            doc["stack"],
            doc["resources"],
            doc["invokes"],
            doc["outputs"],
            doc.get("placeholders", []),
            bool(doc.get("preview", False)),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    # Convenience lookups used by the tests and the renderers.
    def by_type(self, typ: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == typ]

    def one(self, typ: str, name: str) -> dict[str, Any]:
        found = [r for r in self.resources if r["type"] == typ and r["name"] == name]
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources of type {typ} named {name}")
        return found[0]

    def urn_of(self, urn: str) -> dict[str, Any]:
        return next(r for r in self.resources if r["urn"] == urn)


def _jsonable(value: Any) -> Any:
    """Numbers arrive as floats from the wire: integral floats become ints; resources become URNs."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _fill_required_secrets(project_dir: Path, cfg: stackconfig.OfflineConfig) -> None:
    """Offline there is no secrets provider: give each required, absent provided secret a placeholder."""
    try:
        from components import config as program_config
    except ImportError:  # pragma: no cover - a tree from before typed config
        return
    if getattr(program_config, "PROJECT", cfg.project) != cfg.project:
        return  # another project of the repository: its secrets are its own
    prefix = f"{cfg.project}:"
    raw = {k[len(prefix) :]: v for k, v in cfg.values.items() if k.startswith(prefix)}
    try:
        parsed = program_config.parse({k: v for k, v in raw.items()})
    except Exception:
        return
    provided = dict(raw.get("providedSecrets") or {})
    for secret in getattr(program_config, "PROVIDED_SECRETS", ()):
        if secret.key not in provided and secret.required_when and secret.required_when(parsed):
            provided[secret.key] = stackconfig.PLACEHOLDER_PREFIX + secret.key
            cfg.placeholders.append(f"{prefix}providedSecrets.{secret.key}")
    if provided:
        cfg.values[f"{prefix}providedSecrets"] = provided
        cfg.secret_keys.add(f"{prefix}providedSecrets")


def run(
    project_dir: Path,
    cfg: stackconfig.OfflineConfig,
    *,
    fill_secrets: bool = True,
    preview: bool = False,
    repo_root: Path | None = None,
    on_stack_outputs: Callable[[dict[str, Any]], None] | None = None,
) -> Plan:
    """Run ``project_dir/__main__.py`` for ``cfg`` under mocks and return what it declared.

    ``preview``: a create preview of a new stack (the engine's dry run: ``pulumi.runtime.is_dry_run()``),
    answered with the outputs the providers' previews give. ``repo_root``: where stack references are
    looked up (default: ``project_dir``'s repository, see tools.plan.references). ``on_stack_outputs``
    gets the stack outputs as the engine receives them (secrets wrapped, not masked).
    """
    import pulumi
    from pulumi.runtime.mocks import MockEngine

    project_dir = project_dir.resolve()
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))
    if fill_secrets:
        _fill_required_secrets(project_dir, cfg)

    resolver = references.Resolver(repo_root or references.repo_root_of(project_dir), cfg.stack, cfg.project)
    mocks = PlausibleMocks(cfg.stack, preview=preview, references=resolver)
    monitor = RecordingMonitor(mocks)
    # As the language host does (pulumi/pulumi sdk/python/cmd/pulumi-language-python-exec): the CLI passes
    # the config as PULUMI_CONFIG and its secret keys as PULUMI_CONFIG_SECRET_KEYS, and the host loads both
    # with set_all_config, configures the runtime, then runs the program with run_in_stack, which creates
    # the stack resource and registers its exports as the stack outputs.
    saved_env = {key: os.environ.get(key) for key in _CONFIG_ENV}
    os.environ["PULUMI_CONFIG"] = json.dumps(cfg.encoded(), sort_keys=True)
    os.environ["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(sorted(cfg.secret_keys))
    pulumi.runtime.set_all_config(pulumi.runtime.get_config_env(), pulumi.runtime.get_config_secret_keys_env())
    # reset_options forgets the stack of an earlier run in this process (run_in_stack creates a new one) and
    # starts from fresh settings: no RPCs or outputs left over from that run.
    pulumi.runtime.reset_options()
    pulumi.runtime.configure(
        pulumi.runtime.Settings(
            project=cfg.project,
            stack=cfg.stack,
            monitor=monitor,
            engine=MockEngine(None),
            dry_run=preview,
        )
    )

    main = project_dir / "__main__.py"

    def program() -> Awaitable[None]:
        runpy.run_path(str(main), run_name="__main__")
        # run_in_stack awaits what the program returns before the stack registers its outputs.
        return settle_outputs()

    try:
        sync_await(pulumi.runtime.run_in_stack(program))
    except pulumi.RunError as err:
        if mocks.errors:
            raise ProgramConfigError(mocks.errors[0]) from None
        if type(err).__name__ == "ConfigError":
            raise ProgramConfigError(str(err)) from None
        raise
    except Exception:
        if mocks.errors:
            raise ProgramConfigError(mocks.errors[0]) from None
        raise
    finally:
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    if mocks.errors:
        raise ProgramConfigError(mocks.errors[0])
    if on_stack_outputs is not None:
        on_stack_outputs(monitor.stack_outputs)

    # An output that holds a secret anywhere is secret as a whole, as Output.from_input would make it; one
    # that is not known yet is unknown as a whole.
    outputs = {
        key: SECRET_MASK if secret_digests(value) else UNKNOWN_MASK if contains_unknown(value) else _jsonable(value)
        for key, value in sorted(monitor.stack_outputs.items())
    }

    resources = []
    for reg in monitor.registrations:
        entry = dict(reg)
        entry["inputs"] = _jsonable(mask_secrets(reg["inputs"]))
        entry["outputs"] = _jsonable(mask_secrets(reg.get("outputs") or {}))
        entry["secretDigests"] = secret_digests(reg["inputs"])
        resources.append(entry)
    # Registration order follows the event loop; the plan is ordered by URN so two runs compare equal.
    resources.sort(key=lambda r: r["urn"])
    invokes = [{"token": i["token"], "args": _jsonable(mask_secrets(i["args"]))} for i in monitor.invokes]
    invokes.sort(key=lambda i: (i["token"], json.dumps(i["args"], sort_keys=True)))
    return Plan(cfg.project, cfg.stack, resources, invokes, outputs, list(cfg.placeholders), preview)


def stack_outputs(
    project_dir: Path, cfg: stackconfig.OfflineConfig, *, repo_root: Path | None = None
) -> tuple[dict[str, Any], set[str]]:
    """A stack's outputs as a StackReference reads them: values (offline secrets included) and secret names."""
    plan_outputs: dict[str, Any] = {}

    def keep(monitor_outputs: dict[str, Any]) -> None:
        plan_outputs.update(monitor_outputs)

    run(project_dir, cfg, repo_root=repo_root, on_stack_outputs=keep)
    secret = {key for key, value in plan_outputs.items() if secret_digests(value)}
    return {key: _jsonable(unwrap_secrets(value)) for key, value in plan_outputs.items()}, secret
