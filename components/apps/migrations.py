"""Database migrations of each running color's release, run before that color's Deployments roll out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from .. import names
from ..config import AppConfig, ColorsConfig
from . import jobs
from . import workload_spec as ws

GRACE_SECONDS = 60


@dataclass(frozen=True)
class MigrationsArgs:
    apps: Mapping[str, AppConfig]
    """The apps; those with ``migration`` get a Job per running color."""
    colors: ColorsConfig
    """Tag and running state of blue and green."""
    namespace: pulumi.Input[str]
    """App namespace."""
    pods: ws.PodEnvironment
    """Registry, settings and secrets (the migration reads DATABASE_URL like the app)."""


class Migrations(pulumi.ComponentResource):
    """A Job ``<app>-migrate-<color>-<tag>`` per app with a migration command and running color. Its name
    changes with the tag, so a new release of a color runs its migrations once, as a new Job, and the color's
    Deployments of the apps that use the database wait for it (pulumi-kubernetes awaits Jobs; a failed one
    fails the update before anything rolls out). An unchanged release's Job stays as it is: nothing re-runs."""

    job_names: pulumi.Output[list[str]]
    jobs: dict[str, list[k8s.batch.v1.Job]]
    """Per color, the Jobs its Deployments wait for."""

    def __init__(self, name: str, args: MigrationsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:apps:Migrations", name, None, opts)
        self.jobs = {}
        for app_name, app in sorted(args.apps.items()):
            if app.migration is None:
                continue
            for color in names.COLORS:
                color_cfg = args.colors.of(color)
                if color_cfg.tag is None or not color_cfg.running:
                    continue
                release = ws.Release(app=app_name, color=color, tag=color_cfg.tag, replicas=0, autoscaled=False)
                job = k8s.batch.v1.Job(
                    f"{name}-{app_name}-{color}",
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        name=jobs.migration_job_name(app_name, color, color_cfg.tag),
                        namespace=args.namespace,
                        labels={"broxiva.com/migrates": app_name, names.COLOR_LABEL: color},
                    ),
                    spec=jobs.migration_job_spec(args.pods, app, release),
                    opts=pulumi.ResourceOptions(
                        parent=self,
                        custom_timeouts=pulumi.CustomTimeouts(
                            create=f"{app.migration.timeout_seconds + GRACE_SECONDS}s"
                        ),
                    ),
                )
                self.jobs.setdefault(color, []).append(job)
        self.job_names = pulumi.Output.all(*[j.metadata.name for js in self.jobs.values() for j in js])
        self.register_outputs({"job_names": self.job_names})
