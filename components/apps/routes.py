"""HTTPRoutes on broxiva-gateway: each host to its app, weighted between the per-color Services by
``activeColor`` and ``canaryWeight``: a switch or a canary step is one change of each route."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from ..config import CanaryStickiness, DomainsConfig
from ..k8s import charts
from ..k8s.edge import Listener
from ..names import GATEWAY_API_VERSION, SERVICE_PORT, Color
from . import traffic


@dataclass(frozen=True)
class RoutedApp:
    """An app the Gateway sends traffic to, with the Services its release component created."""

    name: str
    """App name; also the HTTPRoute's name."""
    hosts: tuple[str, ...]
    """Host names the app serves."""
    path_prefix: str
    """Path under those hosts."""
    color_services: Mapping[str, pulumi.Input[str]]
    """Service of each deployed color (``BlueGreenService.color_services``)."""
    gates: Sequence[pulumi.Resource] = ()
    """The promotion gates of the colors taking traffic: the route changes only after they passed."""


def backend_refs(app: RoutedApp, active: Color, canary_weight: int) -> list[dict[str, Any]]:
    """The per-color Services with their weights; a color with weight 0 stays listed, so a switch or a canary
    step changes numbers, never the list."""
    return [
        {"kind": "Service", "name": app.color_services[color], "port": SERVICE_PORT, "weight": weight}
        for color, weight in traffic.weights(active, canary_weight, app.color_services).items()
    ]


def route_spec(
    app: RoutedApp,
    listeners: Sequence[Listener],
    active: Color,
    canary_weight: int,
    stickiness: CanaryStickiness | None = None,
) -> dict[str, Any]:
    """An HTTPRoute spec without its parent Gateway's name: the listener sections, hosts and one rule."""
    by_host = {listener.hostname: listener.name for listener in listeners}
    rule: dict[str, Any] = {
        "matches": [{"path": {"type": "PathPrefix", "value": app.path_prefix}}],
        "backendRefs": backend_refs(app, active, canary_weight),
    }
    persistence = traffic.session_persistence(app.name, stickiness, canary_weight)
    if persistence is not None:
        rule["sessionPersistence"] = persistence
    return {"sections": [by_host[h] for h in app.hosts], "hostnames": list(app.hosts), "rules": [rule]}


@dataclass(frozen=True)
class RoutesArgs:
    namespace: pulumi.Input[str]
    """App namespace (the Gateway's)."""
    gateway_name: pulumi.Input[str]
    """The Gateway the routes attach to."""
    listeners: Sequence[Listener]
    """The Gateway's HTTPS listeners (section names per host)."""
    apps: Sequence[RoutedApp]
    """The routed apps and their Services."""
    active_color: Color
    """The color taking ``100 - canaryWeight`` percent of each route."""
    canary_weight: int
    """Percent of each app's traffic sent to the idle color."""
    domains: DomainsConfig
    """Hosts: www (when set) redirects to web."""
    stickiness: CanaryStickiness | None = None
    """Cookie session persistence on these apps' routes while a canary runs."""


class Routes(pulumi.ComponentResource):
    """Everything on HTTPS; www redirects (301) to the web host.

    Each app route waits for the promotion gates of the colors it sends traffic to: a gate that fails stops
    the update before the route changes.
    """

    route_names: pulumi.Output[list[str]]

    def __init__(self, name: str, args: RoutesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:apps:Routes", name, None, opts)
        names = []
        for app in sorted(args.apps, key=lambda a: a.name):
            spec = route_spec(app, args.listeners, args.active_color, args.canary_weight, args.stickiness)
            route = charts.custom_resource(
                f"{name}-{app.name}",
                GATEWAY_API_VERSION,
                "HTTPRoute",
                app.name,
                args.namespace,
                spec={
                    "parentRefs": [{"name": args.gateway_name, "sectionName": s} for s in spec["sections"]],
                    "hostnames": spec["hostnames"],
                    "rules": spec["rules"],
                },
                opts=pulumi.ResourceOptions(parent=self, depends_on=list(app.gates)),
            )
            names.append(route.metadata.apply(lambda m: m["name"]))
        www = next((listener for listener in args.listeners if listener.hostname == args.domains.www), None)
        if www is not None:
            redirect = charts.custom_resource(
                f"{name}-www-redirect",
                GATEWAY_API_VERSION,
                "HTTPRoute",
                "www-redirect",
                args.namespace,
                spec={
                    "parentRefs": [{"name": args.gateway_name, "sectionName": www.name}],
                    "hostnames": [www.hostname],
                    "rules": [
                        {
                            "filters": [
                                {
                                    "type": "RequestRedirect",
                                    "requestRedirect": {
                                        "scheme": "https",
                                        "hostname": args.domains.web,
                                        "statusCode": 301,
                                    },
                                }
                            ]
                        }
                    ],
                },
                opts=pulumi.ResourceOptions(parent=self),
            )
            names.append(redirect.metadata.apply(lambda m: m["name"]))
        self.route_names = pulumi.Output.all(*names)
        self.register_outputs({"route_names": self.route_names})
