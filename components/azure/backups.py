"""Where database dumps are kept: a private storage account with the database-backups container."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_azure_native import storage

from ..config import BackupsConfig
from ..options import removable
from .context import Placement
from .private_link import Endpoint, private_endpoint

CONTAINER = "database-backups"
"""The container the seeds back the database up to."""


def entra_only_account() -> dict[str, Any]:
    """Storage account settings of every account the platform keeps data in: Entra ID sign-in only (no
    shared keys, nothing anonymous, no cross-tenant copies), TLS 1.2 over HTTPS."""
    return {
        "kind": storage.Kind.STORAGE_V2,
        "allow_blob_public_access": False,
        "allow_shared_key_access": False,
        "default_to_o_auth_authentication": True,
        "allow_cross_tenant_replication": False,
        "minimum_tls_version": storage.MinimumTlsVersion.TLS1_2,
        "enable_https_traffic_only": True,
    }


def versioned_blob_service(
    name: str, account: storage.StorageAccount, where: Placement, days: int, opts: pulumi.ResourceOptions
) -> storage.BlobServiceProperties:
    """Blob versioning with soft delete of blobs, versions and containers for ``days``: an overwrite or a
    deletion can be undone within that window."""
    return storage.BlobServiceProperties(
        f"{name}-blob-service",
        account_name=account.name,
        resource_group_name=where.resource_group_name,
        blob_services_name="default",
        is_versioning_enabled=True,
        delete_retention_policy=storage.DeleteRetentionPolicyArgs(enabled=True, days=days),
        container_delete_retention_policy=storage.DeleteRetentionPolicyArgs(enabled=True, days=days),
        opts=opts,
    )


@dataclass(frozen=True)
class BackupStoreArgs:
    placement: Placement
    """Group, region, tags; protect applies to the account and the container."""
    backups: BackupsConfig
    """Account name, soft delete, immutability."""
    zone_redundant: bool
    """Keep copies in three zones (and, in prod, the paired region)."""
    geo_redundant: bool
    """Replicate to the paired region as well (the database's geo-redundant backups have the same reach)."""
    endpoint: Endpoint
    """The private-endpoint subnet and the privatelink.blob.core.windows.net zone."""


class BackupStore(pulumi.ComponentResource):
    """StorageV2 account reachable only through its private endpoint, Entra ID only (no shared keys), with
    versioning, soft delete and, where configured, immutable backups."""

    account_name: pulumi.Output[str]
    account_id: pulumi.Output[str]
    container_name: pulumi.Output[str]

    def __init__(self, name: str, args: BackupStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:azure:BackupStore", name, None, opts)
        cfg = args.backups
        where = args.placement
        redundancy = ("GZRS" if args.geo_redundant else "ZRS") if args.zone_redundant else "LRS"
        immutable = cfg.immutability_days is not None
        account = storage.StorageAccount(
            f"{name}-account",
            account_name=cfg.storage_account,
            sku=storage.SkuArgs(name=f"Standard_{redundancy}"),
            access_tier=storage.AccessTier.COOL,
            **entra_only_account(),
            public_network_access="Disabled",
            network_rule_set=storage.NetworkRuleSetArgs(default_action=storage.DefaultAction.DENY, bypass="None"),
            # Version-level immutability has to be allowed on the account before a container can use it.
            immutable_storage_with_versioning=storage.ImmutableStorageAccountArgs(enabled=True) if immutable else None,
            **where.located(),
            opts=where.kept(self),
        )
        service = versioned_blob_service(name, account, where, cfg.soft_delete_days, removable(account))
        container = storage.BlobContainer(
            f"{name}-container",
            account_name=account.name,
            resource_group_name=where.resource_group_name,
            container_name=CONTAINER,
            public_access=storage.PublicAccess.NONE,
            immutable_storage_with_versioning=storage.ImmutableStorageWithVersioningArgs(enabled=True)
            if immutable
            else None,
            opts=where.kept(account, depends_on=[service]),
        )
        if immutable:
            # Unlocked: it can still be shortened or removed by someone with rights on the account until an
            # operator locks it (docs/RUNBOOK.md), which no one can undo.
            storage.BlobContainerImmutabilityPolicy(
                f"{name}-immutability",
                account_name=account.name,
                resource_group_name=where.resource_group_name,
                container_name=container.name,
                immutability_policy_name="default",
                immutability_period_since_creation_in_days=cfg.immutability_days,
                allow_protected_append_writes_all=False,
                opts=removable(container),
            )
        private_endpoint(
            f"{name}-endpoint",
            where=where,
            endpoint=args.endpoint,
            target_id=account.id,
            target_name=cfg.storage_account,
            group_id="blob",
            opts=removable(account),
        )
        self.account_name = account.name
        self.account_id = account.id
        self.container_name = container.name
        self.register_outputs(
            {"account_name": self.account_name, "container_name": self.container_name, "account_id": self.account_id}
        )
