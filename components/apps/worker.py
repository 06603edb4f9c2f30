"""A background worker: one Deployment per color, no Service and no route."""

from __future__ import annotations

import pulumi

from .blue_green import ReleaseSetArgs, declare_releases


class Worker(pulumi.ComponentResource):
    """Workers ship with the release they belong to: each color that has a tag runs its own workers
    (scaled to zero with the color), so a flip of activeColor never touches them."""

    deployment_names: pulumi.Output[list[str]]

    def __init__(self, name: str, args: ReleaseSetArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:apps:Worker", name, None, opts)
        deployments = declare_releases(name, args, self)
        self.deployment_names = pulumi.Output.all(*[d.metadata.name for d in deployments.values()])
        self.register_outputs({"deployment_names": self.deployment_names})
