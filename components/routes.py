"""HTTPRoutes on broxiva-gateway: each host to its app, split between stable and preview by canaryWeight."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from .blue_green import SERVICE_PORT
from .config import StackConfig
from .edge import GATEWAY_API, Listener


def backend_refs(app_name: str, canary_weight: int) -> list[dict]:
    """Stable and preview Services of an app; weight 0 on the preview is the plain blue/green state."""
    return [
        {"kind": "Service", "name": app_name, "port": SERVICE_PORT, "weight": 100 - canary_weight},
        {"kind": "Service", "name": f"{app_name}-preview", "port": SERVICE_PORT, "weight": canary_weight},
    ]


def app_routes(cfg: StackConfig, listeners: list[Listener]) -> dict[str, dict]:
    """Route name -> HTTPRoute spec (without parent names) for every routed app."""
    by_host = {listener.hostname: listener.name for listener in listeners}
    routes = {}
    for app_name, app in sorted(cfg.routed_apps.items()):
        hosts = [getattr(cfg.domains, h) for h in app.hosts]
        routes[app_name] = {
            "sections": [by_host[h] for h in hosts],
            "hostnames": hosts,
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": app.path_prefix}}],
                    "backendRefs": backend_refs(app_name, cfg.canary_weight),
                }
            ],
        }
    return routes


@dataclass(frozen=True)
class RoutesArgs:
    config: StackConfig
    """Domains, routed apps and the canary weight."""
    namespace: pulumi.Input[str]
    """App namespace (the Gateway's)."""
    gateway_name: pulumi.Input[str]
    """The Gateway the routes attach to."""
    listeners: list[Listener]
    """The Gateway's HTTPS listeners (section names per host)."""
    depends_on: list[pulumi.Resource]
    """The Services the routes send traffic to."""


class Routes(pulumi.ComponentResource):
    """Everything on HTTPS; www redirects (301) to the web host."""

    route_names: pulumi.Output[list[str]]

    def __init__(self, name: str, args: RoutesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:apps:Routes", name, None, opts)
        cfg = args.config
        names = []
        for route_name, spec in app_routes(cfg, args.listeners).items():
            route = k8s.apiextensions.CustomResource(
                f"{name}-{route_name}",
                api_version=GATEWAY_API,
                kind="HTTPRoute",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=route_name, namespace=args.namespace),
                spec={
                    "parentRefs": [{"name": args.gateway_name, "sectionName": s} for s in spec["sections"]],
                    "hostnames": spec["hostnames"],
                    "rules": spec["rules"],
                },
                opts=pulumi.ResourceOptions(parent=self, depends_on=args.depends_on),
            )
            names.append(route.metadata.apply(lambda m: m["name"]))
        www = next((listener for listener in args.listeners if listener.hostname == cfg.domains.www), None)
        if www is not None:
            redirect = k8s.apiextensions.CustomResource(
                f"{name}-www-redirect",
                api_version=GATEWAY_API,
                kind="HTTPRoute",
                metadata=k8s.meta.v1.ObjectMetaArgs(name="www-redirect", namespace=args.namespace),
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
                                        "hostname": cfg.domains.web,
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
