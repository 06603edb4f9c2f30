"""The Grafana dashboards kept in ``dashboards/`` (JSON, as Grafana exports them), and the values the program
fills in when it provisions them: each dashboard's constant variables (the namespace, and for the database
and Redis ones the subscription, resource group and resource names the Azure Monitor panels query)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

DASHBOARD_DIR = Path(__file__).resolve().parents[2] / "dashboards"
NAMES: tuple[str, ...] = tuple(sorted(p.stem for p in DASHBOARD_DIR.glob("*.json")))
"""Every dashboard, by file stem (api, blue-green, business, database, redis, web)."""


def load(name: str) -> dict[str, Any]:
    """A dashboard as stored."""
    return json.loads((DASHBOARD_DIR / f"{name}.json").read_text())


def variables(dashboard: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The dashboard's template variables (data sources, constants, choices), in their order."""
    return list((dashboard.get("templating") or {}).get("list") or [])


def constants(dashboard: Mapping[str, Any]) -> tuple[str, ...]:
    """The names of a dashboard's constant variables: what provisioning must fill."""
    return tuple(v["name"] for v in variables(dashboard) if v.get("type") == "constant")


def render(name: str, values: Mapping[str, str]) -> str:
    """The dashboard's JSON with each constant set to ``values[constant]`` (compact, keys sorted, so the same
    values always give the same text and an unchanged dashboard is no diff). Every constant needs a value and
    every value a constant: a typo would otherwise leave a panel querying nothing."""
    dashboard = load(name)
    wanted = set(constants(dashboard))
    missing, unknown = sorted(wanted - set(values)), sorted(set(values) - wanted)
    if missing or unknown:
        raise ValueError(f"dashboard {name}: constants without a value {missing}, values for no constant {unknown}")
    for variable in variables(dashboard):
        if variable.get("type") == "constant":
            value = values[variable["name"]]
            variable["query"] = value
            variable["current"] = {"text": value, "value": value}
            variable["options"] = [{"text": value, "value": value, "selected": True}]
    return json.dumps(dashboard, sort_keys=True, separators=(",", ":"))


def panels(dashboard: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, rows' nested panels included."""
    for panel in dashboard.get("panels") or []:
        yield panel
        yield from panel.get("panels") or []


def promql_expressions(dashboard: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(panel title, refId, expr) of every Prometheus query."""
    return [
        (panel["title"], target["refId"], target["expr"])
        for panel in panels(dashboard)
        for target in panel.get("targets") or []
        if "expr" in target
    ]


def azure_metrics(dashboard: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(metric namespace, metric name) of every Azure Monitor query."""
    return [
        (target["azureMonitor"]["metricNamespace"], target["azureMonitor"]["metricName"])
        for panel in panels(dashboard)
        for target in panel.get("targets") or []
        if "azureMonitor" in target
    ]
