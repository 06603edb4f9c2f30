"""What the cluster's managed Prometheus scrapes beyond its defaults: the apps (per color), the Envoy proxies,
cert-manager and External Secrets.

The AKS metrics add-on reads its own copies of the Prometheus Operator kinds, in the API group
``azmonitoring.coreos.com/v1`` (so that they never clash with a Prometheus Operator's ``monitoring.coreos.com``;
Azure docs, azure-monitor/containers/prometheus-metrics-scrape-crd). Its CRDs come with the add-on
(``azureMonitorProfile.metrics.enabled`` on the cluster).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from .. import names
from ..monitoring import METRICS_PATH, METRICS_PORT_NAME
from ..options import children_depends_on
from . import charts

API_VERSION = "azmonitoring.coreos.com/v1"
SCRAPE_INTERVAL = "30s"

# Envoy Gateway labels the proxy pods it manages and names their stats port "metrics" (19001, /stats/prometheus;
# envoyproxy/gateway internal/infrastructure/kubernetes/proxy/resource.go expectedProxyContainers).
ENVOY_PROXY_LABELS = {"app.kubernetes.io/component": "proxy", "app.kubernetes.io/managed-by": "envoy-gateway"}
ENVOY_METRICS_PORT = "metrics"
ENVOY_METRICS_PATH = "/stats/prometheus"


def pod_label_relabelings(*labels: str) -> list[dict[str, Any]]:
    """Copy pod labels onto every series (``app``, ``color``): the rules and dashboards split by them."""
    return [
        {"sourceLabels": [f"__meta_kubernetes_pod_label_{label}"], "targetLabel": label, "action": "replace"}
        for label in labels
    ]


def app_service_monitor(app: str) -> dict[str, Any]:
    """The spec scraping one app's per-color Services (not the stable or preview ones, which select the same
    pods and would count every pod twice)."""
    return {
        "selector": {"matchLabels": {names.APP_LABEL: app, names.ROLE_LABEL: names.COLOR_ROLE}},
        "endpoints": [
            {
                "port": METRICS_PORT_NAME,
                "path": METRICS_PATH,
                "interval": SCRAPE_INTERVAL,
                "relabelings": pod_label_relabelings(names.APP_LABEL, names.COLOR_LABEL),
            }
        ],
    }


def add_on_service_monitor(match_labels: dict[str, str], port: str) -> dict[str, Any]:
    """An add-on's metrics Service. ``honorLabels``: their series carry the ``namespace`` and ``name`` of the
    object they describe (a Certificate, an ExternalSecret), which must not be renamed ``exported_namespace``
    under the scrape's own target labels."""
    return {
        "selector": {"matchLabels": match_labels},
        "endpoints": [{"port": port, "path": "/metrics", "interval": SCRAPE_INTERVAL, "honorLabels": True}],
    }


# cert-manager deploy/charts/cert-manager/templates/service.yaml (prometheus.enabled, the chart's default;
# the port is named http-metrics since v1.21.0, commit 4f55450 "Cleanup Helm metrics path and port");
# external-secrets deploy/charts/external-secrets/templates/service.yaml (metrics.service.enabled).
CERT_MANAGER_SERVICE = {"app.kubernetes.io/name": "cert-manager", "app.kubernetes.io/component": "controller"}
CERT_MANAGER_PORT = "http-metrics"
EXTERNAL_SECRETS_SERVICE = {
    "app.kubernetes.io/name": "external-secrets",
    "app.kubernetes.io/instance": "external-secrets",
}
EXTERNAL_SECRETS_PORT = "metrics"


@dataclass(frozen=True)
class ScrapeTargetsArgs:
    app_namespace: pulumi.Input[str]
    """The apps' namespace."""
    routed_apps: Sequence[str]
    """Apps with per-color Services: one ServiceMonitor each."""


class ScrapeTargets(pulumi.ComponentResource):
    """ServiceMonitors and PodMonitors for the AKS metrics add-on."""

    monitor_names: list[str]

    def __init__(self, name: str, args: ScrapeTargetsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:k8s:ScrapeTargets", name, None, opts)
        # The kinds come with the metrics add-on and the scraped Services with the releases: the monitors wait
        # for what the component was told to wait for (a component's depends_on does not reach its children).
        child = pulumi.ResourceOptions(parent=self, depends_on=children_depends_on(opts))
        for app in sorted(args.routed_apps):
            charts.custom_resource(
                f"{name}-{app}",
                API_VERSION,
                "ServiceMonitor",
                app,
                args.app_namespace,
                spec=app_service_monitor(app),
                opts=child,
            )
        charts.custom_resource(
            f"{name}-envoy-proxies",
            API_VERSION,
            "PodMonitor",
            "envoy-proxies",
            names.GATEWAY_NAMESPACE,
            spec={
                "selector": {"matchLabels": ENVOY_PROXY_LABELS},
                "podMetricsEndpoints": [
                    {"port": ENVOY_METRICS_PORT, "path": ENVOY_METRICS_PATH, "interval": SCRAPE_INTERVAL}
                ],
            },
            opts=child,
        )
        charts.custom_resource(
            f"{name}-cert-manager",
            API_VERSION,
            "ServiceMonitor",
            "cert-manager",
            names.CERT_MANAGER_NAMESPACE,
            spec=add_on_service_monitor(CERT_MANAGER_SERVICE, CERT_MANAGER_PORT),
            opts=child,
        )
        charts.custom_resource(
            f"{name}-external-secrets",
            API_VERSION,
            "ServiceMonitor",
            "external-secrets",
            names.EXTERNAL_SECRETS_NAMESPACE,
            spec=add_on_service_monitor(EXTERNAL_SECRETS_SERVICE, EXTERNAL_SECRETS_PORT),
            opts=child,
        )
        self.monitor_names = sorted(args.routed_apps)
        self.register_outputs({"monitor_names": self.monitor_names})
