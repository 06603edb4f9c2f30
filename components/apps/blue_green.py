"""One routed app as a blue and a green release behind a stable and a preview Service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .. import names
from ..config import AppConfig, ColorsConfig
from . import workload_spec as ws


def releases(name: str, app: AppConfig, colors: ColorsConfig) -> list[ws.Release]:
    """The colors that have a tag; a color that is not running is scaled to zero (no HPA)."""
    out = []
    for color in names.COLORS:
        color_cfg = colors.of(color)
        if color_cfg.tag is None:
            continue
        running = color_cfg.running
        out.append(
            ws.Release(
                app=name,
                color=color,
                tag=color_cfg.tag,
                replicas=app.replicas if running else 0,
                autoscaled=running and app.autoscaling is not None,
            )
        )
    return out


def service_spec(app_name: str, color: str) -> dict[str, Any]:
    return {
        "type": "ClusterIP",
        "selector": names.selector_labels(app_name, color),
        "ports": [{"name": "http", "port": names.SERVICE_PORT, "targetPort": "http", "protocol": "TCP"}],
    }


@dataclass(frozen=True)
class ReleaseSetArgs:
    """One app's two colors."""

    app_name: str
    """App name (broxiva-api): Deployment and Service names derive from it."""
    app: AppConfig
    """The app's settings."""
    colors: ColorsConfig
    """Tag and running state of blue and green."""
    namespace: pulumi.Input[str]
    """App namespace."""
    pods: ws.PodEnvironment
    """Registry, settings and scheduling shared by every pod."""
    disruption_budgets: bool
    """PodDisruptionBudgets for running colors (prod)."""


def declare_releases(name: str, args: ReleaseSetArgs, parent: pulumi.Resource) -> dict[str, k8s.apps.v1.Deployment]:
    """Deployments ``<app>-blue`` / ``<app>-green`` with their HPAs and PDBs, children of ``parent``."""
    deployments = {}
    for release in releases(args.app_name, args.app, args.colors):
        deployment_name = names.deployment_name(args.app_name, release.color)
        deployment = k8s.apps.v1.Deployment(
            f"{name}-{release.color}",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=deployment_name, namespace=args.namespace, labels=ws.pod_labels(release)
            ),
            spec=ws.deployment_spec(args.pods, args.app, release),
            opts=pulumi.ResourceOptions(parent=parent),
        )
        deployments[release.color] = deployment
        if release.autoscaled:
            k8s.autoscaling.v2.HorizontalPodAutoscaler(
                f"{name}-{release.color}-hpa",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=deployment_name, namespace=args.namespace),
                spec=ws.hpa_spec(args.app, deployment_name),
                opts=pulumi.ResourceOptions(parent=deployment),
            )
        if args.disruption_budgets and release.replicas > 1:
            k8s.policy.v1.PodDisruptionBudget(
                f"{name}-{release.color}-pdb",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=deployment_name, namespace=args.namespace),
                spec={
                    "maxUnavailable": 1,
                    "selector": {"matchLabels": names.selector_labels(args.app_name, release.color)},
                    "unhealthyPodEvictionPolicy": "AlwaysAllow",
                },
                opts=pulumi.ResourceOptions(parent=deployment),
            )
    return deployments


@dataclass(frozen=True)
class BlueGreenServiceArgs(ReleaseSetArgs):
    active_color: names.Color
    """The color the stable Service selects; the preview Service selects the other one."""


class BlueGreenService(pulumi.ComponentResource):
    """A routed app: both colors, the stable Service ``<app>`` on the active color and the preview
    Service ``<app>-preview`` on the idle one. Flipping the active color changes only the selectors."""

    stable_service: pulumi.Output[str]
    preview_service: pulumi.Output[str]

    def __init__(self, name: str, args: BlueGreenServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:apps:BlueGreenService", name, None, opts)
        deployments = declare_releases(name, args, self)
        active_deployment = deployments.get(args.active_color)
        # Pulumi waits for the active color's Deployment to be ready before the selector moves to it.
        stable, preview = (
            k8s.core.v1.Service(
                f"{name}-{role}",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=service_name,
                    namespace=args.namespace,
                    labels={names.APP_LABEL: args.app_name, "broxiva.com/role": role},
                ),
                spec=service_spec(args.app_name, color),
                opts=pulumi.ResourceOptions(parent=self, depends_on=waits_for),
            )
            for role, service_name, color, waits_for in (
                ("stable", names.stable_service_name(args.app_name), args.active_color, active_deployment),
                ("preview", names.preview_service_name(args.app_name), names.idle_color(args.active_color), None),
            )
        )
        self.stable_service = stable.metadata.name
        self.preview_service = preview.metadata.name
        self.register_outputs({"stable_service": self.stable_service, "preview_service": self.preview_service})
