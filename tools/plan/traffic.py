"""Each app's traffic per color before and after a change, for the offline diff and its pull request comment."""

from __future__ import annotations

from typing import Any

from . import rollout
from .engine import Plan

COLORS = ("blue", "green")


def shares(base: Plan, head: Plan) -> dict[str, dict[str, tuple[float, float]]]:
    """Route (app) -> color -> (percent before, percent after), from the routes' weights and what their
    Services select (``rollout.shares``)."""
    before, after = rollout.shares(rollout.world_of(base)), rollout.shares(rollout.world_of(head))
    out: dict[str, dict[str, tuple[float, float]]] = {}
    for app in sorted(set(before) | set(after)):
        colors = sorted(set(before.get(app, {})) | set(after.get(app, {})), key=_color_order)
        out[app] = {c: (before.get(app, {}).get(c, 0.0), after.get(app, {}).get(c, 0.0)) for c in colors}
    return out


def _color_order(color: str) -> tuple[int, str]:
    return (COLORS.index(color) if color in COLORS else len(COLORS), color)


def _pct(value: float) -> str:
    return f"{value:g}%"


def markdown(table: dict[str, dict[str, tuple[float, float]]]) -> str:
    """A Markdown table, ``before → after`` in each changed cell; one line when nothing moves."""
    changed = any(b != a for colors in table.values() for b, a in colors.values())
    if not table:
        return "No routed traffic.\n"
    colors = sorted({c for per_app in table.values() for c in per_app}, key=_color_order)
    if not changed:
        summary = "; ".join(
            f"{app} " + ", ".join(f"{c} {_pct(table[app][c][0])}" for c in colors if c in table[app]) for app in table
        )
        return f"Traffic unchanged: {summary}.\n"
    lines = ["| Traffic | " + " | ".join(colors) + " |", "|---|" + "---|" * len(colors)]
    for app, per_color in table.items():
        cells = []
        for c in colors:
            b, a = per_color.get(c, (0.0, 0.0))
            cells.append(_pct(a) if b == a else f"**{_pct(b)} → {_pct(a)}**")
        lines.append(f"| {app} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def to_dict(table: dict[str, dict[str, tuple[float, float]]]) -> dict[str, Any]:
    return {app: {c: {"before": b, "after": a} for c, (b, a) in cs.items()} for app, cs in table.items()}
