"""The organisation's bootstrap: state store, secrets-provider keys, the public zone, CI identities. Run once."""

import sys
from pathlib import Path

# The bootstrap shares the environment program's building blocks (`components`: Placement, the config models
# and their one ConfigError, the role tables). Pulumi runs this file with bootstrap/ as the program directory,
# which is all the language host puts on sys.path; the repository root holds `components`.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pulumi
from pulumi_azure_native import authorization, resources

from components.azure import context
from components.bootstrap import settings
from components.bootstrap.ci_identities import (
    CiIdentity,
    CiIdentityArgs,
    Grant,
    OperatorAccess,
    OperatorAccessArgs,
    environment_delegation_condition,
    github_subject,
)
from components.bootstrap.secrets_keys import SecretsKeys, SecretsKeysArgs
from components.bootstrap.state_store import StateStore, StateStoreArgs, backend_url
from components.bootstrap.zone import PublicZone, PublicZoneArgs

# Bad configuration stops here, before any resource is declared.
cfg = settings.load()
this_stack = pulumi.get_stack()
client = authorization.get_client_config_output()
placement = context.Placement(
    resource_group_name=cfg.resource_group,
    location=cfg.location,
    tags=context.tags("shared", cfg.tags),
    subscription_id=client.subscription_id,
    # Everything here outlives every environment: the state, the keys that decrypt it, the zone, the
    # identities CI logs in as.
    protect=True,
)
group = resources.ResourceGroup(
    "bootstrap-rg",
    resource_group_name=cfg.resource_group,
    location=cfg.location,
    tags=placement.tags,
    opts=pulumi.ResourceOptions(protect=True),
)
site = placement.in_group(group.name)

state = StateStore("state", StateStoreArgs(site, state=cfg.state))
keys = SecretsKeys(
    "secrets",
    SecretsKeysArgs(site, secrets=cfg.secrets, tenant_id=client.tenant_id, stacks=(*cfg.ci.stacks, this_stack)),
)
zone = PublicZone("dns", PublicZoneArgs(placement, zone=cfg.dns))

subscription = client.subscription_id.apply(lambda sub: f"/subscriptions/{sub}")
ci = cfg.ci
identities: dict[str, CiIdentity] = {}
for stack in ci.stacks:
    # Deploy: create the environment's groups and resources (Contributor), assign exactly the roles the
    # environment program assigns (conditioned RBAC Administrator), write the state, use its own key only.
    identities[stack] = CiIdentity(
        f"ci-{stack}",
        CiIdentityArgs(
            site,
            identity_name=f"broxiva-ci-{stack}",
            subject=github_subject(ci.github_owner, ci.github_repository, stack),
            grants=(
                Grant("Contributor", subscription),
                Grant(
                    "Role Based Access Control Administrator",
                    subscription,
                    condition=environment_delegation_condition(),
                ),
                Grant("Storage Blob Data Contributor", state.container_id),
                Grant("Key Vault Crypto User", keys.key_ids[stack], label=stack),
            ),
        ),
    )
# Preview: read Azure and the state (a DIY backend's preview takes no lock: pulumi/pulumi
# pkg/backend/diy/backend.go Preview), fetch kubeconfigs and read the clusters, decrypt only the
# non-production stacks' secrets (one key per stack makes that a role at key scope).
identities["preview"] = CiIdentity(
    "ci-preview",
    CiIdentityArgs(
        site,
        identity_name="broxiva-ci-preview",
        subject=github_subject(ci.github_owner, ci.github_repository, ci.preview_environment),
        grants=(
            Grant("Reader", subscription),
            Grant("Azure Kubernetes Service Cluster User Role", subscription),
            Grant("Azure Kubernetes Service RBAC Reader", subscription),
            Grant("Storage Blob Data Reader", state.container_id),
            *(Grant("Key Vault Crypto User", keys.key_ids[stack], label=stack) for stack in ci.preview_stacks),
        ),
    ),
)
operator = context.Principal(
    object_id=cfg.deployer.object_id or client.object_id, principal_type=cfg.deployer.principal_type
)
OperatorAccess(
    "operator",
    OperatorAccessArgs(
        site,
        principal=operator,
        grants=(
            Grant("Storage Blob Data Contributor", state.container_id),
            Grant("Key Vault Crypto User", keys.key_ids[this_stack], label=this_stack),
        ),
    ),
)

# What the environment stacks read through pulumi.StackReference("organization/broxiva-bootstrap/org").
pulumi.export("zoneId", zone.zone_id)
pulumi.export("zoneName", zone.zone_name)
pulumi.export("zoneResourceGroup", zone.resource_group_name)
pulumi.export("nameServers", zone.name_servers)
pulumi.export("secretsProviders", keys.providers.apply(lambda p: {s: url for s, url in p.items() if s in ci.stacks}))
pulumi.export("bootstrapSecretsProvider", keys.providers.apply(lambda p: p[this_stack]))
pulumi.export(
    "ciIdentities",
    {name: {"clientId": ident.client_id, "principalId": ident.principal_id} for name, ident in identities.items()},
)
# The names as configured (they are the resources' names); the values wait for the resources.
pulumi.export("stateStorageAccount", state.account_name.apply(lambda _: cfg.state.account_name))
pulumi.export("stateContainer", state.container_name.apply(lambda _: cfg.state.container))
pulumi.export("stateBackend", backend_url(cfg.state.container, cfg.state.account_name))
pulumi.export("tenantId", client.tenant_id)
pulumi.export("subscriptionId", client.subscription_id)
