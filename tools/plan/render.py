"""Write a Plan to disk and summarise it."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from .engine import Plan
from .mocks import UNKNOWN_MASK

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"


def kubernetes_objects(plan: Plan) -> list[dict[str, Any]]:
    """Every Kubernetes object the program declares (custom resources included), as manifests."""
    objects = []
    for res in plan.resources:
        typ = res["type"]
        if not typ.startswith("kubernetes:") or typ == HELM_RELEASE or not res["custom"]:
            continue
        body = {k: v for k, v in res["inputs"].items() if k not in ("__defaults",)}
        if "apiVersion" not in body or "kind" not in body:
            _, api_version, kind = typ.split(":", 2)
            group, _, version = api_version.partition("/")
            body = {"apiVersion": api_version if group != "core" else version, "kind": kind, **body}
        objects.append(ordered_manifest(body))
    return objects


_HEAD = ("apiVersion", "kind", "metadata")


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def ordered_manifest(obj: dict[str, Any]) -> dict[str, Any]:
    """apiVersion, kind, metadata first; everything else in key order, so files diff cleanly."""
    body = _sorted(obj)
    return {**{k: body[k] for k in _HEAD if k in body}, **{k: v for k, v in body.items() if k not in _HEAD}}


def helm_releases(plan: Plan) -> list[dict[str, Any]]:
    releases = []
    for res in plan.by_type(HELM_RELEASE):
        inputs = res["inputs"]
        releases.append(
            {
                "logicalName": res["name"],
                "name": inputs.get("name"),
                "namespace": inputs.get("namespace"),
                "chart": inputs.get("chart"),
                "repository": (inputs.get("repositoryOpts") or {}).get("repo"),
                "version": inputs.get("version"),
                "values": inputs.get("values", {}),
            }
        )
    return releases


def component_of(plan: Plan, res: dict[str, Any]) -> str:
    """The top-level component a resource belongs to (its outermost non-stack ancestor)."""
    index = {r["urn"]: r for r in plan.resources}
    current = res
    top = None
    while current is not None:
        parent = current.get("parent")
        if not parent or parent not in index:
            top = current
            break
        current = index[parent]
    if top is None or (top is res and res["custom"]):
        return "(stack)"
    return f"{top['type']} {top['name']}"


def write(plan: Plan, out: Path) -> None:
    """DIR/resources.json, DIR/manifests/<namespace>/<kind>-<name>.yaml, DIR/helm-releases.yaml."""
    if out.exists():
        for sub in ("manifests",):
            shutil.rmtree(out / sub, ignore_errors=True)
    (out / "manifests").mkdir(parents=True, exist_ok=True)
    (out / "resources.json").write_text(plan.to_json() + "\n")
    for obj in kubernetes_objects(plan):
        meta = obj.get("metadata") or {}
        folder = out / "manifests" / (meta.get("namespace") or "_cluster")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{obj['kind'].lower()}-{meta.get('name', 'unnamed')}.yaml"
        path.write_text(yaml.safe_dump(obj, sort_keys=False))
    (out / "helm-releases.yaml").write_text(yaml.safe_dump(helm_releases(plan), sort_keys=False))


def summary(plan: Plan) -> str:
    lines = [
        f"stack {plan.stack}: {len(plan.resources)} resources, {len(plan.invokes)} invokes, {len(plan.outputs)} outputs"
    ]
    if plan.preview:
        unknown = sum(1 for r in plan.resources if UNKNOWN_MASK in json.dumps(r.get("outputs", {})))
        empty = sum(1 for r in plan.resources if r["custom"] and not r.get("outputs"))
        lines.append(
            f"first preview (dry run): {unknown} resources with {UNKNOWN_MASK} outputs, {empty} with no outputs yet"
        )
    if plan.placeholders:
        lines.append("offline placeholders (secret, fake): " + ", ".join(plan.placeholders))
    by_component = Counter(component_of(plan, r) for r in plan.resources)
    lines.append("by component:")
    lines += [f"  {count:4d}  {name}" for name, count in sorted(by_component.items())]
    by_type = Counter(r["type"] for r in plan.resources if r["custom"])
    lines.append("by type:")
    lines += [f"  {count:4d}  {name}" for name, count in sorted(by_type.items())]
    tokens = Counter(i["token"] for i in plan.invokes)
    lines.append("invokes:")
    lines += [f"  {count:4d}  {name}" for name, count in sorted(tokens.items())]
    lines.append("outputs:")
    for key, value in plan.outputs.items():
        shown = value if isinstance(value, str) else yaml.safe_dump(value, default_flow_style=True).strip()
        lines.append(f"  {key}: {shown}")
    return "\n".join(lines)
