"""Compare two Plans resource by resource, property path by property path."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from .engine import Plan

# Options that change what the engine does with a resource, beside its inputs.
_OPTION_FIELDS = (
    "parent",
    "provider",
    "protect",
    "dependencies",
    "ignoreChanges",
    "deleteBeforeReplace",
    "importId",
)
# A resource whose registration differs only here gets a same step: the engine decides between same and
# update on inputs and provider alone and writes the new dependencies to the state without a provider
# call, and `pulumi preview` does not show it (pulumi/pulumi pkg/resource/deploy/step_generator.go
# `diff`/`continueStepsFromDiff`; pkg/backend/snapshot.go `sameSnapshotMutation.mustWrite`;
# pkg/backend/display/display.go `shouldShow`).
_ORDER_ONLY = frozenset({"<dependencies>"})


@dataclass
class Change:
    urn: str
    type: str
    name: str
    paths: list[tuple[str, Any, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "changes": [{"path": p, "before": b, "after": a} for p, b, a in self.paths],
        }


@dataclass
class PlanDiff:
    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    changed: list[Change]
    outputs: list[tuple[str, Any, Any]]
    reordered: list[Change] = field(default_factory=list)
    """Resources whose dependencies alone changed: the engine orders differently, nothing is updated."""
    moved: list[Change] = field(default_factory=list)
    """Resources under a new URN that name their old one in ``aliases``: the same resource to the engine.
    Their paths start with ``<urn>``; any other path is a change the engine makes as well."""
    traffic: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    """Route (app) -> color -> (percent of its traffic before, after) (:func:`tools.plan.traffic.shares`).
    Not a step of its own: the routes and Services that move it are among the changes."""

    @property
    def empty(self) -> bool:
        """No step the engine would act on (a change of dependencies alone is no step)."""
        return not (self.added or self.removed or self.changed or self.outputs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": [{"urn": r["urn"], "type": r["type"], "name": r["name"]} for r in self.added],
            "removed": [{"urn": r["urn"], "type": r["type"], "name": r["name"]} for r in self.removed],
            "changed": [c.to_dict() for c in self.changed],
            "reordered": [c.to_dict() for c in self.reordered],
            "moved": [c.to_dict() for c in self.moved],
            "outputs": [{"key": k, "before": b, "after": a} for k, b, a in self.outputs],
            "traffic": _traffic().to_dict(self.traffic),
            "summary": {
                "add": len(self.added),
                "change": len(self.changed),
                "delete": len(self.removed),
                "reorder": len(self.reordered),
                "move": len(self.moved),
            },
        }


def _traffic() -> ModuleType:
    """tools.plan.traffic, imported when first used: it reads the routes through rollout, which imports
    this module."""
    from . import traffic

    return traffic


def value_diff(before: Any, after: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Every leaf path where ``before`` and ``after`` differ (lists compare by index)."""
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[tuple[str, Any, Any]] = []
        for key in sorted(set(before) | set(after)):
            sub = f"{path}.{key}" if path else str(key)
            if key not in before:
                out.append((sub, None, after[key]))
            elif key not in after:
                out.append((sub, before[key], None))
            else:
                out.extend(value_diff(before[key], after[key], sub))
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        out = []
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            out.extend(value_diff(b, a, f"{path}[{i}]"))
        return out
    return [] if before == after else [(path, before, after)]


def alias_urns(resource: dict[str, Any]) -> list[str]:
    """The URNs a resource's ``aliases`` stand for, made the way this plan's URNs are: a spec's missing
    name, type or parent are the resource's own (pulumi sdk/python lib/pulumi/runtime/resource.py
    ``_create_alias_spec``), and the parent contributes its own type (pulumi runtime/mocks.py
    ``MockMonitor.make_urn``; the engine's URNs carry the whole chain, the same on both sides of a diff)."""
    stack, project = resource["urn"].split("::")[0].removeprefix("urn:pulumi:"), resource["urn"].split("::")[1]
    urns = []
    for alias in resource.get("aliases") or []:
        if alias.get("urn"):
            urns.append(alias["urn"])
            continue
        spec = alias.get("spec") or {}
        name = spec.get("name") or resource["name"]
        typ = spec.get("type") or resource["type"]
        parent = None if spec.get("noParent") else (spec.get("parentUrn") or resource.get("parent"))
        qualified = f"{parent.split('::')[2].split('$')[-1]}${typ}" if parent else typ
        urns.append(f"urn:pulumi:{spec.get('stack') or stack}::{spec.get('project') or project}::{qualified}::{name}")
    return urns


def _changes(b: dict[str, Any], a: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """Input, secret and option paths on which one resource's two registrations differ."""
    paths = value_diff(b["inputs"], a["inputs"])
    for path in sorted(set(b.get("secretDigests", {})) | set(a.get("secretDigests", {}))):
        if b.get("secretDigests", {}).get(path) != a.get("secretDigests", {}).get(path):
            paths.append((path, "[secret]", "[secret changed]"))
    for opt in _OPTION_FIELDS:
        if b.get(opt) != a.get(opt):
            paths.append((f"<{opt}>", b.get(opt), a.get(opt)))
    return paths


def diff(base: Plan, head: Plan) -> PlanDiff:
    before = {r["urn"]: r for r in base.resources}
    after = {r["urn"]: r for r in head.resources}
    # A new URN whose aliases name a URN that is gone is that resource, moved (the engine's alias match).
    moved_from: dict[str, str] = {}
    for urn, res in after.items():
        if urn in before:
            continue
        for old in alias_urns(res):
            if old in before and old not in after and old not in moved_from.values():
                moved_from[urn] = old
                break
    added = [after[u] for u in after if u not in before and u not in moved_from]
    removed = [before[u] for u in before if u not in after and u not in moved_from.values()]
    changed: list[Change] = []
    reordered: list[Change] = []
    moved: list[Change] = []
    for urn, old in moved_from.items():
        a = after[urn]
        paths = [("<urn>", old, urn)] + [p for p in _changes(before[old], a) if p[0] not in ("<parent>", *_ORDER_ONLY)]
        moved.append(Change(urn, a["type"], a["name"], paths))
    for urn in after:
        if urn not in before:
            continue
        b, a = before[urn], after[urn]
        paths = _changes(b, a)
        if paths and {p for p, _, _ in paths} <= _ORDER_ONLY:
            reordered.append(Change(urn, a["type"], a["name"], paths))
        elif paths:
            changed.append(Change(urn, a["type"], a["name"], paths))
    outputs = value_diff(base.outputs, head.outputs)
    return PlanDiff(added, removed, changed, outputs, reordered, moved, _traffic().shares(base, head))


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 100 else text[:97] + "..."


def _urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def format_text(result: PlanDiff) -> str:
    lines = []
    if result.traffic:
        # Each app's traffic per color first: a Markdown table when it moves, one line when it does not.
        lines += [*_traffic().markdown(result.traffic).rstrip("\n").splitlines(), ""]
    for res in result.added:
        lines.append(f"+ {res['type']} {res['name']}")
    for res in result.removed:
        # The engine refuses to delete a protected resource: `pulumi up` stops there.
        held = " (protected: the update stops here until it is unprotected or dropped from the state)"
        lines.append(f"- {res['type']} {res['name']}" + (held if res.get("protect") else ""))
    for change in result.changed:
        lines.append(f"~ {change.type} {change.name}")
        for path, b, a in change.paths:
            lines.append(f"    {path}: {_short(b)} => {_short(a)}")
    for key, b, a in result.outputs:
        lines.append(f"~ output {key}: {_short(b)} => {_short(a)}")
    for change in result.moved:
        old = change.paths[0][1]
        lines.append(f"> {change.type} {change.name}: moved from {old.split('::', 2)[2]} (alias, same resource)")
        for path, b, a in change.paths[1:]:
            lines.append(f"    {path}: {_short(b)} => {_short(a)}")
    for change in result.reordered:
        before, after = change.paths[0][1] or [], change.paths[0][2] or []
        gained = sorted(set(after) - set(before))
        lost = sorted(set(before) - set(after))
        shown = [f"+{_urn_name(u)}" for u in gained] + [f"-{_urn_name(u)}" for u in lost]
        lines.append(f"= {change.type} {change.name}: dependencies only ({', '.join(shown)})")
    lines.append(
        f"{len(result.added)} to add, {len(result.changed)} to change, {len(result.removed)} to delete"
        + ("" if result.outputs else ", outputs unchanged")
        + (f"; {len(result.reordered)} with new dependencies only (no step)" if result.reordered else "")
        + (f"; {len(result.moved)} moved by alias" if result.moved else "")
    )
    return "\n".join(lines)
