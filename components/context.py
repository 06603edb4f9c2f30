"""Facts about the deploying principal and subscription, read once per run."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization

from .config import DeployerConfig


@dataclass(frozen=True)
class AzureContext:
    """Who deploys, where. One ``getClientConfig`` invoke per run."""

    subscription_id: pulumi.Output[str]
    """Subscription every resource lands in."""
    tenant_id: pulumi.Output[str]
    """Entra ID tenant."""
    deployer_object_id: pulumi.Output[str]
    """Object ID of the principal granted the program's own access (deployer.objectId or the runner)."""
    deployer_principal_type: str
    """User, Group or ServicePrincipal."""


def current(deployer: DeployerConfig) -> AzureContext:
    client = authorization.get_client_config_output()
    return AzureContext(
        subscription_id=client.subscription_id,
        tenant_id=client.tenant_id,
        deployer_object_id=pulumi.Output.from_input(deployer.object_id) if deployer.object_id else client.object_id,
        deployer_principal_type=deployer.principal_type,
    )


def tags(environment: str, extra: dict[str, str]) -> dict[str, str]:
    """Tags on every Azure resource: environment, project, managed-by, plus the stack's own."""
    return {"environment": environment, "project": "broxiva", "managed-by": "pulumi", **dict(sorted(extra.items()))}
