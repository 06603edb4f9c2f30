"""What each step of the release runbook changes, and how many orders the engine may apply it in.

    venv/bin/python benchmarks/release.py [--stack prod]

For each runbook step: the resources the diff adds, changes and removes, by kind; the steps on the objects
traffic depends on; how many intermediate states and orders the engine may pass through
(tools/plan/rollout.py), the traffic problems found in them, and the seconds the check took.
The previous design (tests/fixtures/previous_design, a promote after a full canary) is checked the same way.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from components.apps import jobs  # noqa: E402
from tools.plan import diff as plan_diff  # noqa: E402
from tools.plan import engine, rollout, stackconfig  # noqa: E402

STEPS = [
    ("release green v1.6.0", {}, {"colors.green.tag": "v1.6.0"}),
    ("start canary 0 -> 5", {}, {"canaryWeight": "5"}),
    ("canary step 5 -> 50", {"canaryWeight": "5"}, {"canaryWeight": "50"}),
    ("promote at canary 100", {"canaryWeight": "100"}, {"activeColor": "green"}),
    ("switch at canary 0", {}, {"activeColor": "green"}),
    ("abort canary 50 -> 0", {"canaryWeight": "50"}, {}),
    ("scale blue down", {"activeColor": "green"}, {"activeColor": "green", "colors.blue.running": "false"}),
    ("rotate secrets", {}, {"secrets.rotation": "2027-02"}),
]


def render(stack: str, sets: dict[str, str]) -> engine.Plan:
    cfg = stackconfig.load(ROOT, stack, sets=list(sets.items()))
    return engine.run(ROOT, cfg, fill_secrets=True, repo_root=ROOT)


def kinds(result: plan_diff.PlanDiff) -> str:
    counted: Counter[str] = Counter()
    for sign, items in (("+", [r["type"] for r in result.added]), ("~", [c.type for c in result.changed])):
        counted.update(f"{sign}{t.rsplit(':', 1)[-1]}" for t in items)
    counted.update(f"-{r['type'].rsplit(':', 1)[-1]}" for r in result.removed)
    return " ".join(f"{k}×{n}" for k, n in sorted(counted.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="prod")
    args = parser.parse_args()
    cache: dict[str, engine.Plan] = {}

    def plan(sets: dict[str, str]) -> engine.Plan:
        key = json.dumps(sets, sort_keys=True)
        if key not in cache:
            cache[key] = render(args.stack, sets)
        return cache[key]

    print(f"stack {args.stack}")
    print(
        f"{'step':24} {'add':>3} {'chg':>3} {'del':>3} {'states':>6} {'orders':>9} {'bad':>3} {'check s':>7}  by kind"
    )
    for name, before, after in STEPS:
        base, head = plan(before), plan(after)
        result = plan_diff.diff(base, head)
        start = time.perf_counter()
        report = rollout.check(base, head, jobs.gate_job_name)
        took = time.perf_counter() - start
        print(
            f"{name:24} {len(result.added):3} {len(result.changed):3} {len(result.removed):3} "
            f"{report.states:6} {report.orders:9} {len(report.violations):3} {took:7.2f}  {kinds(result)}"
        )
    fixtures = ROOT / "tests" / "fixtures" / "previous_design"
    old = [engine.Plan.from_dict(json.loads((fixtures / f"{n}.json").read_text())) for n in ("base", "head")]
    report = rollout.check(old[0], old[1], limit=1000)
    print(
        f"{'previous design, promote':24} {'':11} {report.states:6} {report.orders:9} "
        f"{len(report.violations):3}           (states with traffic back on blue: "
        f"{len({v.state for v in report.violations})})"
    )


if __name__ == "__main__":
    main()
