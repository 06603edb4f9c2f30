"""The traffic table of the offline diff and of its pull request comment."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.conftest import PROJECT_DIR, run_program
from tools.plan import __main__ as plan_cli
from tools.plan import traffic


@pytest.mark.parametrize(
    ("before", "after", "api"),
    [
        ({}, {"activeColor": "green"}, {"blue": (100.0, 0.0), "green": (0.0, 100.0)}),
        ({}, {"canaryWeight": "25"}, {"blue": (100.0, 75.0), "green": (0.0, 25.0)}),
        ({"canaryWeight": "50"}, {}, {"blue": (50.0, 100.0), "green": (50.0, 0.0)}),
        ({"canaryWeight": "100"}, {"activeColor": "green"}, {"blue": (0.0, 0.0), "green": (100.0, 100.0)}),
    ],
)
def test_shares_per_app_and_color(before: dict, after: dict, api: dict) -> None:
    table = traffic.shares(run_program("prod", before), run_program("prod", after))
    assert set(table) == {"broxiva-api", "broxiva-web"}
    assert table["broxiva-api"] == api and table["broxiva-web"] == api


def test_markdown_marks_what_moves() -> None:
    table = {"broxiva-api": {"blue": (100.0, 75.0), "green": (0.0, 25.0)}, "broxiva-web": {"blue": (100.0, 100.0)}}
    assert traffic.markdown(table).splitlines() == [
        "| Traffic | blue | green |",
        "|---|---|---|",
        "| broxiva-api | **100% → 75%** | **0% → 25%** |",
        "| broxiva-web | 100% | 0% |",
    ]
    same = {"broxiva-api": {"blue": (100.0, 100.0), "green": (0.0, 0.0)}}
    assert traffic.markdown(same) == "Traffic unchanged: broxiva-api blue 100%, green 0%.\n"


def test_the_diff_command_prints_and_writes_the_table(tmp_path, capsys) -> None:
    out = tmp_path / "traffic.md"
    code = plan_cli.main(["diff", "--stack", "prod", "--set", "activeColor=green", "--traffic", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert printed.startswith("| Traffic | blue | green |")
    assert "| broxiva-api | **100% → 0%** | **0% → 100%** |" in out.read_text()
    code = plan_cli.main(["diff", "--stack", "prod", "--set", "canaryWeight=5", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["traffic"]["broxiva-web"]["green"] == {"before": 0.0, "after": 5.0}


def test_the_pull_request_comment_shows_the_table() -> None:
    workflow = yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / "preview.yml").read_text())
    script = next(step["run"] for job in workflow["jobs"].values() for step in job["steps"] if step.get("id") == "plan")
    assert "--traffic traffic.md" in script
    # Rendered Markdown, before the raw output's code block.
    assert script.index("cat traffic.md") < script.index("````text")
