"""One routed app as a blue and a green release: a Service per color for the routes, the stable and preview
Services for in-cluster callers, and a promotion gate before any of them sends traffic to a color."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .. import names
from ..config import AppConfig, ColorsConfig
from ..monitoring import METRICS_PORT_NAME, METRICS_SERVICE_PORT
from . import jobs, traffic
from . import workload_spec as ws

PATCH_FORCE = "pulumi.com/patchForce"
"""pulumi-kubernetes applies an object carrying it with server-side apply's force (provider/pkg/await/await.go)."""


def releases(name: str, app: AppConfig, colors: ColorsConfig, active: names.Color | None = None) -> list[ws.Release]:
    """The colors that have a tag. A color that is not running is scaled to zero (no HPA). With ``active``
    (workers), the idle color runs ``idleReplicas`` (0 unless set) instead of the app's replicas."""
    out = []
    for color in names.COLORS:
        color_cfg = colors.of(color)
        if color_cfg.tag is None:
            continue
        full = color_cfg.running and (active is None or color == active)
        replicas = app.replicas if full else (app.idle_replicas or 0) if color_cfg.running else 0
        autoscaled = full and app.autoscaling is not None
        out.append(
            ws.Release(
                app=name,
                color=color,
                tag=color_cfg.tag,
                replicas=replicas,
                autoscaled=autoscaled,
                # Scaling down a color an HPA sized: its replica count was the HPA controller's field, and
                # server-side apply refuses to take it over unless forced (pulumi-kubernetes #2491, #2569).
                force_replicas=not autoscaled and app.autoscaling is not None,
            )
        )
    return out


def service_spec(app_name: str, color: str, *, metrics: bool = False) -> dict[str, Any]:
    """``metrics``: also the metrics port (the per-color Services, which the ServiceMonitors scrape; the routes
    only ever name the http port)."""
    ports = [{"name": "http", "port": names.SERVICE_PORT, "targetPort": "http", "protocol": "TCP"}]
    if metrics:
        ports.append(
            {
                "name": METRICS_PORT_NAME,
                "port": METRICS_SERVICE_PORT,
                "targetPort": METRICS_PORT_NAME,
                "protocol": "TCP",
            }
        )
    return {"type": "ClusterIP", "selector": names.selector_labels(app_name, color), "ports": ports}


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
    """PodDisruptionBudgets for colors that run more than one replica (prod)."""
    active_color: names.Color
    """The color that takes the traffic (routed apps) or the jobs (workers)."""
    waits_for: Mapping[str, Sequence[pulumi.Resource]] = field(default_factory=dict)
    """Per color, what its Deployments roll out after: the color's migration Jobs, and for workers the gates
    of the color's routed apps."""


def declare_releases(
    name: str, args: ReleaseSetArgs, parent: pulumi.Resource, *, follow_active: bool = False
) -> dict[str, k8s.apps.v1.Deployment]:
    """Deployments ``<app>-blue`` / ``<app>-green`` with their HPAs and PDBs, children of ``parent``. With
    ``follow_active`` (workers) only the active color runs at full size, and the idle color is scaled down only
    after the active one has rolled out, so some color's workers always run."""
    deployments: dict[str, k8s.apps.v1.Deployment] = {}
    found = releases(args.app_name, args.app, args.colors, args.active_color if follow_active else None)
    # The active color first: the idle one's Deployment may wait for it.
    for release in sorted(found, key=lambda r: r.color != args.active_color):
        deployment_name = names.deployment_name(args.app_name, release.color)
        waits = list(args.waits_for.get(release.color, ()))
        if follow_active and release.color != args.active_color and args.active_color in deployments:
            waits.append(deployments[args.active_color])
        metadata: dict[str, Any] = {
            "name": deployment_name,
            "namespace": args.namespace,
            "labels": ws.pod_labels(release),
        }
        if release.force_replicas:
            metadata["annotations"] = {PATCH_FORCE: "true"}
        deployment = k8s.apps.v1.Deployment(
            f"{name}-{release.color}",
            metadata=metadata,
            spec=ws.deployment_spec(args.pods, args.app, release),
            opts=pulumi.ResourceOptions(parent=parent, depends_on=waits),
        )
        deployments[release.color] = deployment
        if release.autoscaled:
            k8s.autoscaling.v2.HorizontalPodAutoscaler(
                f"{name}-{release.color}-hpa",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=deployment_name, namespace=args.namespace),
                spec=ws.hpa_spec(args.app, deployment_name),
                opts=pulumi.ResourceOptions(parent=deployment),
            )
        if args.disruption_budgets and args.app.replicas > 1:
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
    return {color: deployments[color] for color in names.COLORS if color in deployments}


@dataclass(frozen=True)
class GateSettings:
    """How promotion gates run."""

    image: str
    """Pinned image with curl and a POSIX shell (``registry.server/release.gateImage``)."""
    timeout_seconds: int
    """Deadline of a gate Job."""


@dataclass(frozen=True)
class BlueGreenServiceArgs(ReleaseSetArgs):
    canary_weight: int = 0
    """Percent of the route's traffic on the idle color: the idle color is gated while it is above 0."""
    gate: GateSettings | None = None
    """The promotion gate's image and deadline."""


class BlueGreenService(pulumi.ComponentResource):
    """A routed app: both colors, a Service per color with a fixed selector (what the routes weigh), the stable
    Service ``<app>`` on the active color and the preview Service ``<app>-preview`` on the idle one.

    Before a color takes traffic, a Job named after app, color and tag runs the app's smoke checks against
    that color's Service; the stable Service and the routes wait for it."""

    stable_service: pulumi.Output[str]
    preview_service: pulumi.Output[str]
    color_services: dict[str, pulumi.Output[str]]
    """The per-color Services (names), by color: what the routes weigh."""
    gate_jobs: dict[str, k8s.batch.v1.Job]
    """The gates of the colors that take traffic, by color (what a route change depends on)."""

    def __init__(self, name: str, args: BlueGreenServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:apps:BlueGreenService", name, None, opts)
        assert args.gate is not None, "a routed app needs gate settings"
        deployments = declare_releases(name, args, self)
        tags = {color: args.colors.of(color).tag for color in deployments}
        services = {
            color: k8s.core.v1.Service(
                f"{name}-{color}",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=names.color_service_name(args.app_name, color),
                    namespace=args.namespace,
                    labels={
                        names.APP_LABEL: args.app_name,
                        names.COLOR_LABEL: color,
                        names.ROLE_LABEL: names.COLOR_ROLE,
                    },
                ),
                spec=service_spec(args.app_name, color, metrics=True),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for color in deployments
        }
        gate = args.gate

        def gate_spec(parts: list[Any]) -> dict[str, Any]:
            service, namespace, pull_secret = parts
            return jobs.gate_job_spec(
                app=args.app_name,
                checks=args.app.smoke,
                url=jobs.service_url(service, namespace),
                image=gate.image,
                timeout_seconds=gate.timeout_seconds,
                pull_secret=pull_secret,
            )

        self.gate_jobs = {}
        for color in traffic.gated(args.active_color, args.canary_weight):
            tag = tags.get(color)
            if tag is None:  # the config refuses traffic on a color without a tag
                continue
            inputs = pulumi.Output.all(services[color].metadata.name, args.namespace, args.pods.pull_secret)
            self.gate_jobs[color] = k8s.batch.v1.Job(
                f"{name}-gate-{color}",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=jobs.gate_job_name(args.app_name, color, tag),
                    namespace=args.namespace,
                    labels={names.GATE_FOR_LABEL: args.app_name, names.COLOR_LABEL: color},
                ),
                spec=inputs.apply(gate_spec),
                opts=pulumi.ResourceOptions(
                    parent=self,
                    # The checks run once the color has rolled out (a changed Deployment is awaited first).
                    depends_on=[deployments[color], services[color]],
                    # The await ends when the Job succeeds or fails, or after this (job.go's default is 10 min).
                    custom_timeouts=pulumi.CustomTimeouts(create=f"{gate.timeout_seconds + 60}s"),
                ),
            )
        active, idle = args.active_color, names.idle_color(args.active_color)
        stable, preview = (
            k8s.core.v1.Service(
                f"{name}-{role}",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=service_name,
                    namespace=args.namespace,
                    labels={names.APP_LABEL: args.app_name, names.ROLE_LABEL: role},
                ),
                spec=service_spec(args.app_name, color),
                opts=pulumi.ResourceOptions(parent=self, depends_on=waits_for),
            )
            for role, service_name, color, waits_for in (
                # In-cluster callers reach the active color only once it has passed its gate.
                ("stable", names.stable_service_name(args.app_name), active, _present(self.gate_jobs, active)),
                ("preview", names.preview_service_name(args.app_name), idle, []),
            )
        )
        self.stable_service = stable.metadata.name
        self.preview_service = preview.metadata.name
        self.color_services = {color: svc.metadata.name for color, svc in services.items()}
        self.register_outputs(
            {
                "stable_service": self.stable_service,
                "preview_service": self.preview_service,
                "color_services": self.color_services,
            }
        )


def _present(found: Mapping[str, pulumi.Resource], key: str) -> list[pulumi.Resource]:
    return [found[key]] if key in found else []
