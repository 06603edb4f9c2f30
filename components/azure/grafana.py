"""Azure Managed Grafana linked to the environment's Azure Monitor workspace, with the dashboards kept in
``dashboards/`` provisioned into it.

Provisioning path: the Grafana provider (pulumiverse-grafana, the bridged Terraform grafana provider) against
the instance's HTTP API, signed in with an Entra ID token of the identity running the program. azure-native's
``getClientToken`` invoke asks the provider's own credential (OIDC in CI, the Azure CLI for a person) for a
token of scope ``<endpoint>/.default`` (pulumi-azure-native provider/pkg/provider/provider.go,
``tokenRequestOpts``); the endpoint is Azure Managed Grafana's application ID, whose tokens its API accepts as
bearer tokens. No API key or service-account token exists anywhere.

Azure's own dashboard resources are not an alternative for this instance: ``Microsoft.Dashboard/dashboards`` is
a separate product (Azure Monitor dashboards with Grafana) and its definitions exist only in a preview API
(pulumi-azure-native 3.29: ``dashboard.DashboardDefinition``, 2025-09-01-preview only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumiverse_grafana as grafana
from pulumi_azure_native import authorization, dashboard

from ..options import removable
from . import roles
from .context import Placement, Principal

# Grafana 11 reached upstream end of life in June 2026; 12 is the newest major Azure Managed Grafana offers.
GRAFANA_MAJOR_VERSION = "12"
# The audience az grafana itself requests (Azure/azure-cli-extensions src/amg/azext_amg/custom.py, the
# "amg_first_party_app" outside PPE). Microsoft's page "Authenticate data plane APIs" now also names the
# Grafana SSO application 6f2d169c-08f3-4a4c-a982-bcaf2d038c45 and https://dashboard.azure.com; if a
# workspace answers 401 to this audience, change this constant (docs/observability.md, troubleshooting).
GRAFANA_AUDIENCE = "ce34e7e5-485f-4d76-964f-b3d2b16d1e4f"
"""Azure Managed Grafana's Entra application: the audience of the tokens its HTTP API accepts."""
FOLDER_UID = "broxiva"
# Azure documents up to about ten minutes for a role assignment to take effect.
RBAC_RETRIES = 20
RBAC_RETRY_WAIT = 30


@dataclass(frozen=True)
class GrafanaArgs:
    placement: Placement
    """Group, region, tags, subscription (role scopes)."""
    grafana_name: str
    """Instance name (globally unique: <name>-<hash>.<region>.grafana.azure.com)."""
    metrics_workspace_id: pulumi.Input[str]
    """The Azure Monitor workspace the instance reads (its Prometheus data source)."""
    admin_group_ids: Sequence[str]
    """Entra ID groups made Grafana Admin (the cluster admin groups)."""
    viewer_group_ids: Sequence[str]
    """Entra ID groups made Grafana Viewer (the namespace reader groups)."""
    deployer: Principal
    """Who runs the program: Grafana Editor, so it can write the dashboards."""
    dashboards: Mapping[str, pulumi.Input[str]]
    """Dashboard name -> dashboard JSON (``components/azure/dashboards.py`` render)."""
    zone_redundant: bool
    """Spread the instance over availability zones (prod)."""


class Grafana(pulumi.ComponentResource):
    """The instance, who may sign in to it, what it may read, and the dashboards."""

    endpoint: pulumi.Output[str]
    grafana_id: pulumi.Output[str]

    def __init__(self, name: str, args: GrafanaArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:azure:Grafana", name, None, opts)
        where = args.placement
        instance = dashboard.Grafana(
            f"{name}-instance",
            workspace_name=args.grafana_name,
            sku=dashboard.ResourceSkuArgs(name="Standard"),
            identity=dashboard.ManagedServiceIdentityArgs(type="SystemAssigned"),
            properties=dashboard.ManagedGrafanaPropertiesArgs(
                grafana_major_version=GRAFANA_MAJOR_VERSION,
                # Entra ID sign-in only: no API keys, no service-account secrets to leak.
                api_key="Disabled",
                zone_redundancy="Enabled" if args.zone_redundant else "Disabled",
                grafana_integrations=dashboard.GrafanaIntegrationsArgs(
                    azure_monitor_workspace_integrations=[
                        dashboard.AzureMonitorWorkspaceIntegrationArgs(
                            azure_monitor_workspace_resource_id=args.metrics_workspace_id
                        )
                    ]
                ),
            ),
            **where.located(),
            opts=pulumi.ResourceOptions(parent=self),
        )
        identity = Principal.of_identity(instance.identity.apply(lambda i: i.principal_id if i else ""))

        def grant(key: str, scope: pulumi.Input[str], role: str, principal: Principal) -> pulumi.Resource:
            return roles.assign(
                f"{name}-{key}",
                scope=scope,
                role=role,
                principal=principal,
                subscription_id=where.subscription_id,
                opts=removable(instance),
            )

        # The Prometheus data source queries the workspace; the Azure Monitor one reads the environment's
        # platform metrics (PostgreSQL, Redis), nothing outside its group.
        grant("reads-metrics", args.metrics_workspace_id, "Monitoring Data Reader", identity)
        grant("reads-platform", _group_id(where), "Monitoring Reader", identity)
        for i, group in enumerate(args.admin_group_ids):
            grant(f"admin-{i}", instance.id, "Grafana Admin", Principal(group, "Group"))
        for i, group in enumerate(args.viewer_group_ids):
            grant(f"viewer-{i}", instance.id, "Grafana Viewer", Principal(group, "Group"))
        editor = grant("deployer-editor", instance.id, "Grafana Editor", args.deployer)

        self.endpoint = instance.properties.apply(lambda p: p.endpoint if p else "")
        # A fresh token each run (an access token lives about an hour: one update).
        token = authorization.get_client_token_output(endpoint=GRAFANA_AUDIENCE).token
        # Grafana Editor reaches Grafana's data plane minutes after it is granted, so the first update's calls
        # answer 403 for a while: the client retries 403 too, every RBAC_RETRY_WAIT seconds, for up to
        # RBAC_RETRIES times (grafana-openapi-client-go pkg/transport/transport.go RoundTrip; 429 and 5xx are
        # its defaults, which the list replaces). A lasting 403 (a missing role) fails after those minutes.
        # Changing these settings updates the provider in place: the bridge's DiffConfig replaces a provider
        # (and its dashboards) only for settings marked ForcesProviderReplace (pulumi-terraform-bridge #1683).
        provider = grafana.Provider(
            f"{name}-api",
            url=self.endpoint,
            auth=pulumi.Output.secret(token),
            retries=RBAC_RETRIES,
            retry_wait=RBAC_RETRY_WAIT,
            retry_status_codes=["403", "429", "5xx"],
            opts=pulumi.ResourceOptions(parent=self),
        )
        on_grafana = pulumi.ResourceOptions(parent=instance, provider=provider, depends_on=[editor])
        folder = grafana.oss.Folder(f"{name}-folder", title="Broxiva", uid=FOLDER_UID, opts=on_grafana)
        for key, config_json in sorted(args.dashboards.items()):
            grafana.oss.Dashboard(
                f"{name}-{key}",
                config_json=config_json,
                folder=folder.uid,
                overwrite=True,
                message="Provisioned by broxiva-platform",
                opts=on_grafana,
            )
        self.grafana_id = instance.id
        self.register_outputs({"endpoint": self.endpoint, "grafana_id": self.grafana_id})


def _group_id(where: Placement) -> pulumi.Output[str]:
    return pulumi.Output.all(where.subscription_id, where.resource_group_name).apply(
        lambda v: f"/subscriptions/{v[0]}/resourceGroups/{v[1]}"
    )
