"""Pure builders for the pods of a release color: labels, containers, probes, security, scheduling.

Shared by the blue/green services and the workers, so every pod of the platform runs with the
same restricted security context and the same env sources.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from ..config import AppConfig
from ..monitoring import METRICS_PORT_NAME
from ..names import PART_OF, PART_OF_LABEL, POOL_LABEL, WORKLOAD_POOL, selector_labels

DRAIN_SECONDS = 10


@dataclass(frozen=True)
class Release:
    """What one color of one app runs."""

    app: str
    """App name (broxiva-api)."""
    color: str
    """blue or green."""
    tag: str
    """Image tag of the color."""
    replicas: int
    """Replicas when not autoscaled (0 when the color is scaled down)."""
    autoscaled: bool
    """An HPA owns the replica count."""
    force_replicas: bool = False
    """The program sets a replica count an HPA owned before (server-side apply would report a conflict)."""


@dataclass(frozen=True)
class PodEnvironment:
    """Where pods get their settings and images."""

    registry: str
    """Registry server and path (ghcr.io/broxiva, broxivaprodacr.azurecr.io)."""
    config_map: pulumi.Input[str]
    """Non-secret settings (the app namespace's ConfigMap broxiva-config)."""
    secret: pulumi.Input[str]
    """Secret synced from Key Vault (broxiva-secrets, named by External Secrets)."""
    pull_secret: pulumi.Input[str] | None
    """Image pull secret, where the registry needs one."""
    spread_zones: bool
    """Spread pods across availability zones (prod)."""
    secrets_version: str = ""
    """Version of the synced secrets (``config.secrets.secrets_version``): a new one restarts every pod."""
    secrets_version_key: pulumi.Input[str] | None = None
    """Key of the synced Secret that exists only once it holds that version: a pod of the new version cannot
    start on the old values."""
    environment: str = ""
    """development, staging or production: the traces' deployment.environment.name."""


def pod_labels(release: Release) -> dict[str, str]:
    return {
        **selector_labels(release.app, release.color),
        PART_OF_LABEL: PART_OF,
        "app.kubernetes.io/name": release.app,
        "app.kubernetes.io/version": release.tag,
    }


def image(env: PodEnvironment, app: AppConfig, tag: str) -> str:
    return f"{env.registry}/{app.image}:{tag}"


def _probe(path: str, *, period: int, failures: int, initial: int = 0) -> dict:
    probe = {"httpGet": {"path": path, "port": "http"}, "periodSeconds": period, "failureThreshold": failures}
    if initial:
        probe["initialDelaySeconds"] = initial
    probe["timeoutSeconds"] = 3
    return probe


def _volume_name(path: str) -> str:
    return "scratch" + path.replace("/", "-").replace(".", "").replace("_", "-").lower()


def resource_attributes(pods: PodEnvironment, release: Release) -> str:
    """OTEL_RESOURCE_ATTRIBUTES: every span and metric of a pod says which release and color it came from."""
    attributes = {
        "service.namespace": PART_OF,
        "service.version": release.tag,
        "deployment.environment.name": pods.environment,
        "broxiva.color": release.color,
    }
    return ",".join(f"{k}={v}" for k, v in attributes.items() if v)


def container_env(pods: PodEnvironment, app: AppConfig, release: Release) -> list[dict]:
    """Variables set per container: the color, the tag, the app's own port and the secrets' version."""
    out: list[dict] = [{"name": "APP_COLOR", "value": release.color}, {"name": "APP_VERSION", "value": release.tag}]
    if app.port is not None:
        # Next.js and the API both listen on PORT: each app gets its own, never a shared one.
        out.append({"name": "PORT", "value": str(app.port)})
    if app.kind == "service":
        out += [
            {"name": "OTEL_EXPORTER_PROMETHEUS_PORT", "value": str(app.metrics_port)},
            {"name": "OTEL_SERVICE_NAME", "value": release.app},
            {"name": "OTEL_RESOURCE_ATTRIBUTES", "value": resource_attributes(pods, release)},
        ]
    if pods.secrets_version_key is not None:
        out.append(
            {
                "name": "SECRETS_VERSION",
                "valueFrom": {"secretKeyRef": {"name": pods.secret, "key": pods.secrets_version_key}},
            }
        )
    return out


RESTRICTED_CONTAINER = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "privileged": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def _exec_probe(command: tuple[str, ...], *, period: int, failures: int) -> dict:
    return {
        "exec": {"command": list(command)},
        "periodSeconds": period,
        "failureThreshold": failures,
        "timeoutSeconds": 5,
    }


def container(env_: PodEnvironment, app: AppConfig, release: Release) -> dict:
    """The app container: env from the ConfigMap and Secret, probes, restricted security context."""
    spec: dict = {
        "name": app.container,
        "image": image(env_, app, release.tag),
        "imagePullPolicy": "IfNotPresent",
        "envFrom": [{"configMapRef": {"name": env_.config_map}}, {"secretRef": {"name": env_.secret}}],
        "env": container_env(env_, app, release),
        "resources": {
            "requests": {"cpu": app.resources.requests.cpu, "memory": app.resources.requests.memory},
            "limits": {"cpu": app.resources.limits.cpu, "memory": app.resources.limits.memory},
        },
        "securityContext": dict(RESTRICTED_CONTAINER),
        "volumeMounts": scratch_volumes(app.writable_paths)[1],
    }
    if app.command:
        spec["command"] = list(app.command)
    if app.port is not None and app.probes is not None:
        spec["ports"] = [
            {"name": "http", "containerPort": app.port, "protocol": "TCP"},
            {"name": METRICS_PORT_NAME, "containerPort": app.metrics_port, "protocol": "TCP"},
        ]
        spec["startupProbe"] = _probe(app.probes.readiness, period=5, failures=30)
        spec["readinessProbe"] = _probe(app.probes.readiness, period=5, failures=3)
        spec["livenessProbe"] = _probe(app.probes.liveness, period=10, failures=3)
        # Keep serving while the endpoint is removed from every load balancer, then let SIGTERM drain.
        spec["lifecycle"] = {"preStop": {"sleep": {"seconds": DRAIN_SECONDS}}}
    if app.liveness_command:
        # A worker has no port: the same exec check tells when it has started, is ready and is still alive.
        spec["startupProbe"] = _exec_probe(app.liveness_command, period=10, failures=30)
        spec["readinessProbe"] = _exec_probe(app.liveness_command, period=30, failures=2)
        spec["livenessProbe"] = _exec_probe(app.liveness_command, period=30, failures=3)
    return spec


RESTRICTED_POD = {
    "runAsNonRoot": True,
    "runAsUser": 10001,
    "runAsGroup": 10001,
    "fsGroup": 10001,
    "seccompProfile": {"type": "RuntimeDefault"},
}


def scratch_volumes(paths: tuple[str, ...]) -> tuple[list[dict], list[dict]]:
    """(volumes, volumeMounts) of emptyDir scratch space under a read-only root filesystem."""
    volumes = [{"name": _volume_name(p), "emptyDir": {"sizeLimit": "256Mi"}} for p in paths]
    return volumes, [{"name": _volume_name(p), "mountPath": p} for p in paths]


def pod_spec(env: PodEnvironment, app: AppConfig, release: Release) -> dict:
    selector = selector_labels(release.app, release.color)
    spec: dict = {
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": app.termination_grace_seconds,
        "securityContext": dict(RESTRICTED_POD),
        "nodeSelector": {POOL_LABEL: WORKLOAD_POOL},
        "containers": [container(env, app, release)],
        "volumes": scratch_volumes(app.writable_paths)[0],
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": selector},
            }
        ],
    }
    if env.spread_zones:
        spec["topologySpreadConstraints"].insert(
            0,
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": selector},
            },
        )
    if env.pull_secret:
        spec["imagePullSecrets"] = [{"name": env.pull_secret}]
    return spec


SECRETS_VERSION_ANNOTATION = "broxiva.com/secrets-version"


def pod_metadata(env: PodEnvironment, release: Release) -> dict:
    """Labels, and the secrets' version: a rotation changes the template, so every pod restarts in the same update."""
    meta: dict = {"labels": pod_labels(release)}
    if env.secrets_version:
        meta["annotations"] = {SECRETS_VERSION_ANNOTATION: env.secrets_version}
    return meta


def deployment_spec(env: PodEnvironment, app: AppConfig, release: Release) -> dict:
    spec: dict = {
        "selector": {"matchLabels": selector_labels(release.app, release.color)},
        "revisionHistoryLimit": 5,
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
        "template": {"metadata": pod_metadata(env, release), "spec": pod_spec(env, app, release)},
    }
    # With an HPA the replica count is the HPA's; setting it here would reset it on every update.
    if not release.autoscaled:
        spec["replicas"] = release.replicas
    return spec


def hpa_spec(app: AppConfig, deployment_name: str) -> dict:
    assert app.autoscaling is not None
    return {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment_name},
        "minReplicas": app.autoscaling.min_replicas,
        "maxReplicas": app.autoscaling.max_replicas,
        "metrics": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": app.autoscaling.cpu_utilization},
                },
            }
        ],
        "behavior": {"scaleDown": {"stabilizationWindowSeconds": 300}},
    }
