"""The edge: Envoy Gateway implementing Gateway API on the environment's static public IP.

ingress-nginx is retired upstream and the AKS NGINX add-on reaches end of support in
November 2026, so the edge is Gateway API (gateway.networking.k8s.io/v1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ..config import DomainsConfig
from ..names import GATEWAY_API_GROUP, GATEWAY_API_VERSION, GATEWAY_NAMESPACE, HTTP_LISTENER
from . import charts

CONTROLLER_NAME = "gateway.envoyproxy.io/gatewayclass-controller"
ENVOY_API = "gateway.envoyproxy.io/v1alpha1"
GATEWAY_CLASS = "broxiva"
GATEWAY_NAME = "broxiva-gateway"
PROXY_CONFIG = "broxiva-proxy"

# Local rate limits per route and Envoy replica (the matrix: off in dev, on in staging, stricter in prod).
RATE_LIMITS: dict[str, list[dict[str, Any]]] = {
    "off": [],
    "standard": [{"limit": {"requests": 200, "unit": "Second"}}],
    "strict": [
        {
            "clientSelectors": [{"path": {"type": "PathPrefix", "value": "/api/auth"}}],
            "limit": {"requests": 20, "unit": "Second"},
        },
        {"limit": {"requests": 100, "unit": "Second"}},
    ],
}


@dataclass(frozen=True)
class Listener:
    name: str
    """Section name routes attach to."""
    hostname: str
    """Host the listener serves."""
    certificate_secret: str
    """TLS secret (issued by cert-manager) in the Gateway's namespace."""


def https_listeners(domains: DomainsConfig, web_secret: str, api_secret: str) -> list[Listener]:
    """One HTTPS listener per host; web, admin and www share the web certificate."""
    listeners = [
        Listener("https-web", domains.web, web_secret),
        Listener("https-admin", domains.admin, web_secret),
        Listener("https-api", domains.api, api_secret),
    ]
    if domains.www:
        listeners.append(Listener("https-www", domains.www, web_secret))
    return listeners


def listener_spec(listener: Listener) -> dict[str, Any]:
    return {
        "name": listener.name,
        "hostname": listener.hostname,
        "port": 443,
        "protocol": "HTTPS",
        "tls": {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "name": listener.certificate_secret}]},
        "allowedRoutes": {"namespaces": {"from": "Same"}},
    }


@dataclass(frozen=True)
class EdgeArgs:
    app_namespace: pulumi.Input[str]
    """Namespace of the Gateway, its EnvoyProxy settings and the routes."""
    domains: DomainsConfig
    """Hosts served."""
    web_certificate_secret: str
    """TLS secret of the web certificate (web, admin, www, wildcard)."""
    api_certificate_secret: str
    """TLS secret of the API certificate."""
    public_ip_name: pulumi.Input[str]
    """Static public IP the load balancer must use."""
    public_ip_resource_group: pulumi.Input[str]
    """Resource group of that IP."""
    rate_limiting: str
    """off, standard or strict."""
    proxy_replicas: int
    """Envoy proxy replicas."""
    controller_replicas: int
    """Envoy Gateway controller replicas."""


class Edge(pulumi.ComponentResource):
    """Envoy Gateway (Helm), GatewayClass, EnvoyProxy, Gateway broxiva-gateway, the HTTP->HTTPS redirect
    and the environment's rate limits."""

    gateway_name: pulumi.Output[str]
    gateway_namespace: pulumi.Output[str]
    listeners: list[Listener]
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:k8s:Edge", name, None, opts)
        self.release = charts.add_on(
            name,
            "envoy-gateway",
            charts.ENVOY_GATEWAY,
            GATEWAY_NAMESPACE,
            {
                "deployment": {
                    "replicas": args.controller_replicas,
                    "envoyGateway": {
                        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "1024Mi"}}
                    },
                },
                "podDisruptionBudget": {"minAvailable": 1 if args.controller_replicas > 1 else 0},
                # The CRDs come from their own release, which upgrades them (charts.ENVOY_GATEWAY_CRDS).
                "crds": {"enabled": False},
            },
            self,
            level="baseline",
            crds=charts.CrdRelease(
                "gateway-crds",
                charts.ENVOY_GATEWAY_CRDS,
                # The experimental channel, as gateway-helm installed them: moving to standard would drop the
                # experimental fields (e.g. HTTPRoute sessionPersistence) from the CRDs under live objects.
                {
                    "crds": {
                        "gatewayAPI": {"enabled": True, "channel": "experimental"},
                        "envoyGateway": {"enabled": True},
                    }
                },
            ),
        )
        crd_ready = pulumi.ResourceOptions(parent=self, depends_on=[self.release])

        proxy_deployment: dict[str, Any] = {
            "replicas": args.proxy_replicas,
            "container": {"resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}}},
        }
        provider: dict[str, Any] = {
            "type": "Kubernetes",
            "kubernetes": {
                "envoyDeployment": proxy_deployment,
                "envoyService": {
                    "type": "LoadBalancer",
                    # Keep client source IPs for rate limits and logs.
                    "externalTrafficPolicy": "Local",
                    "annotations": {
                        "service.beta.kubernetes.io/azure-pip-name": args.public_ip_name,
                        "service.beta.kubernetes.io/azure-load-balancer-resource-group": args.public_ip_resource_group,
                    },
                },
            },
        }
        if args.proxy_replicas > 1:
            provider["kubernetes"]["envoyPDB"] = {"minAvailable": 1}
        proxy = charts.custom_resource(
            f"{name}-proxy-config",
            ENVOY_API,
            "EnvoyProxy",
            PROXY_CONFIG,
            args.app_namespace,
            spec={"provider": provider},
            opts=crd_ready,
        )
        gateway_class = charts.custom_resource(
            f"{name}-class",
            GATEWAY_API_VERSION,
            "GatewayClass",
            GATEWAY_CLASS,
            None,
            spec={"controllerName": CONTROLLER_NAME, "description": "Broxiva edge (Envoy Gateway)"},
            opts=crd_ready,
        )
        self.listeners = https_listeners(args.domains, args.web_certificate_secret, args.api_certificate_secret)
        gateway = charts.custom_resource(
            f"{name}-gateway",
            GATEWAY_API_VERSION,
            "Gateway",
            GATEWAY_NAME,
            args.app_namespace,
            spec={
                "gatewayClassName": charts.name_of(gateway_class),
                "infrastructure": {
                    "parametersRef": {
                        "group": "gateway.envoyproxy.io",
                        "kind": "EnvoyProxy",
                        "name": charts.name_of(proxy),
                    }
                },
                "listeners": [
                    {
                        "name": HTTP_LISTENER,
                        "port": 80,
                        "protocol": "HTTP",
                        "allowedRoutes": {"namespaces": {"from": "Same"}},
                    },
                    *[listener_spec(listener) for listener in self.listeners],
                ],
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release, proxy]),
        )
        parent_ref = {"name": charts.name_of(gateway)}
        # Port 80 only redirects; cert-manager's HTTP-01 solver routes match their exact path first.
        charts.custom_resource(
            f"{name}-https-redirect",
            GATEWAY_API_VERSION,
            "HTTPRoute",
            "https-redirect",
            args.app_namespace,
            spec={
                "parentRefs": [{**parent_ref, "sectionName": HTTP_LISTENER}],
                "rules": [
                    {
                        "filters": [
                            {"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}
                        ]
                    }
                ],
            },
            opts=pulumi.ResourceOptions(parent=gateway),
        )
        rules = RATE_LIMITS[args.rate_limiting]
        if rules:
            charts.custom_resource(
                f"{name}-rate-limit",
                ENVOY_API,
                "BackendTrafficPolicy",
                "broxiva-rate-limit",
                args.app_namespace,
                spec={
                    "targetRefs": [{"group": GATEWAY_API_GROUP, "kind": "Gateway", "name": charts.name_of(gateway)}],
                    "rateLimit": {"local": {"rules": rules}},
                },
                opts=pulumi.ResourceOptions(parent=gateway),
            )
        self.gateway_name = charts.name_of(gateway)
        self.gateway_namespace = gateway.metadata.apply(
            lambda m: m["namespace"] if isinstance(m, dict) else m.namespace
        )
        self.register_outputs({"gateway_name": self.gateway_name, "gateway_namespace": self.gateway_namespace})
