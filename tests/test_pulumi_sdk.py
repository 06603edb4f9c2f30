"""The Pulumi SDK internals behind tools/pulumi_sdk.py are still there, with the shape it relies on.

Each test looks the internal up in the installed SDK itself, so when an upgrade moves or reshapes one the
failure names the SDK version and the name (not an ImportError somewhere in the harness). The last tests
keep the rule that only tools/pulumi_sdk.py reaches into SDK internals.
"""

from __future__ import annotations

import ast
import asyncio
import contextvars
import importlib
import importlib.metadata
import importlib.util
import inspect
import threading
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi.runtime
import pytest
from google.protobuf import struct_pb2

PROJECT_DIR = Path(__file__).resolve().parents[1]
SHIM = PROJECT_DIR / "tools" / "pulumi_sdk.py"
SCANNED = ("components", "__main__.py", "tools", "policy", "tests")

SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


def _fail(dist: str, name: str, problem: str) -> None:
    version = importlib.metadata.version(dist)
    pytest.fail(f"{dist} {version}: {name} {problem}; tools/pulumi_sdk.py relies on it and needs updating")


def _internal(dist: str, module: str, name: str) -> Any:
    """``module.name`` from the installed SDK, or a failure naming the SDK version and the name."""
    try:
        found = importlib.import_module(module)
    except ImportError as err:
        _fail(dist, f"{module}.{name}", f"cannot be imported ({err})")
    if not hasattr(found, name):
        _fail(dist, f"{module}.{name}", "is gone")
    return getattr(found, name)


def _expect(condition: bool, dist: str, name: str, shape: str) -> None:
    if not condition:
        _fail(dist, name, f"is no longer {shape}")


def _shim() -> types.ModuleType:
    try:
        return importlib.import_module("tools.pulumi_sdk")
    except (ImportError, AttributeError) as err:
        versions = ", ".join(f"{d} {importlib.metadata.version(d)}" for d in ("pulumi", "pulumi-policy"))
        pytest.fail(f"tools/pulumi_sdk.py does not import with {versions}: {err}")


class _NoMocks(pulumi.runtime.Mocks):
    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", args.inputs


def _isolated(fn: Any) -> Any:
    """Run ``fn`` in a copy of the current context: the SDK's settings are context variables."""
    return contextvars.copy_context().run(fn)


# --------------------------------------------------------------------------- the shimmed names


def test_secret_signature_key():
    key = _internal("pulumi", "pulumi.runtime.rpc", "_special_sig_key")
    _expect(key == SECRET_SIG_KEY, "pulumi", "pulumi.runtime.rpc._special_sig_key", f"the constant {SECRET_SIG_KEY}")
    assert key == _shim().SECRET_SIG_KEY


def test_secret_signature():
    sig = _internal("pulumi", "pulumi.runtime.rpc", "_special_secret_sig")
    _expect(sig == SECRET_SIG, "pulumi", "pulumi.runtime.rpc._special_secret_sig", f"the constant {SECRET_SIG}")
    shim = _shim()
    assert sig == shim.SECRET_SIG
    # The SDK's own deserializer reads that map as a secret and keeps it wrapped, the way the harness sees it.
    wire = struct_pb2.Struct()
    wire.update({"password": {SECRET_SIG_KEY: SECRET_SIG, "value": "hunter2"}})
    _expect(
        shim.deserialize_properties(wire) == {"password": {SECRET_SIG_KEY: SECRET_SIG, "value": "hunter2"}},
        "pulumi",
        "pulumi.runtime.rpc.deserialize_properties",
        f"keeping a secret as {{{SECRET_SIG_KEY}: {SECRET_SIG}, 'value': ...}}",
    )


def test_sync_await():
    fn = _internal("pulumi", "pulumi.runtime.sync_await", "_sync_await")
    _expect(callable(fn), "pulumi", "pulumi.runtime.sync_await._sync_await", "callable")

    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    _expect(fn(answer()) == 42, "pulumi", "pulumi.runtime.sync_await._sync_await", "returning the awaited result")
    assert _shim().sync_await(answer()) == 42


def test_ensure_event_loop():
    fn = _internal("pulumi", "pulumi.runtime.sync_await", "_ensure_event_loop")
    _expect(callable(fn), "pulumi", "pulumi.runtime.sync_await._ensure_event_loop", "callable")
    assert _shim().ensure_event_loop is fn
    # The monitor's handlers run on executor threads: a thread with no loop must get one.
    found: list[Any] = []
    thread = threading.Thread(target=lambda: found.append(fn()))
    thread.start()
    thread.join()
    _expect(
        len(found) == 1 and isinstance(found[0], asyncio.AbstractEventLoop),
        "pulumi",
        "pulumi.runtime.sync_await._ensure_event_loop",
        "returning an event loop on a thread that has none",
    )
    found[0].close()


def test_serialize_and_deserialize_properties():
    serialize = _internal("pulumi", "pulumi.runtime.rpc", "serialize_properties")
    deserialize = _internal("pulumi", "pulumi.runtime.rpc", "deserialize_properties")
    _expect(
        inspect.iscoroutinefunction(serialize),
        "pulumi",
        "pulumi.runtime.rpc.serialize_properties",
        "a coroutine function",
    )
    _expect(
        list(inspect.signature(serialize).parameters)[:2] == ["inputs", "property_deps"],
        "pulumi",
        "pulumi.runtime.rpc.serialize_properties",
        "taking (inputs, property_deps, ...)",
    )
    _expect(callable(deserialize), "pulumi", "pulumi.runtime.rpc.deserialize_properties", "callable")
    shim = _shim()
    assert shim.serialize_properties is serialize
    assert shim.deserialize_properties is deserialize
    value = {"name": "api", "replicas": 3, "labels": {"app": "api"}, "ports": [80, 443]}
    wire = shim.sync_await(shim.serialize_properties(value, {}))
    _expect(isinstance(wire, struct_pb2.Struct), "pulumi", "pulumi.runtime.rpc.serialize_properties", "a Struct")
    _expect(
        shim.deserialize_properties(wire) == value,
        "pulumi",
        "pulumi.runtime.rpc.deserialize_properties",
        "the inverse of serialize_properties",
    )


def test_resource_protobufs():
    module = _internal("pulumi", "pulumi.runtime.proto", "resource_pb2")
    assert _shim().resource_pb2 is module
    used = {
        "RegisterResourceRequest": {
            "type",
            "name",
            "parent",
            "custom",
            "provider",
            "protect",
            "dependencies",
            "ignoreChanges",
            "deleteBeforeReplace",
            "additionalSecretOutputs",
            "aliases",
            "object",
            "importId",
        },
        "RegisterResourceResponse": {"urn", "id", "object"},
        "RegisterResourceOutputsRequest": {"urn", "outputs"},
        "ResourceInvokeRequest": {"tok", "args"},
    }
    for message, fields in used.items():
        cls = getattr(module, message, None)
        if cls is None:
            _fail("pulumi", f"pulumi.runtime.proto.resource_pb2.{message}", "is gone")
        missing = fields - set(cls.DESCRIPTOR.fields_by_name)
        _expect(not missing, "pulumi", f"pulumi.runtime.proto.resource_pb2.{message}", f"having {sorted(missing)}")


def test_analyzer_protobufs():
    module = _internal("pulumi", "pulumi.runtime", "proto")
    _expect(isinstance(module, types.ModuleType), "pulumi", "pulumi.runtime.proto", "a module")
    assert _shim().proto is module
    for name in (
        "ConfigureAnalyzerRequest",
        "PolicyConfig",
        "AnalyzerResourceOptions",
        "AnalyzerProviderResource",
        "AnalyzeRequest",
        "AnalyzeStackRequest",
        "AnalyzerResource",
        "MANDATORY",
        "ADVISORY",
    ):
        _expect(hasattr(module, name), "pulumi", f"pulumi.runtime.proto.{name}", "exported")


def test_settle_outputs():
    settings = _internal("pulumi", "pulumi.runtime.settings", "SETTINGS")
    shim = _shim()

    def settle() -> tuple[bool, Any]:
        pulumi.runtime.reset_options(project="proj", stack="dev")
        _expect(
            isinstance(settings.outputs, set) and hasattr(settings.lock, "acquire"),
            "pulumi",
            "pulumi.runtime.settings.SETTINGS.outputs/.lock",
            "a set of pending Output tasks guarded by a lock",
        )

        async def chain() -> Any:
            # An Output that another one's apply makes only once the first has a value: settling must wait
            # for both rounds, as wait_for_rpcs would.
            later: list[pulumi.Output[Any]] = []
            pulumi.Output.from_input(asyncio.sleep(0, "a")).apply(
                lambda v: later.append(pulumi.Output.from_input(asyncio.sleep(0, v + "b"))) or v
            )
            await shim.settle_outputs()
            pending = [t for t in settings.outputs if not t.done()]
            return not pending and len(later) == 1, await later[0].future() if later else None

        return shim.sync_await(chain())

    settled, value = _isolated(settle)
    _expect(settled and value == "ab", "pulumi", "pulumi.runtime.settings.SETTINGS.outputs", "tracking every Output")


def test_mock_monitor_bookkeeping():
    monitor_class = _internal("pulumi", "pulumi.runtime.mocks", "MockMonitor")
    registration = getattr(monitor_class, "ResourceRegistration", None)
    _expect(
        registration is not None and getattr(registration, "_fields", None) == ("urn", "id", "state"),
        "pulumi",
        "pulumi.runtime.mocks.MockMonitor.ResourceRegistration",
        "a NamedTuple (urn, id, state)",
    )
    monitor = monitor_class(_NoMocks())
    _expect(
        isinstance(getattr(monitor, "resources", None), dict),
        "pulumi",
        "pulumi.runtime.mocks.MockMonitor.resources",
        "a dict",
    )
    _shim().remember_mock_resource(monitor, "urn:pulumi:s::p::t::n", "n-id", {"a": 1})
    # getResource invokes are answered from the registrations the public accessor returns.
    _expect(
        monitor.get_registered_resources() == {"urn:pulumi:s::p::t::n": ("urn:pulumi:s::p::t::n", "n-id", {"a": 1})},
        "pulumi",
        "pulumi.runtime.mocks.MockMonitor.resources",
        "where registrations are kept",
    )


def test_mock_monitor_urns():
    monitor_class = _internal("pulumi", "pulumi.runtime.mocks", "MockMonitor")
    _expect(callable(getattr(monitor_class, "make_urn", None)), "pulumi", "MockMonitor.make_urn", "callable")
    monitor = monitor_class(_NoMocks())
    shim = _shim()

    def urns() -> tuple[str, str]:
        pulumi.runtime.reset_options(project="proj", stack="dev")
        parent = shim.mock_urn(monitor, "", "pkg:index:Parent", "p")
        return parent, shim.mock_urn(monitor, parent, "pkg:index:Child", "c")

    parent, child = _isolated(urns)
    _expect(
        (parent, child)
        == ("urn:pulumi:dev::proj::pkg:index:Parent::p", "urn:pulumi:dev::proj::pkg:index:Parent$pkg:index:Child::c"),
        "pulumi",
        "pulumi.runtime.mocks.MockMonitor.make_urn",
        "making the engine's urn:pulumi:<stack>::<project>::<parent type>$<type>::<name>",
    )


def test_policy_analyzer_servicer():
    from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

    servicer_class = _internal("pulumi-policy", "pulumi_policy.policy", "_PolicyAnalyzerServicer")
    _expect(inspect.isclass(servicer_class), "pulumi-policy", "pulumi_policy.policy._PolicyAnalyzerServicer", "a class")
    shim = _shim()
    assert shim.PolicyAnalyzerServicer is servicer_class
    policy = ResourceValidationPolicy(
        name="every-resource",
        description="Reports every resource.",
        validate=lambda args, report: report(f"saw {args.name}", None),
    )

    def analyze() -> list[Any]:
        servicer = shim.PolicyAnalyzerServicer("pack", "0.0.1", [policy], EnforcementLevel.MANDATORY)
        request = shim.proto.AnalyzeRequest(type="pkg:index:Thing", urn="urn:pulumi:s::p::pkg:index:Thing::x", name="x")
        return list(servicer.Analyze(request, None).diagnostics)

    found = _isolated(analyze)
    _expect(
        [(d.policyName, d.message.split("\n", 1)[-1]) for d in found] == [("every-resource", "saw x")],
        "pulumi-policy",
        "pulumi_policy.policy._PolicyAnalyzerServicer",
        "taking (name, version, policies, enforcement_level) and reporting through Analyze",
    )


def test_unknown_sentinel():
    value = _internal("pulumi", "pulumi.runtime.rpc", "UNKNOWN")
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

    # The engine's UnknownStringValue, the same string the policy SDK reads as unknown.
    _expect(
        value == UNKNOWN_STRING_VALUE, "pulumi", "pulumi.runtime.rpc.UNKNOWN", f"the constant {UNKNOWN_STRING_VALUE}"
    )
    assert value == _shim().UNKNOWN


def test_resource_module_registry():
    """Generated SDKs register each module with ``mod_info`` naming its ``fqn`` and ``classes`` by token."""
    get_module = _internal("pulumi", "pulumi.runtime.rpc", "get_resource_module")
    importlib.import_module("pulumi_azure_native")
    module = get_module("azure-native", "keyvault", "")
    info = getattr(module, "mod_info", None)
    _expect(
        isinstance(info, dict) and info.get("classes", {}).get("azure-native:keyvault:Secret") == "Secret",
        "pulumi",
        "pulumi.runtime.rpc.get_resource_module(...).mod_info",
        "a dict with the module's fqn and classes by type token",
    )
    shim = _shim()
    import pulumi_azure_native.keyvault
    import pulumi_kubernetes.apps.v1
    import pulumi_random

    assert shim.resource_class("azure-native:keyvault:Secret") is pulumi_azure_native.keyvault.Secret
    assert shim.resource_class("kubernetes:apps/v1:Deployment") is pulumi_kubernetes.apps.v1.Deployment
    assert shim.resource_class("random:index/randomPassword:RandomPassword") is pulumi_random.RandomPassword
    assert shim.resource_class("kubernetes:cert-manager.io/v1:Certificate") is None
    assert shim.resource_class("pulumi:providers:kubernetes") is None


def test_declared_outputs():
    resource_types = _internal("pulumi", "pulumi._types", "resource_types")
    output_type_types = _internal("pulumi", "pulumi._types", "output_type_types")
    is_output_type = _internal("pulumi", "pulumi._types", "is_output_type")
    unwrap = _internal("pulumi", "pulumi._types", "unwrap_type")
    import typing

    import pulumi_azure_native.keyvault as keyvault

    found = resource_types(keyvault.Vault)
    _expect(
        {"name", "type", "location", "properties", "tags"} <= set(found) and "vaultName" not in found,
        "pulumi",
        "pulumi._types.resource_types",
        "the Pulumi names of a resource class's @pulumi.getter outputs",
    )
    _expect(is_output_type(found["properties"]), "pulumi", "pulumi._types.is_output_type", "true for output types")
    _expect("vaultUri" in output_type_types(found["properties"]), "pulumi", "pulumi._types.output_type_types", "names")
    _expect(unwrap(typing.Optional[str]) is str, "pulumi", "pulumi._types.unwrap_type", "unwrapping Optional")  # noqa: UP045
    shim = _shim()
    assert shim.declared_outputs(keyvault.Vault) == found
    assert "vaultUri" in (shim.output_type_fields(found["properties"]) or {})
    assert shim.output_type_fields(str) is None
    assert shim.unwrap_type(typing.Optional[int]) is int  # noqa: UP045 - the SDK annotates with Optional


# --------------------------------------------------------------------------- only the shim reaches in

PULUMI_PACKAGES = ("pulumi", "pulumi_policy")
PUBLIC_RUNTIME_MODULES = {"pulumi.runtime", "pulumi.runtime.mocks"}


def _private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def _is_module(dotted: str) -> bool:
    try:
        return importlib.util.find_spec(dotted) is not None
    except (ImportError, ValueError):
        return False


def _is_internal_module(dotted: str) -> bool:
    """A module of the Pulumi SDKs that is not public: a private part, or a runtime submodule other than mocks."""
    parts = dotted.split(".")
    if any(_private(p) for p in parts):
        return True
    return parts[:2] == ["pulumi", "runtime"] and dotted not in PUBLIC_RUNTIME_MODULES


def _first_internal(dotted: list[str]) -> str | None:
    """The first step of ``pulumi.a.b.c`` that is private or an internal module, if any."""
    module = dotted[0]
    for index, part in enumerate(dotted[1:], start=1):
        reached = ".".join(dotted[: index + 1])
        if _private(part):
            return reached
        if module is not None:
            if _is_module(reached):
                if _is_internal_module(reached):
                    return reached
                module = reached
                continue
            module = None  # from here on, attributes of a class or function
    return None


def _attribute_path(node: ast.Attribute) -> list[str] | None:
    parts = [node.attr]
    value: ast.expr = node.value
    while isinstance(value, ast.Attribute):
        parts.append(value.attr)
        value = value.value
    if not isinstance(value, ast.Name):
        return None
    parts.append(value.id)
    return parts[::-1]


def internal_uses(source: str) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of each private or internal Pulumi SDK name a module imports or reaches."""
    tree = ast.parse(source)
    bound: dict[str, str] = {}  # local name -> the Pulumi name it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] not in PULUMI_PACKAGES:
                    continue
                found = _first_internal(alias.name.split("."))
                if found:
                    yield node.lineno, found
                elif alias.asname:
                    bound[alias.asname] = alias.name
                else:
                    bound[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] not in PULUMI_PACKAGES:
                continue
            for alias in node.names:
                found = _first_internal([*node.module.split("."), alias.name])
                if found:
                    yield node.lineno, found
                else:
                    bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    inner = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or id(node) in inner:
            continue
        parts = _attribute_path(node)
        if parts and parts[0] in bound:
            found = _first_internal([*bound[parts[0]].split("."), *parts[1:]])
            if found:
                yield node.lineno, found


def _python_files() -> Iterator[Path]:
    for entry in SCANNED:
        path = PROJECT_DIR / entry
        files = [path] if path.is_file() else sorted(path.rglob("*.py"))
        for file in files:
            relative = file.relative_to(PROJECT_DIR)
            if any(part in ("venv", ".venv", "__pycache__") for part in relative.parts):
                continue
            yield file


def test_only_the_shim_reaches_into_sdk_internals():
    found = []
    for file in _python_files():
        if file == SHIM:
            continue
        for line, name in internal_uses(file.read_text()):
            found.append(f"{file.relative_to(PROJECT_DIR)}:{line}: {name}")
    assert not found, "Pulumi SDK internals used outside tools/pulumi_sdk.py (import them from there):\n" + "\n".join(
        found
    )


def test_the_scan_covers_the_tree():
    scanned = {f.relative_to(PROJECT_DIR).as_posix() for f in _python_files()}
    assert {"__main__.py", "tools/plan/engine.py", "tools/plan/mocks.py", "policy/rules/common.py"} <= scanned
    assert "tests/test_policy.py" in scanned
    assert any(name.startswith("components/") for name in scanned)
    assert not any("venv" in name for name in scanned)
    # The shim itself is what the scan would flag, were it anywhere else.
    assert list(internal_uses(SHIM.read_text()))


@pytest.mark.parametrize(
    "source",
    [
        "from pulumi.runtime.sync_await import _sync_await",
        "from pulumi.runtime import settings",
        "from pulumi.runtime import proto",
        "from pulumi.runtime import rpc",
        "from pulumi.runtime.proto import resource_pb2",
        "from pulumi.runtime.stack import run_pulumi_func",
        "import pulumi.runtime.rpc",
        "import pulumi.runtime.settings as s",
        "from pulumi import _types",
        "from pulumi_policy.policy import _PolicyAnalyzerServicer",
        "import pulumi\npulumi.runtime.settings.ROOT.set(None)",
        "import pulumi\npulumi.runtime.rpc._special_sig_key",
        "import pulumi.runtime\npulumi.runtime.sync_await._sync_await(x)",
        "from pulumi.runtime import mocks\nmocks._resolve_callbacks([])",
        "import pulumi as p\np._utils",
    ],
)
def test_the_scan_flags_internals(source):
    assert list(internal_uses(source)), source


@pytest.mark.parametrize(
    "source",
    [
        "import pulumi",
        "import pulumi.runtime",
        "import pulumi\npulumi.runtime.get_config('a:b')",
        "import pulumi\npulumi.runtime.run_in_stack(f)",
        "import pulumi\npulumi.Output.secret(1)",
        "from pulumi.runtime import mocks as pulumi_mocks\npulumi_mocks.MockMonitor",
        "from pulumi.runtime.mocks import MockEngine, MockMonitor",
        "from pulumi_policy import EnforcementLevel",
        "from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError",
        "import pulumi_kubernetes as k8s\nk8s.apiextensions.CustomResource",
        "from tools.pulumi_sdk import sync_await, proto",
        "import pulumi\npulumi.__version__",
    ],
)
def test_the_scan_allows_public_names(source):
    assert not list(internal_uses(source)), source
