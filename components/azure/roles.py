"""Azure role assignments: built-in role IDs and deterministic assignment names."""

from __future__ import annotations

import uuid

import pulumi
from pulumi_azure_native import authorization

from ..options import removable
from .context import Principal

# Built-in role definition IDs (identical in every tenant).
ROLES: dict[str, str] = {
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "DNS Zone Contributor": "befefa01-2a29-4197-83a8-272ff33ce314",
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
    "Network Contributor": "4d97b98b-1d4f-4787-a291-c67834d212e7",
    "Azure Kubernetes Service RBAC Cluster Admin": "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
    # Azure Managed Grafana's data-plane roles and what its identity reads (learn.microsoft.com, Azure built-in
    # roles: Monitor section).
    "Grafana Admin": "22926164-76b3-42b3-bc55-97df8dab3e41",
    "Grafana Editor": "a79a5197-3a5c-4973-a920-486035ffd60f",
    "Grafana Viewer": "60921a7e-fef1-4a43-9b16-a26c52ad4769",
    "Monitoring Data Reader": "b0d8363b-8ddd-447d-831f-62ca05bff136",
    "Monitoring Reader": "43d0d8ad-25c7-4714-9337-8ba259a9fe05",
}

_NAMESPACE = uuid.UUID("0b5c1f8e-6a43-4f1e-9a57-2f7f7a2b9c11")


def role_definition_id(subscription_id: str, role: str) -> str:
    """The full resource ID of a built-in role definition."""
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{ROLES[role]}"


def assignment_name(scope: str, role: str, principal_id: str) -> str:
    """Same scope, role and principal give the same name, so re-runs never duplicate an assignment."""
    return str(uuid.uuid5(_NAMESPACE, f"{scope.lower()}|{ROLES[role]}|{principal_id.lower()}"))


def deployer_access(
    name: str, resource: pulumi.CustomResource, role: str, deployer: Principal, subscription_id: pulumi.Input[str]
) -> authorization.RoleAssignment:
    """The deployer's data-plane role on a resource the program has just created and goes on to write into
    (objects into the cluster, secrets into the vault): those writes depend on it. Removable with the resource."""
    return assign(
        name,
        scope=resource.id,
        role=role,
        principal=deployer,
        subscription_id=subscription_id,
        opts=removable(resource),
    )


def assign(
    name: str,
    *,
    scope: pulumi.Input[str],
    role: str,
    principal: Principal,
    subscription_id: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> authorization.RoleAssignment:
    """A role assignment of a built-in role at the narrowest scope the caller gives."""
    return authorization.RoleAssignment(
        name,
        role_assignment_name=pulumi.Output.all(scope, principal.object_id).apply(
            lambda args: assignment_name(args[0], role, args[1])
        ),
        scope=scope,
        role_definition_id=pulumi.Output.from_input(subscription_id).apply(lambda sub: role_definition_id(sub, role)),
        principal_id=principal.object_id,
        principal_type=principal.principal_type,
        description=f"{role} for {name}",
        opts=opts,
    )
