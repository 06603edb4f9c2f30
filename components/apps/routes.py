"""HTTPRoutes on broxiva-gateway: each host to its app, split between stable and preview by canaryWeight."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from ..config import DomainsConfig
from ..k8s import charts
from ..k8s.edge import Listener
from ..names import GATEWAY_API_VERSION, SERVICE_PORT
from ..options import children_depends_on


@dataclass(frozen=True)
class RoutedApp:
    """An app the Gateway sends traffic to, with the Services its release component created."""

    name: str
    """App name; also the HTTPRoute's name."""
    hosts: tuple[str, ...]
    """Host names the app serves."""
    path_prefix: str
    """Path under those hosts."""
    stable_service: pulumi.Input[str]
    """Service on the active color (``BlueGreenService.stable_service``)."""
    preview_service: pulumi.Input[str]
    """Service on the idle color (``BlueGreenService.preview_service``)."""


def backend_refs(app: RoutedApp, canary_weight: int) -> list[dict[str, Any]]:
    """Stable and preview Services of an app; weight 0 on the preview is the plain blue/green state."""
    return [
        {"kind": "Service", "name": app.stable_service, "port": SERVICE_PORT, "weight": 100 - canary_weight},
        {"kind": "Service", "name": app.preview_service, "port": SERVICE_PORT, "weight": canary_weight},
    ]


def route_spec(app: RoutedApp, listeners: Sequence[Listener], canary_weight: int) -> dict[str, Any]:
    """An HTTPRoute spec without its parent Gateway's name: the listener sections, hosts and one rule."""
    by_host = {listener.hostname: listener.name for listener in listeners}
    return {
        "sections": [by_host[h] for h in app.hosts],
        "hostnames": list(app.hosts),
        "rules": [
            {
                "matches": [{"path": {"type": "PathPrefix", "value": app.path_prefix}}],
                "backendRefs": backend_refs(app, canary_weight),
            }
        ],
    }


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
    canary_weight: int
    """Percent of each app's traffic sent to its preview Service."""
    domains: DomainsConfig
    """Hosts: www (when set) redirects to web."""


class Routes(pulumi.ComponentResource):
    """Everything on HTTPS; www redirects (301) to the web host.

    The app routes wait for what the component's ``depends_on`` names (the release components), so a route
    never points at a Service before its Deployments exist.
    """

    route_names: pulumi.Output[list[str]]

    def __init__(self, name: str, args: RoutesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:apps:Routes", name, None, opts)
        names = []
        for app in sorted(args.apps, key=lambda a: a.name):
            spec = route_spec(app, args.listeners, args.canary_weight)
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
                opts=pulumi.ResourceOptions(parent=self, depends_on=children_depends_on(opts)),
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
