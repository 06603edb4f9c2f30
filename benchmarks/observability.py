"""What each monitoring level costs in resources and render time, and how long promtool takes on the rules.

    venv/bin/python benchmarks/observability.py [--runs N]

For each stack at each level (features.monitoring set with --set, as a reviewer would try it): the resources
the level adds over basic, split by kind, and the best-of-N render time in a fresh interpreter. Then the
rule groups of prod: rules, alerts, and promtool's wall time for `check rules` and the unit tests of
tests/test_prometheus_rules.py, plus the dashboards' panels and queries.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LEVELS = ("basic", "full", "full-alerts")
# dev names no Grafana and routes no alerts: what raising its level would take.
EXTRA = {
    "dev": {
        "observability.grafanaName": "broxiva-dev-grafana",
        "observability.alerts": '{"emails": ["devops@broxiva.com"], "routes": '
        '{"critical": ["email"], "error": ["email"], "warning": ["email"]}}',
    }
}
_RENDER = """
import sys, time, json
t = time.perf_counter()
sys.path.insert(0, {root!r})
from pathlib import Path
from tools.plan import engine, stackconfig
plan = engine.run(Path({root!r}), stackconfig.load(Path({root!r}), {stack!r}, sets={sets!r}))
print(json.dumps({{"seconds": time.perf_counter() - t, "types": [r["type"] for r in plan.resources if r["custom"]]}}))
"""


def render(stack: str, level: str, runs: int) -> tuple[float, list[str]]:
    sets = [("features.monitoring", level), *EXTRA.get(stack, {}).items()]
    best, types = float("inf"), []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", _RENDER.format(root=str(ROOT), stack=stack, sets=sets)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        best, types = min(best, result["seconds"]), result["types"]
    return best, types


def kind(token: str) -> str:
    return token.split(":")[-1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"| stack | level | resources | added over basic | render s (best of {args.runs}) |")
    print("|---|---|---|---|---|")
    for stack in ("dev", "staging", "prod"):
        base: Counter[str] = Counter()
        for level in LEVELS:
            seconds, types = render(stack, level, args.runs)
            counts = Counter(types)
            if level == "basic":
                base = counts
            added = counts - base
            top = ", ".join(f"{n} {k}" for k, n in sorted(Counter({kind(t): n for t, n in added.items()}).items()))
            print(
                f"| {stack} | {level} | {sum(counts.values())} | {sum(added.values())}: {top or '-'} | {seconds:.2f} |"
            )

    from components.azure import dashboards
    from tools.plan import engine, promrules, stackconfig

    plan = engine.run(ROOT, stackconfig.load(ROOT, "prod"))
    groups = promrules.rule_groups(plan.resources)
    rules = [r for g in groups.values() for r in g["rules"]]
    print()
    print(f"prod rule groups: {len(groups)}; rules: {len(rules)} ({sum('alert' in r for r in rules)} alerts)")
    promtool = shutil.which("promtool")
    if promtool:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "rules.yaml"
            path.write_text(promrules.rule_file(list(groups.values())))
            start = time.perf_counter()
            subprocess.run([promtool, "check", "rules", str(path)], check=True, capture_output=True)
            print(f"promtool check rules: {time.perf_counter() - start:.3f} s")
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "-n",
                "0",
                "tests/test_prometheus_rules.py",
                "-k",
                "fire_above",
            ],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        print(f"promtool test rules (all alert cases, with one prod render): {time.perf_counter() - start:.2f} s")
    boards = [dashboards.load(n) for n in dashboards.NAMES]
    panels = sum(len(list(dashboards.panels(b))) for b in boards)
    queries = sum(len(dashboards.promql_expressions(b)) + len(dashboards.azure_metrics(b)) for b in boards)
    print(f"dashboards: {len(boards)}; panels: {panels}; queries: {queries}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
