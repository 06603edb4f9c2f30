"""Where traffic goes: route weights per color, the colors that must pass a gate, canary stickiness.

Pure functions of ``activeColor`` and ``canaryWeight``: the routes, the gates and the Services all follow
them, so a switch or a canary step is one change per route (``tests/test_release_order.py`` checks every
order in which the engine may apply the rest).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..config import CanaryStickiness
from ..names import COLORS, Color, idle_color


def weights(active: Color, canary_weight: int, deployed: Iterable[str]) -> dict[Color, int]:
    """Route weight of each deployed color (one with a tag): the active color takes ``100 - canaryWeight``,
    the idle one ``canaryWeight``. Listed in a fixed order (blue, green) so a switch changes numbers only."""
    have = set(deployed)
    share = {active: 100 - canary_weight, idle_color(active): canary_weight}
    return {color: share[color] for color in COLORS if color in have}


def gated(active: Color, canary_weight: int) -> tuple[Color, ...]:
    """Colors that take traffic and so must have passed their promotion gate: the active color (the stable
    Service's, whatever its route weight) and the idle one while a canary sends it a share."""
    colors = {active} | ({idle_color(active)} if canary_weight > 0 else set())
    return tuple(c for c in COLORS if c in colors)


def session_persistence(app: str, stickiness: CanaryStickiness | None, canary_weight: int) -> dict[str, Any] | None:
    """Cookie session persistence on the app's route while a canary splits it (0 < weight < 100), so a client
    stays on the color it first reached; none otherwise (a cookie would only pin clients to pods).
    Gateway API HTTPRoute ``rules[].sessionPersistence`` (experimental channel; gateway-api apis/v1/shared_types.go
    ``SessionPersistence``, whose CEL rule requires absoluteTimeout with a Permanent cookie)."""
    if stickiness is None or app not in stickiness.apps or not 0 < canary_weight < 100:
        return None
    return {
        "sessionName": stickiness.cookie_name,
        "type": "Cookie",
        "absoluteTimeout": stickiness.absolute_timeout,
        "cookieConfig": {"lifetimeType": "Permanent"},
    }
