"""Every state a cluster can pass through while the engine applies one update, and the traffic in each.

The engine applies the steps of an update in any order its dependencies allow: independent updates run in
parallel, in either order (pulumi/pulumi pkg/resource/deploy/step_executor.go), a resource waits for the
steps of the resources it depends on, its parent among them, and resources removed from the program are
deleted last, after every other step, dependents first (deployment_executor.go ``performDeletes``,
step_generator.go ``GenerateDeletes`` / ``ScheduleDeletes``). A replaced Kubernetes object with a new
name is created in place and its old object deleted with the deletions.

So the states an update can pass through are exactly the sets of steps closed under "applied after": every
prefix of every order the engine may choose is such a set, and each such set is a prefix of some order.
:func:`states` enumerates them all; :func:`check` evaluates the traffic invariants in each.

The model reads Kubernetes objects only (what traffic depends on): HTTPRoutes, Services, Deployments and
Jobs. A completed step of a Job means the Job succeeded (pulumi-kubernetes awaits Jobs,
provider/pkg/await/job.go); a Deployment step is applied when its rollout is complete (maxUnavailable 0
keeps the old pods serving until then).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from .diff import value_diff
from .engine import Plan

KINDS = ("HTTPRoute", "Service", "Deployment", "Job")
Identity = tuple[str, str]
"""(kind, metadata.name) of an object in the app namespace."""
World = Mapping[Identity, dict[str, Any]]


def _kind(resource: dict[str, Any]) -> str | None:
    typ = resource["type"]
    if not typ.startswith("kubernetes:") or not resource.get("custom"):
        return None
    kind = typ.rsplit(":", 1)[-1]
    return kind if kind in KINDS else None


def _identity(resource: dict[str, Any]) -> Identity:
    return (_kind(resource) or "", str((resource["inputs"].get("metadata") or {}).get("name")))


def world_of(plan: Plan) -> dict[Identity, dict[str, Any]]:
    """The objects a plan leaves in the cluster, by identity."""
    return {_identity(r): r["inputs"] for r in plan.resources if _kind(r)}


@dataclass(frozen=True)
class Step:
    """One thing the engine does to one object."""

    op: str
    """create, update or delete."""
    urn: str
    identity: Identity
    obj: dict[str, Any] | None
    """The object after the step (None for a delete)."""

    def label(self) -> str:
        return f"{self.op} {self.identity[0]} {self.identity[1]}"


@dataclass
class Update:
    """The steps of one update and the order the engine must respect among them."""

    base: World
    steps: list[Step]
    after: dict[int, frozenset[int]] = field(default_factory=dict)
    """Step index -> indices of the steps it is applied after."""

    @property
    def applies(self) -> list[int]:
        return [i for i, s in enumerate(self.steps) if s.op != "delete"]

    @property
    def deletes(self) -> list[int]:
        return [i for i, s in enumerate(self.steps) if s.op == "delete"]


def _ancestors(plan: Plan) -> Callable[[str], frozenset[str]]:
    """URN -> every URN it transitively waits for (dependencies and parents, through unchanged resources:
    an unchanged resource is registered only once what it waits for has completed)."""
    direct = {
        r["urn"]: set(r.get("dependencies") or []) | ({r["parent"]} if r.get("parent") else set())
        for r in plan.resources
    }

    @cache
    def up(urn: str) -> frozenset[str]:
        out: set[str] = set()
        for dep in direct.get(urn, ()):
            out.add(dep)
            out |= up(dep)
        return frozenset(out)

    return up


def update(base: Plan, head: Plan) -> Update:
    """The steps that take the cluster from ``base`` to ``head``, with their ordering constraints."""
    before = {r["urn"]: r for r in base.resources if _kind(r)}
    after = {r["urn"]: r for r in head.resources if _kind(r)}
    steps: list[Step] = []
    for urn, res in after.items():
        old = before.get(urn)
        ident = _identity(res)
        if old is None:
            steps.append(Step("create", urn, ident, res["inputs"]))
        elif _identity(old) != ident:
            # A new name: the object is replaced, created now and the old one deleted with the deletions.
            steps.append(Step("create", urn, ident, res["inputs"]))
            steps.append(Step("delete", urn, _identity(old), None))
        elif value_diff(old["inputs"], res["inputs"]):
            steps.append(Step("update", urn, ident, res["inputs"]))
    for urn, old in before.items():
        if urn not in after:
            steps.append(Step("delete", urn, _identity(old), None))
    head_up, base_up = _ancestors(head), _ancestors(base)
    result = Update(base=world_of(base), steps=steps)
    for i, step in enumerate(steps):
        if step.op == "delete":
            # Deletions come last; a resource is deleted before the ones it depended on.
            waits = {j for j in result.applies}
            waits |= {j for j in result.deletes if steps[j].urn != step.urn and step.urn in base_up(steps[j].urn)}
        else:
            waits = {j for j, other in enumerate(steps) if other.op != "delete" and other.urn in head_up(step.urn)}
        result.after[i] = frozenset(waits)
    return result


def states(upd: Update) -> Iterator[frozenset[int]]:
    """Every set of applied steps the update can pass through (each once), from none to all."""
    order = _topological(upd)
    succ: dict[int, set[int]] = {i: set() for i in order}
    for i, preds in upd.after.items():
        for p in preds:
            succ[p].add(i)

    def grow(k: int, chosen: frozenset[int], banned: frozenset[int]) -> Iterator[frozenset[int]]:
        if k == len(order):
            yield chosen
            return
        i = order[k]
        if i in banned:
            yield from grow(k + 1, chosen, banned)
            return
        if upd.after[i] <= chosen:
            yield from grow(k + 1, chosen | {i}, banned)
        yield from grow(k + 1, chosen, banned | _closure(i, succ))

    yield from grow(0, frozenset(), frozenset())


def _closure(i: int, succ: Mapping[int, set[int]]) -> frozenset[int]:
    seen, todo = {i}, [i]
    while todo:
        for n in succ[todo.pop()]:
            if n not in seen:
                seen.add(n)
                todo.append(n)
    return frozenset(seen)


def _topological(upd: Update) -> list[int]:
    done: list[int] = []
    left = set(range(len(upd.steps)))
    while left:
        ready = sorted(i for i in left if upd.after[i] <= set(done))
        if not ready:
            raise ValueError("the steps' ordering has a cycle")
        done.extend(ready)
        left -= set(ready)
    return done


def orders(upd: Update) -> int:
    """How many orders the engine may apply the steps in (linear extensions of the ordering)."""

    @cache
    def count(done: frozenset[int]) -> int:
        if len(done) == len(upd.steps):
            return 1
        return sum(count(done | {i}) for i in range(len(upd.steps)) if i not in done and upd.after[i] <= done)

    return count(frozenset())


def apply(upd: Update, applied: frozenset[int]) -> dict[Identity, dict[str, Any]]:
    world = dict(upd.base)
    for i in sorted(applied, key=lambda i: upd.steps[i].op == "delete"):
        step = upd.steps[i]
        if step.op == "delete":
            world.pop(step.identity, None)
        else:
            assert step.obj is not None
            world[step.identity] = step.obj
    return world


# --------------------------------------------------------------------------- traffic


def _labels(deployment: dict[str, Any]) -> dict[str, str]:
    return ((deployment.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}


def _replicas(deployment: dict[str, Any]) -> int:
    # Without spec.replicas an HPA owns the count (at least its minimum, 1 or more).
    return int((deployment.get("spec") or {}).get("replicas", 1))


def selected(world: World, service: str) -> list[dict[str, Any]]:
    """The Deployments whose pods a Service selects."""
    svc = world.get(("Service", service))
    if svc is None:
        return []
    selector = (svc.get("spec") or {}).get("selector") or {}
    return [
        obj
        for (kind, _), obj in world.items()
        if kind == "Deployment" and selector and all(_labels(obj).get(k) == v for k, v in selector.items())
    ]


def shares(world: World) -> dict[str, dict[str, float]]:
    """Per route (app), the percent of its traffic each color's pods get."""
    out: dict[str, dict[str, float]] = {}
    for (kind, name), route in world.items():
        if kind != "HTTPRoute":
            continue
        for rule in (route.get("spec") or {}).get("rules") or []:
            refs = [r for r in rule.get("backendRefs") or [] if r.get("kind", "Service") == "Service"]
            total = sum(int(r.get("weight", 1)) for r in refs)
            if not refs or not total:
                continue
            split: dict[str, float] = {}
            for ref in refs:
                weight = int(ref.get("weight", 1))
                for deployment in selected(world, ref["name"]):
                    color = _labels(deployment).get("color", "?")
                    split[color] = split.get(color, 0.0) + 100.0 * weight / total / len(selected(world, ref["name"]))
            out[name] = split
    return out


@dataclass(frozen=True)
class Violation:
    state: tuple[str, ...]
    """The steps applied when it happens."""
    problem: str


GateName = Callable[[str, str, str], str]
"""(app, color, tag) -> the name of the Job that gates that release."""


def problems(world: World, before: World, after: World, gate_name: GateName | None) -> list[str]:
    """What is wrong with the traffic in ``world``, an intermediate state between ``before`` and ``after``."""
    found: list[str] = []
    start, end, now = shares(before), shares(after), shares(world)
    for (kind, name), route in world.items():
        if kind != "HTTPRoute":
            continue
        for rule in (route.get("spec") or {}).get("rules") or []:
            for ref in rule.get("backendRefs") or []:
                if int(ref.get("weight", 1)) == 0:
                    continue
                deployments = selected(world, ref["name"])
                if not [d for d in deployments if _replicas(d) > 0]:
                    found.append(f"route {name} sends {ref['weight']} to {ref['name']}, which has no running pods")
                for d in deployments:
                    found += _ungated(world, d, f"route {name} sends {ref['weight']} to", gate_name)
    for app, split in now.items():
        for color in set(split) | set(start.get(app, {})) | set(end.get(app, {})):
            low, high = sorted((start.get(app, {}).get(color, 0.0), end.get(app, {}).get(color, 0.0)))
            share = split.get(color, 0.0)
            if not low - 0.01 <= share <= high + 0.01:
                found.append(f"route {app} gives {color} {share:.0f}%, outside {low:.0f}-{high:.0f}% (before/after)")
    for app in {k[1] for k in world if k[0] == "HTTPRoute"}:
        for d in selected(world, app):
            found += _ungated(world, d, f"Service {app} selects", gate_name)
    for app in _workers(world):
        if not any(_replicas(d) > 0 for d in _deployments_of(world, app)):
            found.append(f"no color runs the {app} workers")
    return found


def _ungated(world: World, deployment: dict[str, Any], where: str, gate_name: GateName | None) -> list[str]:
    if gate_name is None:
        return []
    labels = _labels(deployment)
    app, color, tag = labels.get("app", "?"), labels.get("color", "?"), labels.get("app.kubernetes.io/version", "?")
    gate = gate_name(app, color, tag)
    return [] if ("Job", gate) in world else [f"{where} {app} {color} {tag}, which has not passed its gate {gate}"]


def _deployments_of(world: World, app: str) -> list[dict[str, Any]]:
    return [obj for (kind, _), obj in world.items() if kind == "Deployment" and _labels(obj).get("app") == app]


def _workers(world: World) -> set[str]:
    """Apps with Deployments that no Service selects."""
    routed = {
        (obj.get("spec") or {}).get("selector", {}).get("app") for (kind, _), obj in world.items() if kind == "Service"
    }
    return {
        _labels(obj).get("app", "?")
        for (kind, _), obj in world.items()
        if kind == "Deployment" and _labels(obj).get("app") not in routed
    }


@dataclass
class Report:
    steps: list[str]
    states: int
    orders: int
    violations: list[Violation]


def check(base: Plan, head: Plan, gate_name: GateName | None = None, *, limit: int = 20) -> Report:
    """Every state of the update from ``base`` to ``head`` and what is wrong in each (at most ``limit``)."""
    upd = update(base, head)
    before, after = world_of(base), world_of(head)
    violations: list[Violation] = []
    count = 0
    for applied in states(upd):
        count += 1
        if len(violations) >= limit:
            continue
        for problem in problems(apply(upd, applied), before, after, gate_name):
            violations.append(Violation(tuple(sorted(upd.steps[i].label() for i in applied)), problem))
    return Report([s.label() for s in upd.steps], count, orders(upd), violations)
