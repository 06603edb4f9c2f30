"""Every order the engine may apply a runbook step in keeps the traffic safe (tools/plan/rollout.py).

For each step of docs/RUNBOOK.md, the update from the stack before to the stack after is taken apart into
its steps and their ordering; every state the engine can pass through is checked: no route weight and no
stable Service on a color without running pods or without a passed gate for its tag, no color's share
outside its before/after range (the old color serves until the new one takes over), and some color's
workers always running.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from components.apps import jobs
from tests.conftest import run_program
from tools.plan import engine, rollout

FIXTURES = Path(__file__).parent / "fixtures" / "previous_design"

# (name, stack settings before, settings after): the runbook's steps on prod.
RUNBOOK = [
    ("release to the idle color", {}, {"colors.green.tag": "v1.6.0"}),
    ("start a canary", {}, {"canaryWeight": "5"}),
    ("canary step", {"canaryWeight": "5"}, {"canaryWeight": "50"}),
    ("canary to 100", {"canaryWeight": "50"}, {"canaryWeight": "100"}),
    ("promote after a full canary", {"canaryWeight": "100"}, {"activeColor": "green"}),
    ("promote from a partial canary", {"canaryWeight": "50"}, {"activeColor": "green"}),
    ("switch without a canary", {}, {"activeColor": "green"}),
    ("abort a canary", {"canaryWeight": "50"}, {}),
    ("roll back", {"activeColor": "green"}, {}),
    ("scale the old color down", {"activeColor": "green"}, {"activeColor": "green", "colors.blue.running": "false"}),
    ("bring the old color back", {"activeColor": "green", "colors.blue.running": "false"}, {"activeColor": "green"}),
    ("rotate the secrets", {}, {"secrets.rotation": "2027-02"}),
]


@pytest.mark.parametrize(("name", "before", "after"), RUNBOOK, ids=[r[0] for r in RUNBOOK])
def test_every_order_of_a_runbook_step_keeps_traffic_safe(name: str, before: dict, after: dict) -> None:
    report = rollout.check(run_program("prod", before), run_program("prod", after), jobs.gate_job_name)
    assert report.steps, f"{name}: the step changes nothing the traffic depends on"
    assert report.violations == [], "\n".join(f"{v.problem} after {', '.join(v.state)}" for v in report.violations)


def test_a_switch_has_many_orders_and_all_are_checked() -> None:
    report = rollout.check(run_program("prod"), run_program("prod", {"activeColor": "green"}), jobs.gate_job_name)
    assert sorted(report.steps) == sorted(
        [
            *(f"create Job {app}-gate-green-v1-5-0" for app in ("broxiva-api", "broxiva-web")),
            *(f"update Service {svc}" for app in ("broxiva-api", "broxiva-web") for svc in (app, f"{app}-preview")),
            *(f"update HTTPRoute {app}" for app in ("broxiva-api", "broxiva-web")),
            *(f"update Deployment broxiva-worker-{c}" for c in ("blue", "green")),
            *(f"delete Job {app}-gate-blue-v1-4-2" for app in ("broxiva-api", "broxiva-web")),
        ]
    )
    assert report.states > 100 and report.orders > 10_000


def _previous(name: str) -> engine.Plan:
    return engine.Plan.from_dict(json.loads((FIXTURES / f"{name}.json").read_text()))


def test_the_previous_design_sends_traffic_back_to_the_old_color() -> None:
    """The design before per-color Services: the routes weighed the stable and preview Services, whose
    selectors flip on a switch. Promoting after a full canary (canary 100 -> activeColor green, canary 0),
    the Services may flip before the routes change: all traffic goes back to blue for a moment."""
    report = rollout.check(_previous("base"), _previous("head"))
    back = [v for v in report.violations if "gives blue 100%, outside 0-0%" in v.problem]
    assert back, report.violations
    assert any(all(not s.startswith("update HTTPRoute") for s in v.state) for v in back)


def _without_dependency(plan: engine.Plan, typ: str, name: str, on: str) -> engine.Plan:
    doc = copy.deepcopy(plan.to_dict())
    for res in doc["resources"]:
        if res["type"] == typ and res["name"] == name:
            res["dependencies"] = [d for d in res["dependencies"] if on not in d]
    return engine.Plan.from_dict(doc)


ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"


@pytest.mark.parametrize(
    ("before", "after", "typ", "name", "on", "problem"),
    [
        # A route that did not wait for its gate would send the canary share to an unchecked release.
        ({}, {"canaryWeight": "5"}, ROUTE, "routes-broxiva-api", "gate-green", "has not passed its gate"),
        # An old color's workers stopped before the new color's run: no one takes the jobs for a moment.
        (
            {},
            {"activeColor": "green"},
            DEPLOYMENT,
            "broxiva-worker-blue",
            "broxiva-worker-green",
            "no color runs the broxiva-worker workers",
        ),
    ],
)
def test_the_check_finds_a_missing_dependency(before, after, typ, name, on, problem) -> None:
    head = _without_dependency(run_program("prod", after), typ, name, on)
    report = rollout.check(run_program("prod", before), head, jobs.gate_job_name)
    assert any(problem in v.problem for v in report.violations), report.violations


def test_changing_the_tag_of_a_color_that_takes_traffic_is_caught() -> None:
    """Why the runbook releases only to the idle color at canary 0: a color with traffic would serve the new
    tag before its gate has run."""
    report = rollout.check(
        run_program("prod", {"canaryWeight": "10"}),
        run_program("prod", {"canaryWeight": "10", "colors.green.tag": "v1.6.0"}),
        jobs.gate_job_name,
    )
    assert any("v1.6.0, which has not passed its gate" in v.problem for v in report.violations)


def test_the_first_update_from_the_previous_design_keeps_traffic_safe() -> None:
    """Deploying this design over the previous one: the per-color Services and the gates come first, the routes
    move onto them only after that, in every order (the previous state has no gates: traffic is checked alone)."""
    report = rollout.check(_previous("head"), run_program("prod", {"activeColor": "green"}))
    assert "update HTTPRoute broxiva-api" in report.steps and "create Service broxiva-api-green" in report.steps
    assert report.violations == [], report.violations[:5]
    assert report.states > 100
