"""Tracing: the environment's workspace-based Application Insights, whose connection string the apps read from
Key Vault (secret appinsights-connection-string -> APPLICATIONINSIGHTS_CONNECTION_STRING, the variable the
Azure Monitor OpenTelemetry distro reads)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import applicationinsights

from .context import Placement


@dataclass(frozen=True)
class TracingArgs:
    placement: Placement
    """Group, region, tags; protect keeps the component (its connection string is in every pod)."""
    component_name: str
    """Application Insights resource name."""
    workspace_id: pulumi.Input[str]
    """The environment's Log Analytics workspace: traces are stored there (workspace-based)."""


class Tracing(pulumi.ComponentResource):
    """A workspace-based Application Insights for the environment's traces."""

    connection_string: pulumi.Output[str]
    component_id: pulumi.Output[str]

    def __init__(self, name: str, args: TracingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:azure:Tracing", name, None, opts)
        where = args.placement
        component = applicationinsights.Component(
            f"{name}-insights",
            resource_name_=args.component_name,
            kind="web",
            application_type="web",
            workspace_resource_id=args.workspace_id,
            ingestion_mode="LogAnalytics",
            **where.located(),
            # The connection string carries the ingestion key: a secret in state and output, not only in
            # the vault (the SDK does not mark it).
            opts=where.kept(self, additional_secret_outputs=["connectionString", "instrumentationKey"]),
        )
        self.component_id = component.id
        self.connection_string = pulumi.Output.secret(component.connection_string)
        self.register_outputs({"connection_string": self.connection_string, "component_id": self.component_id})
