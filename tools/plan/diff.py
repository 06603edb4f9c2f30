"""Compare two Plans resource by resource, property path by property path."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .engine import Plan

# Options that change what the engine does with a resource, beside its inputs.
_OPTION_FIELDS = ("parent", "provider", "protect", "dependencies", "ignoreChanges", "deleteBeforeReplace")


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

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.outputs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": [{"urn": r["urn"], "type": r["type"], "name": r["name"]} for r in self.added],
            "removed": [{"urn": r["urn"], "type": r["type"], "name": r["name"]} for r in self.removed],
            "changed": [c.to_dict() for c in self.changed],
            "outputs": [{"key": k, "before": b, "after": a} for k, b, a in self.outputs],
            "summary": {"add": len(self.added), "change": len(self.changed), "delete": len(self.removed)},
        }


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


def diff(base: Plan, head: Plan) -> PlanDiff:
    before = {r["urn"]: r for r in base.resources}
    after = {r["urn"]: r for r in head.resources}
    added = [after[u] for u in after if u not in before]
    removed = [before[u] for u in before if u not in after]
    changed = []
    for urn in after:
        if urn not in before:
            continue
        b, a = before[urn], after[urn]
        paths = value_diff(b["inputs"], a["inputs"])
        for path in sorted(set(b.get("secretDigests", {})) | set(a.get("secretDigests", {}))):
            if b.get("secretDigests", {}).get(path) != a.get("secretDigests", {}).get(path):
                paths.append((path, "[secret]", "[secret changed]"))
        for opt in _OPTION_FIELDS:
            if b.get(opt) != a.get(opt):
                paths.append((f"<{opt}>", b.get(opt), a.get(opt)))
        if paths:
            changed.append(Change(urn, a["type"], a["name"], paths))
    outputs = value_diff(base.outputs, head.outputs)
    return PlanDiff(added, removed, changed, outputs)


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 100 else text[:97] + "..."


def format_text(result: PlanDiff) -> str:
    lines = []
    for res in result.added:
        lines.append(f"+ {res['type']} {res['name']}")
    for res in result.removed:
        lines.append(f"- {res['type']} {res['name']}")
    for change in result.changed:
        lines.append(f"~ {change.type} {change.name}")
        for path, b, a in change.paths:
            lines.append(f"    {path}: {_short(b)} => {_short(a)}")
    for key, b, a in result.outputs:
        lines.append(f"~ output {key}: {_short(b)} => {_short(a)}")
    lines.append(
        f"{len(result.added)} to add, {len(result.changed)} to change, {len(result.removed)} to delete"
        + ("" if result.outputs else ", outputs unchanged")
    )
    return "\n".join(lines)
