"""What the offline diff counts as a change: what the engine would act on, and nothing else."""

from __future__ import annotations

import copy
import json

import pytest

from tests.conftest import run_program
from tools.plan import __main__ as plan_cli
from tools.plan.diff import diff, format_text
from tools.plan.engine import Plan

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
BASE_URN = "urn:pulumi:prod::broxiva-platform::broxiva:apps:BlueGreenService$kubernetes:apps/v1:Deployment::api-blue"


def _plan(**changes) -> Plan:
    resource = {
        "urn": BASE_URN,
        "type": DEPLOYMENT,
        "name": "api-blue",
        "custom": True,
        "parent": None,
        "provider": None,
        "protect": False,
        "dependencies": ["urn:pulumi:prod::broxiva-platform::kubernetes:core/v1:Namespace::app-namespace"],
        "ignoreChanges": [],
        "deleteBeforeReplace": False,
        "inputs": {"spec": {"replicas": 2}},
        "secretDigests": {},
    }
    resource.update(copy.deepcopy(changes))
    return Plan("broxiva-platform", "prod", [resource], [], {})


def test_identical_plans_differ_in_nothing():
    result = diff(_plan(), _plan())
    assert result.empty and not result.reordered
    assert format_text(result).endswith("0 to add, 0 to change, 0 to delete, outputs unchanged")


def test_new_dependencies_alone_are_no_step():
    extra = "urn:pulumi:prod::broxiva-platform::broxiva:k8s:ExternalSecrets$kubernetes:x:ExternalSecret::es-all"
    head = _plan(dependencies=[*_plan().resources[0]["dependencies"], extra])
    result = diff(_plan(), head)
    assert result.empty and not result.changed
    assert [c.name for c in result.reordered] == ["api-blue"]
    text = format_text(result)
    assert "= kubernetes:apps/v1:Deployment api-blue: dependencies only (+es-all)" in text
    assert text.endswith("0 to change, 0 to delete, outputs unchanged; 1 with new dependencies only (no step)")
    assert result.to_dict()["summary"] == {"add": 0, "change": 0, "delete": 0, "reorder": 1, "move": 0}


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("inputs", {"spec": {"replicas": 3}}, "spec.replicas"),
        ("protect", True, "<protect>"),
        ("provider", "urn:pulumi:prod::broxiva-platform::pulumi:providers:kubernetes::k8s::id", "<provider>"),
        ("ignoreChanges", ["spec.replicas"], "<ignoreChanges>"),
        ("deleteBeforeReplace", True, "<deleteBeforeReplace>"),
    ],
)
def test_inputs_and_other_options_are_changes(field, value, path):
    result = diff(_plan(), _plan(**{field: value}))
    assert not result.empty and not result.reordered
    assert [p for p, _, _ in result.changed[0].paths] == [path]


def test_dependencies_beside_an_input_change_are_reported_with_it():
    head = _plan(inputs={"spec": {"replicas": 3}}, dependencies=[])
    [change] = diff(_plan(), head).changed
    assert {p for p, _, _ in change.paths} == {"spec.replicas", "<dependencies>"}


# --------------------------------------------------------------------------- aliases and protection

OLD_PARENT = (
    "urn:pulumi:prod::broxiva-platform::pulumi:pulumi:Stack$broxiva:azure:DnsRecords$azure-native:dns:Zone::dns-zone"
)
NEW_PARENT = "urn:pulumi:prod::broxiva-platform::pulumi:pulumi:Stack$broxiva:azure:DnsRecords::dns"
RECORD = "azure-native:dns:RecordSet"


def _record(urn: str, parent: str, aliases: list, ttl: int = 300) -> dict:
    return {
        "urn": urn,
        "type": RECORD,
        "name": "dns-a-api",
        "custom": True,
        "parent": parent,
        "provider": None,
        "protect": False,
        "dependencies": [],
        "ignoreChanges": [],
        "deleteBeforeReplace": False,
        "aliases": aliases,
        "inputs": {"ttl": ttl},
        "secretDigests": {},
    }


OLD_URN = f"urn:pulumi:prod::broxiva-platform::azure-native:dns:Zone${RECORD}::dns-a-api"
NEW_URN = f"urn:pulumi:prod::broxiva-platform::broxiva:azure:DnsRecords${RECORD}::dns-a-api"


@pytest.mark.parametrize("alias", [{"spec": {"parentUrn": OLD_PARENT}}, {"urn": OLD_URN}])
def test_a_resource_that_names_its_old_urn_in_aliases_is_moved_not_replaced(alias):
    base = Plan("broxiva-platform", "prod", [_record(OLD_URN, OLD_PARENT, [])], [], {})
    head = Plan("broxiva-platform", "prod", [_record(NEW_URN, NEW_PARENT, [alias])], [], {})
    result = diff(base, head)
    assert result.empty and not result.added and not result.removed
    assert [(c.name, c.paths) for c in result.moved] == [("dns-a-api", [("<urn>", OLD_URN, NEW_URN)])]
    text = format_text(result)
    assert f"> {RECORD} dns-a-api: moved from azure-native:dns:Zone${RECORD}::dns-a-api (alias, same resource)" in text
    assert text.endswith("0 to delete, outputs unchanged; 1 moved by alias")


def test_a_moved_resource_still_shows_its_changes():
    base = Plan("broxiva-platform", "prod", [_record(OLD_URN, OLD_PARENT, [])], [], {})
    head = Plan("broxiva-platform", "prod", [_record(NEW_URN, NEW_PARENT, [{"urn": OLD_URN}], ttl=60)], [], {})
    (moved,) = diff(base, head).moved
    assert moved.paths == [("<urn>", OLD_URN, NEW_URN), ("ttl", 300, 60)]


def test_without_the_alias_it_is_a_delete_and_a_create():
    base = Plan("broxiva-platform", "prod", [_record(OLD_URN, OLD_PARENT, [])], [], {})
    head = Plan(
        "broxiva-platform", "prod", [_record(NEW_URN, NEW_PARENT, [{"spec": {"parentUrn": NEW_PARENT}}])], [], {}
    )
    result = diff(base, head)
    assert [r["urn"] for r in result.added] == [NEW_URN] and [r["urn"] for r in result.removed] == [OLD_URN]


@pytest.mark.parametrize("protect", [True, False])
def test_removing_a_protected_resource_is_flagged(protect):
    base = Plan("broxiva-platform", "prod", [_record(OLD_URN, OLD_PARENT, []) | {"protect": protect}], [], {})
    text = format_text(diff(base, Plan("broxiva-platform", "prod", [], [], {})))
    assert ("(protected: the update stops here" in text) is protect


# --------------------------------------------------------------------------- traffic

SWITCHED = {"blue": (100.0, 0.0), "green": (0.0, 100.0)}
CANARY = {"blue": (100.0, 75.0), "green": (0.0, 25.0)}


def test_a_switch_moves_every_route_from_blue_to_green():
    result = diff(run_program("prod"), run_program("prod", {"activeColor": "green"}))
    assert result.traffic == {"broxiva-api": SWITCHED, "broxiva-web": SWITCHED}
    assert format_text(result).splitlines()[:5] == [
        "| Traffic | blue | green |",
        "|---|---|---|",
        "| broxiva-api | **100% → 0%** | **0% → 100%** |",
        "| broxiva-web | **100% → 0%** | **0% → 100%** |",
        "",
    ]
    assert result.to_dict()["traffic"]["broxiva-api"] == {
        "blue": {"before": 100.0, "after": 0.0},
        "green": {"before": 0.0, "after": 100.0},
    }
    assert not result.empty


def test_a_canary_step_gives_the_idle_color_its_weight():
    result = diff(run_program("prod", {"canaryWeight": "0"}), run_program("prod", {"canaryWeight": "25"}))
    assert result.traffic == {"broxiva-api": CANARY, "broxiva-web": CANARY}
    lines = format_text(result).splitlines()
    assert lines[:2] == ["| Traffic | blue | green |", "|---|---|---|"]
    assert lines[2:4] == [
        "| broxiva-api | **100% → 75%** | **0% → 25%** |",
        "| broxiva-web | **100% → 75%** | **0% → 25%** |",
    ]
    assert result.to_dict()["traffic"]["broxiva-web"]["green"] == {"before": 0.0, "after": 25.0}


@pytest.mark.parametrize("sets", [{}, {"colors.green.tag": "v1.5.1"}])
def test_traffic_that_does_not_move_is_one_line(sets):
    result = diff(run_program("prod"), run_program("prod", sets))
    unchanged = "Traffic unchanged: broxiva-api blue 100%, green 0%; broxiva-web blue 100%, green 0%."
    text = format_text(result)
    assert text.splitlines()[0] == unchanged
    assert "| Traffic |" not in text
    assert result.traffic["broxiva-api"] == {"blue": (100.0, 100.0), "green": (0.0, 0.0)}
    # The summary adds no step: nothing to do is still empty, a new tag on the idle color is not.
    assert result.empty is (not sets)


def test_plans_without_routes_have_no_traffic_line():
    result = diff(_plan(), _plan())
    assert result.traffic == {} and result.to_dict()["traffic"] == {}
    assert format_text(result) == "0 to add, 0 to change, 0 to delete, outputs unchanged"


def test_the_diff_command_prints_the_table_once_at_the_top(capsys):
    assert plan_cli.main(["diff", "--stack", "prod", "--set", "activeColor=green"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("| Traffic | blue | green |\n")
    assert printed.count("| Traffic |") == 1
    assert plan_cli.main(["diff", "--stack", "prod", "--set", "canaryWeight=25", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["traffic"]["broxiva-api"]["blue"] == {"before": 100.0, "after": 75.0}
