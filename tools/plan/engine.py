"""Run the real program (``__main__.py``) in-process under Pulumi's mock engine."""

from __future__ import annotations

import json
import os
import runpy
import sys
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.pulumi_sdk import settle_outputs, sync_await

from . import stackconfig
from .mocks import SECRET_MASK, PlausibleMocks, RecordingMonitor, mask_secrets, secret_digests

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

    def to_dict(self) -> dict[str, Any]:
        return {
            "schemaVersion": 1,
            "project": self.project,
            "stack": self.stack,
            "placeholders": self.placeholders,
            "resources": self.resources,
            "invokes": self.invokes,
            "outputs": self.outputs,
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Plan:
        return cls(
            doc["project"], doc["stack"], doc["resources"], doc["invokes"], doc["outputs"], doc.get("placeholders", [])
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


def run(project_dir: Path, cfg: stackconfig.OfflineConfig, *, fill_secrets: bool = True) -> Plan:
    """Run ``project_dir/__main__.py`` for ``cfg`` under mocks and return what it declared."""
    import pulumi
    from pulumi.runtime.mocks import MockEngine

    project_dir = project_dir.resolve()
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))
    if fill_secrets:
        _fill_required_secrets(project_dir, cfg)

    mocks = PlausibleMocks(cfg.stack)
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
            dry_run=False,
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
        if type(err).__name__ == "ConfigError":
            raise ProgramConfigError(str(err)) from None
        raise
    finally:
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    # An output that holds a secret anywhere is secret as a whole, as Output.from_input would make it.
    outputs = {
        key: SECRET_MASK if secret_digests(value) else _jsonable(value)
        for key, value in sorted(monitor.stack_outputs.items())
    }

    resources = []
    for reg in monitor.registrations:
        entry = dict(reg)
        entry["inputs"] = _jsonable(mask_secrets(reg["inputs"]))
        entry["secretDigests"] = secret_digests(reg["inputs"])
        resources.append(entry)
    # Registration order follows the event loop; the plan is ordered by URN so two runs compare equal.
    resources.sort(key=lambda r: r["urn"])
    invokes = [{"token": i["token"], "args": _jsonable(mask_secrets(i["args"]))} for i in monitor.invokes]
    invokes.sort(key=lambda i: (i["token"], json.dumps(i["args"], sort_keys=True)))
    return Plan(cfg.project, cfg.stack, resources, invokes, outputs, list(cfg.placeholders))
