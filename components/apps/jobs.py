"""Pure builders of the release Jobs: the promotion gate (smoke checks against one color's Service) and the
database migrations of a release's tag.

pulumi-kubernetes waits for a Job to complete and fails the update when it fails (pulumi-kubernetes
provider/pkg/await/job.go ``jobInitAwaiter``: ready on the condition Complete=True, an error at once on
Failed=True, and a timeout taken from the resource's customTimeouts, else ``DefaultJobTimeoutMins = 10``), so a
resource that depends on one of these Jobs is applied only after it has succeeded.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from ..config import AppConfig, SmokeCheck
from ..names import GATE_FOR_LABEL, PART_OF, PART_OF_LABEL, POOL_LABEL, WORKLOAD_POOL, release_job_name
from . import workload_spec as ws

JOB_LABEL = "broxiva.com/job"
ATTEMPTS = 6
"""Tries per check, 5 s apart: a new Service's endpoints take a moment to reach every node."""


def gate_job_name(app: str, color: str, tag: str) -> str:
    return release_job_name(app, "gate", color, tag)


def migration_job_name(app: str, color: str, tag: str) -> str:
    return release_job_name(app, "migrate", color, tag)


def service_url(service: str, namespace: str) -> str:
    return f"http://{service}.{namespace}.svc.cluster.local"


def smoke_script(base_url: str, checks: Sequence[SmokeCheck]) -> str:
    """A POSIX shell script: each check GETs base_url + path until it answers the expected status, at most
    ATTEMPTS times; the first check that never does fails the Job."""
    lines = [
        "set -eu",
        "check() {",
        "  n=0",
        "  while :; do",
        "    got=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 \"$1\") || got=000",
        '    if [ "$got" = "$2" ]; then echo "ok $2 $1"; return 0; fi',
        "    n=$((n + 1))",
        f'    if [ "$n" -ge {ATTEMPTS} ]; then echo "FAILED $1: got $got, expected $2"; return 1; fi',
        "    sleep 5",
        "  done",
        "}",
    ]
    lines += [f"check {shlex.quote(base_url + c.path)} {c.status}" for c in checks]
    return "\n".join(lines) + "\n"


def _job_pod(containers: list[dict], volumes: list[dict], pull_secret: object | None) -> dict:
    spec: dict = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": dict(ws.RESTRICTED_POD),
        "nodeSelector": {POOL_LABEL: WORKLOAD_POOL},
        "containers": containers,
    }
    if volumes:
        spec["volumes"] = volumes
    if pull_secret:
        spec["imagePullSecrets"] = [{"name": pull_secret}]
    return spec


def gate_job_spec(
    *,
    app: str,
    checks: Sequence[SmokeCheck],
    url: str,
    image: str,
    timeout_seconds: int,
    pull_secret: object | None,
) -> dict:
    """The gate: no retries of a failed run (the checks retry themselves), a deadline, restricted pods."""
    labels = {GATE_FOR_LABEL: app, JOB_LABEL: "gate"}
    container = {
        "name": "smoke",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["/bin/sh", "-c", smoke_script(url, checks)],
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}},
        "securityContext": dict(ws.RESTRICTED_CONTAINER),
    }
    return {
        "backoffLimit": 0,
        "activeDeadlineSeconds": timeout_seconds,
        "template": {"metadata": {"labels": labels}, "spec": _job_pod([container], [], pull_secret)},
    }


def migration_job_spec(env: ws.PodEnvironment, app: AppConfig, release: ws.Release) -> dict:
    """The release's image at its tag running the configured command with the app's settings and secrets.
    Never retried by Kubernetes: a half-applied migration is for a person to look at."""
    assert app.migration is not None
    labels = {PART_OF_LABEL: PART_OF, JOB_LABEL: "migrate", "app.kubernetes.io/version": release.tag}
    volumes, mounts = ws.scratch_volumes(app.writable_paths)
    container = {
        "name": "migrate",
        "image": ws.image(env, app, release.tag),
        "imagePullPolicy": "IfNotPresent",
        "command": list(app.migration.command),
        "envFrom": [{"configMapRef": {"name": env.config_map}}, {"secretRef": {"name": env.secret}}],
        # Not the secrets' version: a rotation must not replace (and so re-run) a release's migrations.
        "env": [{"name": "APP_COLOR", "value": release.color}, {"name": "APP_VERSION", "value": release.tag}],
        "resources": {
            "requests": {"cpu": app.resources.requests.cpu, "memory": app.resources.requests.memory},
            "limits": {"cpu": app.resources.limits.cpu, "memory": app.resources.limits.memory},
        },
        "securityContext": dict(ws.RESTRICTED_CONTAINER),
        "volumeMounts": mounts,
    }
    return {
        "backoffLimit": 0,
        "activeDeadlineSeconds": app.migration.timeout_seconds,
        "template": {
            "metadata": {"labels": labels},
            "spec": _job_pod([container], volumes, env.pull_secret),
        },
    }
