"""One shared fixture: run the whole program under Pulumi's mock engine.

Mock and config state is process-global in the Pulumi SDK, so it is set inside
each run (``tools.plan.engine.run``), never at import time. Runs are pure
functions of (stack, config changes): identical requests share one result.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest

from tools.plan import engine, stackconfig

PROJECT_DIR = Path(__file__).resolve().parents[1]
STACKS = ("dev", "staging", "prod")

_cache: dict[tuple, engine.Plan] = {}


def run_program(
    stack: str,
    sets: dict[str, str] | None = None,
    *,
    unset: tuple[str, ...] = (),
    secret_sets: dict[str, str] | None = None,
    fill_secrets: bool = True,
) -> engine.Plan:
    """Render ``stack`` with ``--set``-style changes; raises engine.ProgramConfigError on bad config."""
    key = (
        stack,
        tuple(sorted((sets or {}).items())),
        unset,
        tuple(sorted((secret_sets or {}).items())),
        fill_secrets,
    )
    if key not in _cache:
        cfg = stackconfig.load(
            PROJECT_DIR,
            stack,
            sets=list((sets or {}).items()),
            secret_sets=list((secret_sets or {}).items()),
            unsets=list(unset),
        )
        _cache[key] = engine.run(PROJECT_DIR, cfg, fill_secrets=fill_secrets)
    return copy.deepcopy(_cache[key])


@pytest.fixture
def plan() -> Callable[..., engine.Plan]:
    """``plan("prod", {"activeColor": "green"})`` runs the program and returns what it declared."""
    return run_program


@pytest.fixture(params=STACKS)
def stack(request) -> str:
    return request.param
