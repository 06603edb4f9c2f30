"""Run the pack's policies on a recorded plan (tools.plan.engine.Plan) the way the engine runs them.

Each recorded resource becomes the ``ResourceValidationArgs`` the engine would build (type, inputs behind
the engine's unknown-checking proxy, URN, name, options, provider, policy config), and the whole graph the
``StackValidationArgs`` of the stack policies. Every policy's own ``validate`` runs with a collecting
``report_violation``; the result is a list of :class:`Violation`.

Resource policies see each resource's inputs; stack policies its outputs, as the engine's ``AnalyzeStack``
does (pulumi ``pkg/resource/deploy/step_generator.go``: the stack's resources as their final states): the
outputs the plan recorded from the provider's answer (tools/plan/shapes.py), which in a create preview
(``--first-preview``) are partly or wholly unknown. Values the plan shows as ``[unknown]`` reach the
policies as the engine sends unknowns (the unknown sentinel, behind the unknown-checking proxy).

Like the engine, every policy gets its own ``props``: the unknown-checking proxy rebuilds every dict and
list of the inputs, so nothing one policy changes reaches another or the plan (the leaves are JSON
scalars). The stack policies share one resource graph; only their config differs.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from .rules import PACK_ENFORCEMENT_LEVEL, POLICIES
from .rules.common import with_defaults

# How a rendered plan shows a value that is not known yet (tools/plan/mocks.py UNKNOWN_MASK).
UNKNOWN_IN_PLAN = "[unknown]"


class Violation(NamedTuple):
    policy_name: str
    urn: str | None
    message: str
    enforcement_level: EnforcementLevel


def enforcement_level(policy: Policy) -> EnforcementLevel:
    return policy.enforcement_level or PACK_ENFORCEMENT_LEVEL


def policy_config(overrides: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """Per-policy configuration: each policy's schema defaults, overridden by ``overrides[policy name]``."""
    overrides = overrides or {}
    unknown = set(overrides) - {p.name for p in POLICIES}
    if unknown:
        raise KeyError(f"no policy named {sorted(unknown)}")
    return {p.name: with_defaults(overrides.get(p.name), getattr(p, "settings", ())) for p in POLICIES}


def _resources(plan: Any) -> list[dict[str, Any]]:
    return plan["resources"] if isinstance(plan, Mapping) else plan.resources


def engine_values(value: Any) -> Any:
    """A plan's values as the engine sends them to an analyzer: ``[unknown]`` as the unknown sentinel."""
    if isinstance(value, str):
        return UNKNOWN_STRING_VALUE if value == UNKNOWN_IN_PLAN else value
    if isinstance(value, dict):
        return {k: engine_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [engine_values(v) for v in value]
    return value


def inputs_of(resource: Mapping[str, Any]) -> dict[str, Any]:
    return engine_values(resource.get("inputs") or {})


def outputs_of(resource: Mapping[str, Any]) -> dict[str, Any]:
    """What a stack policy sees of a resource: its recorded outputs (none recorded: none)."""
    return engine_values(resource.get("outputs") or {})


def _options(resource: Mapping[str, Any]) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=bool(resource.get("protect")),
        ignore_changes=list(resource.get("ignoreChanges") or []),
        delete_before_replace=resource.get("deleteBeforeReplace"),
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=list(resource.get("additionalSecretOutputs") or []),
        parent=resource.get("parent"),
    )


def _provider(resource: Mapping[str, Any], by_urn: Mapping[str, Mapping[str, Any]]) -> PolicyProviderResource | None:
    reference = resource.get("provider")
    if not reference:
        return None
    urn = reference.rsplit("::", 1)[0]
    provider = by_urn.get(urn)
    if provider is None:
        return None
    props = unknown_checking_proxy(inputs_of(provider))
    return PolicyProviderResource(provider["type"], props, provider["urn"], provider["name"])


_UNBUILT: Any = object()


class _ResourceArgs(ResourceValidationArgs):
    """The engine's ResourceValidationArgs, with ``props``, ``opts`` and ``provider`` built on first read.

    Most resource policies check the type and return without reading them, and building the proxies is
    most of the cost of a run; a policy that reads them gets the same fresh values the engine would build.
    """

    # None: not built yet. The provider may itself be None, so it has its own flag.
    _built_props: Mapping[str, Any] | None = None
    _built_opts: PolicyResourceOptions | None = None
    _built_provider: PolicyProviderResource | None = None
    _provider_built: bool = False

    def __init__(
        self, resource: Mapping[str, Any], config: Mapping[str, Any] | None, by_urn: Mapping[str, Mapping[str, Any]]
    ) -> None:
        self._resource = resource
        self._by_urn = by_urn
        super().__init__(
            resource["type"],
            _UNBUILT,
            resource["urn"],
            resource["name"],
            _UNBUILT,
            _UNBUILT,
            config=dict(config or {}),
        )

    @property
    def props(self) -> Mapping[str, Any]:
        if self._built_props is None:
            self._built_props = unknown_checking_proxy(inputs_of(self._resource))
        return self._built_props

    @props.setter
    def props(self, value: Mapping[str, Any]) -> None:
        self._built_props = None if value is _UNBUILT else value

    @property
    def opts(self) -> PolicyResourceOptions:
        if self._built_opts is None:
            self._built_opts = _options(self._resource)
        return self._built_opts

    @opts.setter
    def opts(self, value: PolicyResourceOptions) -> None:
        self._built_opts = None if value is _UNBUILT else value

    @property
    def provider(self) -> PolicyProviderResource | None:
        if not self._provider_built:
            self._built_provider = _provider(self._resource, self._by_urn)
            self._provider_built = True
        return self._built_provider

    @provider.setter
    def provider(self, value: PolicyProviderResource | None) -> None:
        self._provider_built = value is not _UNBUILT
        self._built_provider = None if value is _UNBUILT else value


def resource_args(
    resource: Mapping[str, Any],
    config: Mapping[str, Any] | None,
    by_urn: Mapping[str, Mapping[str, Any]] | None = None,
) -> ResourceValidationArgs:
    """The ResourceValidationArgs the engine builds for one recorded resource."""
    return _ResourceArgs(resource, config, by_urn or {})


def stack_args(
    plan: Any, config: Mapping[str, Any] | None, extra_outputs: Mapping[str, Mapping[str, Any]] | None = None
) -> StackValidationArgs:
    """The StackValidationArgs of the recorded graph (props: outputs, overridden by ``extra_outputs`` by URN)."""
    return StackValidationArgs(_stack_resources(plan, extra_outputs), config=dict(config or {}))


def _stack_resources(plan: Any, extra_outputs: Mapping[str, Mapping[str, Any]] | None = None) -> list[PolicyResource]:
    extra_outputs = extra_outputs or {}
    resources = _resources(plan)
    by_urn = {r["urn"]: r for r in resources}
    built: dict[str, PolicyResource] = {}
    for resource in resources:
        props = {**outputs_of(resource), **dict(extra_outputs.get(resource["urn"], {}))}
        built[resource["urn"]] = PolicyResource(
            resource["type"],
            unknown_checking_proxy(props),
            resource["urn"],
            resource["name"],
            _options(resource),
            _provider(resource, by_urn),
            None,
            [],
            {},
        )
    for resource in resources:
        policy_resource = built[resource["urn"]]
        parent = resource.get("parent")
        policy_resource.parent = built.get(parent) if parent else None
        policy_resource.dependencies = [built[d] for d in resource.get("dependencies") or () if d in built]
    return list(built.values())


def _collector(
    violations: list[Violation], policy_name: str, level: EnforcementLevel, fixed_urn: str | None = None
) -> Callable[..., None]:
    def report_violation(message: str, urn: str | None = None) -> None:
        violations.append(Violation(policy_name, fixed_urn or urn, message, level))

    return report_violation


async def _wait(awaitable: Any) -> None:
    await awaitable


def _validate(policy: Policy, args: Any, report: Callable[..., None], violations: list[Violation]) -> None:
    """Run one validation as the engine does: await it if needed; unknown values make it advisory."""
    try:
        result = policy.validate(args, report)  # type: ignore[attr-defined]
        if inspect.isawaitable(result):
            asyncio.run(_wait(result))
    except UnknownValueError as err:
        urn = getattr(args, "urn", None)
        violations.append(
            Violation(policy.name, urn, f"can't run during preview: {err.message}", EnforcementLevel.ADVISORY)
        )


def evaluate(
    plan: Any,
    config: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    policies: Iterable[Policy] | None = None,
    extra_outputs: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Violation]:
    """Every violation the pack reports for ``plan`` (resource policies per resource, then stack policies)."""
    configs = policy_config(config)
    chosen = list(POLICIES if policies is None else policies)
    resources = _resources(plan)
    by_urn = {r["urn"]: r for r in resources}
    violations: list[Violation] = []
    graph: list[PolicyResource] | None = None

    for policy in chosen:
        level = enforcement_level(policy)
        if level == EnforcementLevel.DISABLED:
            continue
        if level == EnforcementLevel.REMEDIATE:
            level = EnforcementLevel.MANDATORY  # as the engine reports a remaining violation
        if isinstance(policy, ResourceValidationPolicy):
            for resource in resources:
                # The engine ignores the urn argument of resource policies: a violation is the resource's.
                report = _collector(violations, policy.name, level, fixed_urn=resource["urn"])
                _validate(policy, resource_args(resource, configs[policy.name], by_urn), report, violations)
        elif isinstance(policy, StackValidationPolicy):
            if graph is None:
                graph = _stack_resources(plan, extra_outputs)
            args = StackValidationArgs(list(graph), config=dict(configs[policy.name]))
            _validate(policy, args, _collector(violations, policy.name, level), violations)
    return violations


def violated(violations: Iterable[Violation], level: EnforcementLevel | None = None) -> set[str]:
    """Names of the policies with at least one violation (of ``level``, when given)."""
    return {v.policy_name for v in violations if level is None or v.enforcement_level == level}
