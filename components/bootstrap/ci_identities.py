"""CI identities: a user-assigned identity federated to one GitHub environment, with exactly the roles it needs."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization, managedidentity

from ..azure import roles as environment_roles
from ..azure.context import Placement, Principal
from ..azure.workload_identity import TOKEN_EXCHANGE_AUDIENCE

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
"""Issuer of GitHub Actions OIDC tokens."""

# Built-in role definition IDs the bootstrap grants (identical in every tenant; Azure's built-in roles list).
BOOTSTRAP_ROLES: dict[str, str] = {
    "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
    "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    "Role Based Access Control Administrator": "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Blob Data Reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    "Key Vault Crypto User": "12338af0-0e69-4776-bea7-57ae8d297424",
    "Azure Kubernetes Service Cluster User Role": "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
    "Azure Kubernetes Service RBAC Reader": "7f6c6a51-bcf8-42ba-9220-52d62157d7db",
}
_NAMESPACE = uuid.UUID("5d0b3c1a-8a3e-4c71-9f6e-2b1c0d7e9a42")


def github_subject(owner: str, repository: str, environment: str) -> str:
    """The ``sub`` claim of a GitHub Actions token of a job that runs in ``environment``."""
    return f"repo:{owner}/{repository}:environment:{environment}"


def delegation_condition(role_ids: Iterable[str]) -> str:
    """An ABAC condition on a role-assignment-writing role: it may create and delete assignments of exactly these
    role definitions, nothing else (Microsoft's "Constrain roles" example, learn.microsoft.com
    azure/role-based-access-control/delegate-role-assignments-examples; attributes in
    conditions-authorization-actions-attributes: the request's RoleDefinitionId on write, the resource's on
    delete, so both actions need their own clause)."""
    ids = ", ".join(sorted({i.lower() for i in role_ids}))
    return (
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR "
        f"(@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{ids}}}))"
        " AND "
        "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/delete'})) OR "
        f"(@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{ids}}}))"
    )


def environment_delegation_condition() -> str:
    """What a deploy identity may assign: the built-in roles the environment program assigns
    (``components.azure.roles.ROLES``), and only those. Adding a role there needs a bootstrap ``up``."""
    return delegation_condition(environment_roles.ROLES.values())


def role_definition_id(subscription_id: str, role: str) -> str:
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{BOOTSTRAP_ROLES[role]}"


@dataclass(frozen=True)
class Grant:
    """One role at one scope."""

    role: str
    """A role of BOOTSTRAP_ROLES."""
    scope: pulumi.Input[str]
    """Narrowest scope that works (the subscription, the state container, one key)."""
    label: str | None = None
    """Distinguishes two grants of the same role in logical names (the key's stack)."""
    condition: str | None = None
    """ABAC condition (version 2.0) limiting the role."""


def grant(name: str, g: Grant, principal: Principal, where: Placement, parent: pulumi.Resource) -> None:
    """A role assignment named after scope, role and principal, so that a re-run never duplicates it."""
    role = g.role
    authorization.RoleAssignment(
        "-".join([name, role.lower().replace(" ", "-"), *([g.label] if g.label else [])]),
        role_assignment_name=pulumi.Output.all(g.scope, principal.object_id).apply(
            lambda a: str(uuid.uuid5(_NAMESPACE, f"{str(a[0]).lower()}|{BOOTSTRAP_ROLES[role]}|{str(a[1]).lower()}"))
        ),
        scope=g.scope,
        role_definition_id=pulumi.Output.from_input(where.subscription_id).apply(
            lambda sub: role_definition_id(sub, role)
        ),
        principal_id=principal.object_id,
        principal_type=principal.principal_type,
        condition=g.condition,
        condition_version="2.0" if g.condition else None,
        description=f"{role} for {name}",
        opts=where.kept(parent),
    )


@dataclass(frozen=True)
class CiIdentityArgs:
    placement: Placement
    """Group, region, tags, subscription of the identity; protect applies to the identity, its federation and
    its roles (the bootstrap runs once: removing a grant is a deliberate ``pulumi state unprotect``)."""
    identity_name: str
    """Name of the user-assigned identity (broxiva-ci-<stack>)."""
    subject: str
    """Federated subject (github_subject)."""
    grants: tuple[Grant, ...]
    """Every role the identity holds."""


class CiIdentity(pulumi.ComponentResource):
    """A user-assigned identity that one GitHub environment's jobs log in as (OIDC, no secret)."""

    client_id: pulumi.Output[str]
    principal_id: pulumi.Output[str]

    def __init__(self, name: str, args: CiIdentityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:bootstrap:CiIdentity", name, None, opts)
        where = args.placement
        identity = managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_name_=args.identity_name,
            **where.located(),
            opts=where.kept(self),
        )
        managedidentity.FederatedIdentityCredential(
            f"{name}-github",
            resource_group_name=where.resource_group_name,
            resource_name_=identity.name,
            federated_identity_credential_resource_name="github-actions",
            issuer=GITHUB_ISSUER,
            subject=args.subject,
            audiences=[TOKEN_EXCHANGE_AUDIENCE],
            opts=where.kept(self),
        )
        principal = Principal.of_identity(identity.principal_id)
        for g in args.grants:
            grant(name, g, principal, where, self)
        self.client_id = identity.client_id
        self.principal_id = identity.principal_id
        self.register_outputs({"client_id": self.client_id, "principal_id": self.principal_id})


@dataclass(frozen=True)
class OperatorAccessArgs:
    placement: Placement
    """Subscription of the role definitions; protect applies to the assignments."""
    principal: Principal
    """The person (or group) running the bootstrap."""
    grants: tuple[Grant, ...]
    """What they need to run Pulumi against the bootstrap's own backend and key."""


class OperatorAccess(pulumi.ComponentResource):
    """Roles of the principal that runs the bootstrap itself (it has no CI identity: it runs once, by hand)."""

    def __init__(self, name: str, args: OperatorAccessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:bootstrap:OperatorAccess", name, None, opts)
        for g in args.grants:
            grant(name, g, args.principal, args.placement, self)
        self.register_outputs({})
