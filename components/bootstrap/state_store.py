"""The Pulumi state store: one storage account and the blob container every stack's state lives in."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import storage

from ..azure.backups import entra_only_account, versioned_blob_service
from ..azure.context import Placement
from .settings import StateConfig


@dataclass(frozen=True)
class StateStoreArgs:
    placement: Placement
    """Group, region, tags and subscription of the account; protect applies to every resource."""
    state: StateConfig
    """Account name, container, replication and soft delete."""


class StateStore(pulumi.ComponentResource):
    """Storage account (Entra ID only, TLS 1.2, no public blobs) and the state container, versioned and
    soft-deleted so that a state file overwritten or deleted by mistake can be recovered."""

    account_name: pulumi.Output[str]
    container_name: pulumi.Output[str]
    container_id: pulumi.Output[str]

    def __init__(self, name: str, args: StateStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:bootstrap:StateStore", name, None, opts)
        where, cfg = args.placement, args.state
        account = storage.StorageAccount(
            f"{name}-account",
            account_name=cfg.account_name,
            sku=storage.SkuArgs(name=cfg.sku),
            # Entra ID only. Pulumi's azblob:// backend opens the bucket with gocloud's
            # azureblob.NewDefaultClient (pulumi/pulumi pkg/backend/diy/backend.go); without
            # AZURE_STORAGE_KEY, a SAS token or a connection string it authenticates with
            # azidentity.NewDefaultAzureCredential (google/go-cloud blob/azureblob/azureblob.go,
            # newCredInfoFromEnv -> credTypeDefault): the Azure CLI login, a workload identity or the
            # GitHub OIDC login all work with shared keys off.
            **entra_only_account(),
            **where.located(),
            opts=where.kept(self),
        )
        service = versioned_blob_service(name, account, where, cfg.soft_delete_days, where.kept(self))
        container = storage.BlobContainer(
            f"{name}-container",
            account_name=account.name,
            resource_group_name=where.resource_group_name,
            container_name=cfg.container,
            public_access=storage.PublicAccess.NONE,
            opts=where.kept(self, depends_on=[service]),
        )
        self.account_name = account.name
        self.container_name = container.name
        self.container_id = container.id
        self.register_outputs(
            {
                "account_name": self.account_name,
                "container_name": self.container_name,
                "container_id": self.container_id,
            }
        )


def backend_url(container: str, account: str) -> str:
    """The ``pulumi login`` URL of the state (gocloud reads the account from ``storage_account``)."""
    return f"azblob://{container}?storage_account={account}"
