"""The Azure Prometheus rule groups a plan declares, exported as Prometheus rule files (rulefmt), so the real
``promtool`` can check them (``check rules``) and prove what they fire on (``test rules``).

Azure's rule group (``Microsoft.AlertsManagement/prometheusRuleGroups``) carries the same fields as a
Prometheus rule group with ISO 8601 durations (``PT5M``); an alert's Azure severity becomes the label
``azure_severity`` here, next to the rule's own labels.

    python -m tools.plan.promrules --stack prod --out rules/      # one <group>.yaml per rule group
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from components.monitoring import duration_seconds

RULE_GROUP_TYPE = "azure-native:alertsmanagement:PrometheusRuleGroup"


def prometheus_duration(iso: str) -> str:
    """``PT1H30M`` -> ``5400s``: promtool reads Prometheus durations, not ISO 8601."""
    return f"{duration_seconds(iso)}s"


def rule_groups(resources: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Rule group name -> Prometheus rule group, for every PrometheusRuleGroup in a plan's resources."""
    out: dict[str, dict[str, Any]] = {}
    for resource in resources:
        if resource["type"] != RULE_GROUP_TYPE:
            continue
        inputs = resource["inputs"]
        rules = []
        for rule in inputs.get("rules", []):
            entry: dict[str, Any] = {}
            if rule.get("record"):
                entry["record"] = rule["record"]
            else:
                entry["alert"] = rule["alert"]
            entry["expr"] = rule["expression"]
            if rule.get("for"):
                entry["for"] = prometheus_duration(rule["for"])
            labels = dict(rule.get("labels") or {})
            if "severity" in rule and rule.get("alert"):
                labels["azure_severity"] = str(rule["severity"])
            if labels:
                entry["labels"] = labels
            if rule.get("annotations"):
                entry["annotations"] = dict(rule["annotations"])
            rules.append(entry)
        name = inputs["ruleGroupName"]
        out[name] = {"name": name, "interval": prometheus_duration(inputs.get("interval", "PT1M")), "rules": rules}
    return out


def rule_file(groups: list[dict[str, Any]]) -> str:
    return yaml.safe_dump({"groups": groups}, sort_keys=False)


def main(argv: list[str] | None = None) -> int:
    from tools.plan import engine, stackconfig

    parser = argparse.ArgumentParser(prog="python -m tools.plan.promrules", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parents[2]
    plan = engine.run(root, stackconfig.load(root, args.stack))
    groups = rule_groups(plan.resources)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, group in sorted(groups.items()):
        (args.out / f"{name}.yaml").write_text(rule_file([group]))
        print(f"{args.out / (name + '.yaml')}: {len(group['rules'])} rules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
