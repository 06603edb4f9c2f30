"""A background worker: one Deployment per color, no Service and no route."""

from __future__ import annotations

import pulumi

from .blue_green import ReleaseSetArgs, declare_releases


class Worker(pulumi.ComponentResource):
    """Workers follow the active color: its Deployment runs the app's replicas (or its HPA range) and the
    idle color's runs ``idleReplicas`` (0 unless set), so a release's new code takes no production jobs before
    it is promoted. On a switch the new active color's workers roll out after its gates have passed, and the
    old color's are scaled down only after that rollout."""

    deployment_names: pulumi.Output[list[str]]

    def __init__(self, name: str, args: ReleaseSetArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:apps:Worker", name, None, opts)
        deployments = declare_releases(name, args, self, follow_active=True)
        self.deployment_names = pulumi.Output.all(*[d.metadata.name for d in deployments.values()])
        self.register_outputs({"deployment_names": self.deployment_names})
