"""Every Pulumi SDK internal the offline harness and its tests rely on, in one place.

The program itself uses public APIs only. The harness (``tools/plan``) plays the engine's side of the
wire and the tests drive the policy pack the way the engine does, and both need a few names the SDKs do
not publish: the wire signature of secrets, the synchronous bridge into the SDK's event loop, property
(de)serialization, the generated protobuf modules, the mock monitor's bookkeeping and the policy pack's
analyzer servicer. They are all reached here, so an SDK upgrade that moves or reshapes one of them
breaks one module, and ``tests/test_pulumi_sdk.py`` names the installed version and the name that moved.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import importlib.metadata
from collections.abc import Awaitable
from typing import Any, TypeVar

try:
    from pulumi import _types as pulumi_types
    from pulumi.runtime import proto, rpc
    from pulumi.runtime.mocks import MockMonitor
    from pulumi.runtime.proto import resource_pb2
    from pulumi.runtime.settings import SETTINGS
    from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await
    from pulumi_policy.policy import _PolicyAnalyzerServicer

    # On the wire a secret is the map {SECRET_SIG_KEY: SECRET_SIG, "value": ...} (the engine's
    # sdk/go/common/resource/properties.go); the Python SDK keeps both strings private.
    SECRET_SIG_KEY: str = rpc._special_sig_key
    SECRET_SIG: str = rpc._special_secret_sig
    # An unknown value on the wire (computed during the update), the engine's UnknownStringValue.
    UNKNOWN: str = rpc.UNKNOWN
except (ImportError, AttributeError) as err:
    # Everything that imports the harness lands here first: say which SDK moved what.
    _versions = ", ".join(f"{d} {importlib.metadata.version(d)}" for d in ("pulumi", "pulumi-policy"))
    raise ImportError(f"a Pulumi SDK internal moved ({_versions}): {err}; tools/pulumi_sdk.py needs updating") from err

__all__ = [
    "SECRET_SIG",
    "SECRET_SIG_KEY",
    "UNKNOWN",
    "PolicyAnalyzerServicer",
    "declared_outputs",
    "deserialize_properties",
    "ensure_event_loop",
    "mock_urn",
    "output_type_fields",
    "proto",
    "remember_mock_resource",
    "resource_class",
    "resource_pb2",
    "serialize_properties",
    "settle_outputs",
    "sync_await",
    "unwrap_type",
]

T = TypeVar("T")

# Deserializing resource references needs an event loop on the calling thread, and the mock monitor's
# handlers run on executor threads that have none.
ensure_event_loop = _ensure_event_loop

serialize_properties = rpc.serialize_properties
deserialize_properties = rpc.deserialize_properties

# The servicer the policy pack's host serves to the engine; tests feed it the engine's own requests.
PolicyAnalyzerServicer = _PolicyAnalyzerServicer


def sync_await(awaitable: Awaitable[T]) -> T:
    """Wait for ``awaitable`` on the SDK's event loop, also from inside a running task (as the SDK does)."""
    return _sync_await(awaitable)


def mock_urn(monitor: MockMonitor, parent: str, type_: str, name: str) -> str:
    """The URN the mock monitor gives a resource, so recorded URNs are the ones the SDK hands back."""
    return monitor.make_urn(parent, type_, name)


def remember_mock_resource(monitor: MockMonitor, urn: str, id_: str, state: dict[str, Any]) -> None:
    """Keep a registration where the mock monitor answers ``pulumi:pulumi:getResource`` invokes from."""
    monitor.resources[urn] = MockMonitor.ResourceRegistration(urn, id_, state)


async def settle_outputs() -> None:
    """Wait, in rounds, until every Output the program made so far has a value (or failed).

    After the program returns, the SDK's ``wait_for_rpcs`` (pulumi ``runtime/stack.py``) waits on its set of
    pending Outputs with ``FIRST_COMPLETED``, one event-loop step per round over the whole set: fine for a
    real deployment, where a step waits on the engine, but quadratic under mocks, where the set holds
    thousands of Outputs that resolve a few at a time. Waiting for the whole set at once first gives the
    same result in a handful of rounds. Failures stay in the set, so ``wait_for_rpcs`` still raises them.
    """
    while True:
        with SETTINGS.lock:
            pending = [task for task in SETTINGS.outputs if not task.done()]
        if not pending:
            return
        await asyncio.wait(pending)


@functools.cache
def resource_class(token: str) -> type | None:
    """The SDK class of a resource type token (``azure-native:keyvault:Secret``), None when no SDK declares it.

    Each generated provider SDK registers its modules with the runtime (``_utilities.register``: the
    ``pulumi.runtime.register_resource_module`` of every module, with ``mod_info`` naming the module's
    ``fqn`` and its ``classes`` by token); the runtime looks classes up there to rebuild resource references.
    Custom resources of CRDs (``kubernetes:cert-manager.io/v1:Certificate``) and engine types have none.
    """
    parts = token.split(":")
    if len(parts) != 3:
        return None
    package, module_name, _ = parts
    try:
        importlib.import_module("pulumi_" + package.replace("-", "_"))
    except ImportError:
        return None
    module = rpc.get_resource_module(package, module_name, "")
    info = getattr(module, "mod_info", None) if module is not None else None
    if not isinstance(info, dict) or token not in info.get("classes", {}):
        return None
    found = getattr(importlib.import_module(info["fqn"]), info["classes"][token], None)
    return found if isinstance(found, type) else None


def declared_outputs(resource_cls: type) -> dict[str, Any]:
    """Pulumi name -> Python type of every output a resource class declares (its ``@pulumi.getter`` properties).

    The SDK reads the same table to turn the engine's outputs into the class's types (``rpc.resolve_outputs``).
    """
    return dict(pulumi_types.resource_types(resource_cls))


def output_type_fields(cls: Any) -> dict[str, Any] | None:
    """Pulumi name -> type of the properties of an ``@pulumi.output_type`` class; None for any other type."""
    if isinstance(cls, type) and pulumi_types.is_output_type(cls):
        return dict(pulumi_types.output_type_types(cls))
    return None


def unwrap_type(hint: Any) -> Any:
    """``T`` of ``Output[T]``, ``Optional[T]`` and ``Input[T]``, as the SDK unwraps them."""
    return pulumi_types.unwrap_type(hint)
