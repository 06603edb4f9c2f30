"""A user-assigned identity federated to one Kubernetes service account, with one role at one or more scopes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import managedidentity

from . import roles
from .context import Placement, Principal

TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"


def service_account_subject(namespace: str, service_account: str) -> str:
    """The OIDC subject Kubernetes puts in a projected service account token."""
    return f"system:serviceaccount:{namespace}:{service_account}"


@dataclass(frozen=True)
class WorkloadIdentityArgs:
    placement: Placement
    """Group, region, tags and subscription of the identity (identities hold no data: never protected)."""
    oidc_issuer_url: pulumi.Input[str]
    """The cluster's OIDC issuer."""
    namespace: str
    """Namespace of the federated service account."""
    service_account: str
    """Name of the federated service account."""
    role: str
    """Built-in role granted to the identity."""
    scope: pulumi.Input[str] | None = None
    """Narrowest scope of the role (the vault)."""
    scopes: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Further scopes of the same role by a label for logical names (cert-manager: its ``_acme-challenge``
    TXT record sets, never the zone)."""


class WorkloadIdentity(pulumi.ComponentResource):
    """Entra workload identity for one in-cluster operator."""

    client_id: pulumi.Output[str]
    principal_id: pulumi.Output[str]
    subject: str

    def __init__(self, name: str, args: WorkloadIdentityArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:azure:WorkloadIdentity", name, None, opts)
        where = args.placement
        identity = managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            **where.located(),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.subject = service_account_subject(args.namespace, args.service_account)
        managedidentity.FederatedIdentityCredential(
            f"{name}-federation",
            resource_group_name=where.resource_group_name,
            resource_name_=identity.name,
            federated_identity_credential_resource_name=f"{args.namespace}-{args.service_account}",
            issuer=args.oidc_issuer_url,
            subject=self.subject,
            audiences=[TOKEN_EXCHANGE_AUDIENCE],
            opts=pulumi.ResourceOptions(parent=identity),
        )
        principal = Principal.of_identity(identity.principal_id)
        role_name = f"{name}-{args.role.lower().replace(' ', '-')}"
        grants = {role_name: args.scope} if args.scope is not None else {}
        grants.update({f"{role_name}-{label}": scope for label, scope in args.scopes.items()})
        for assignment, scope in grants.items():
            roles.assign(
                assignment,
                scope=scope,
                role=args.role,
                principal=principal,
                subscription_id=where.subscription_id,
                opts=pulumi.ResourceOptions(parent=identity),
            )
        self.client_id = identity.client_id
        self.principal_id = identity.principal_id
        self.register_outputs({"client_id": self.client_id, "principal_id": self.principal_id})
