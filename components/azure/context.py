"""Where Azure resources go and who deploys them: read once per run, handed to every Azure component."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_azure_native import authorization, resources

from ..config import DeployerConfig


@dataclass(frozen=True)
class Placement:
    """The five things every Azure component of an environment shares."""

    resource_group_name: pulumi.Input[str]
    """Group the component's resources go into (the environment's group, once it exists)."""
    location: str
    """Azure region."""
    tags: Mapping[str, str]
    """Tags on every resource that takes them."""
    subscription_id: pulumi.Input[str]
    """Subscription (role definition and resource IDs)."""
    protect: bool
    """Protect the component's stateful resources from deletion (children opt out)."""

    def in_group(self, resource_group_name: pulumi.Input[str]) -> Placement:
        """The same placement in another group (the created environment group, so children wait for it)."""
        return dataclasses.replace(self, resource_group_name=resource_group_name)

    def located(self) -> dict[str, Any]:
        """The group, region and tags every regional Azure resource of this placement is declared with."""
        return {"resource_group_name": self.resource_group_name, "location": self.location, "tags": self.tags}

    def kept(self, parent: pulumi.Resource, **options: Any) -> pulumi.ResourceOptions:
        """Options of a resource the environment keeps: protected from deletion when the stack says so."""
        return pulumi.ResourceOptions(parent=parent, protect=self.protect, **options)

    def new_group(
        self, name: str, group_name: pulumi.Input[str], parent: pulumi.Resource, *, existing_id: str | None = None
    ) -> resources.ResourceGroup:
        """A resource group named ``group_name`` in this placement's region, kept like the data in it; with
        ``existing_id``, the live group is imported instead of created."""
        return resources.ResourceGroup(
            name,
            resource_group_name=group_name,
            location=self.location,
            tags=self.tags,
            opts=self.kept(parent, import_=existing_id),
        )


@dataclass(frozen=True)
class Principal:
    """An Entra ID principal that is granted roles."""

    object_id: pulumi.Input[str]
    """Object ID."""
    principal_type: pulumi.Input[str] | None
    """User, Group or ServicePrincipal: it must match the principal or Azure refuses the assignment
    (UnmatchedPrincipalType). None sends azure-native's default, User."""

    @staticmethod
    def of_identity(principal_id: pulumi.Input[str]) -> Principal:
        """A managed identity: Entra ID holds it as a service principal."""
        return Principal(object_id=principal_id, principal_type="ServicePrincipal")


@dataclass(frozen=True)
class AzureContext:
    """Who deploys, where. One ``getClientConfig`` invoke per run."""

    subscription_id: pulumi.Output[str]
    """Subscription every resource lands in."""
    tenant_id: pulumi.Output[str]
    """Entra ID tenant."""
    deployer: Principal
    """The principal granted the program's own access (deployer.objectId, or whoever runs Pulumi)."""


def deployer_principal_type(configured: str | None, object_id: str, ci_principal_ids: Sequence[str]) -> str:
    """The deployer's principalType: as configured; else a service principal when it is one of the
    bootstrap's CI identities (the deploy jobs), else a person. azure-native cannot leave the property out
    (its SDK sends User when it is None), and Azure refuses a type that does not match the principal."""
    if configured is not None:
        return configured
    return "ServicePrincipal" if object_id in ci_principal_ids else "User"


def current(deployer: DeployerConfig, ci_principal_ids: pulumi.Input[Sequence[str]]) -> AzureContext:
    """``ci_principal_ids``: the principal IDs of the bootstrap's CI identities."""
    client = authorization.get_client_config_output()
    object_id = pulumi.Output.from_input(deployer.object_id) if deployer.object_id else client.object_id
    return AzureContext(
        subscription_id=client.subscription_id,
        tenant_id=client.tenant_id,
        deployer=Principal(
            object_id=object_id,
            principal_type=pulumi.Output.all(object_id, ci_principal_ids).apply(
                lambda found: deployer_principal_type(deployer.principal_type, found[0], found[1])
            ),
        ),
    )


def resource_group_of(resource_id: str) -> str:
    """The ID of the resource group an ARM resource ID lies in."""
    parts = resource_id.split("/")
    if len(parts) < 5 or parts[1].lower() != "subscriptions" or parts[3].lower() != "resourcegroups":
        raise ValueError(f"not a resource ID inside a resource group: {resource_id!r}")
    return "/".join(parts[:5])


def tags(environment: str, extra: Mapping[str, str]) -> dict[str, str]:
    """Tags on every Azure resource: environment, project, managed-by, plus the stack's own."""
    return {"environment": environment, "project": "broxiva", "managed-by": "pulumi", **dict(sorted(extra.items()))}
