"""The secrets-provider keys: one RSA key per stack in an RBAC Key Vault with purge protection."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import keyvault

from ..azure.context import Placement
from .settings import SecretsConfig


def key_name(stack: str) -> str:
    """The key that encrypts ``stack``'s secrets: one per stack, so that who may decrypt is decided per stack."""
    return f"pulumi-{stack}"


def secrets_provider(vault: str, stack: str) -> str:
    """The stack file's ``secretsprovider`` (the Pulumi CLI's azurekeyvault:// provider, gocloud secrets/azurekeyvault)."""
    return f"azurekeyvault://{vault}.vault.azure.net/keys/{key_name(stack)}"


@dataclass(frozen=True)
class SecretsKeysArgs:
    placement: Placement
    """Group, region, tags; protect applies to the vault and every key."""
    secrets: SecretsConfig
    """Vault name, retention and key size."""
    tenant_id: pulumi.Input[str]
    """Entra ID tenant of the vault."""
    stacks: tuple[str, ...]
    """Stacks that get a key (the environments and the bootstrap's own)."""


class SecretsKeys(pulumi.ComponentResource):
    """Key Vault (RBAC authorization, purge protection) and one encrypt/decrypt RSA key per stack."""

    vault_id: pulumi.Output[str]
    key_ids: dict[str, pulumi.Output[str]]
    providers: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, args: SecretsKeysArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:bootstrap:SecretsKeys", name, None, opts)
        where, cfg = args.placement, args.secrets
        vault = keyvault.Vault(
            f"{name}-vault",
            vault_name=cfg.vault_name,
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=args.tenant_id,
                sku=keyvault.SkuArgs(family="A", name=keyvault.SkuName.STANDARD),
                # Access per key through Azure RBAC (Key Vault Crypto User at key scope), no access policies.
                enable_rbac_authorization=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=cfg.soft_delete_retention_days,
                # A purged key makes every stack's secrets unreadable for good.
                enable_purge_protection=True,
            ),
            **where.located(),
            opts=where.kept(self),
        )
        self.key_ids = {}
        for stack in args.stacks:
            key = keyvault.Key(
                f"{name}-{stack}",
                key_name=key_name(stack),
                vault_name=vault.name,
                resource_group_name=where.resource_group_name,
                properties=keyvault.KeyPropertiesArgs(
                    kty=keyvault.JsonWebKeyType.RSA,
                    key_size=cfg.key_size,
                    # gocloud's azurekeyvault keeper only encrypts and decrypts (RSA-OAEP-256 by default:
                    # google/go-cloud secrets/azurekeyvault/akv.go).
                    key_ops=[keyvault.JsonWebKeyOperation.ENCRYPT, keyvault.JsonWebKeyOperation.DECRYPT],
                ),
                tags=where.tags,
                opts=where.kept(self),
            )
            self.key_ids[stack] = key.id
        self.vault_id = vault.id
        self.providers = pulumi.Output.from_input(
            {stack: secrets_provider(cfg.vault_name, stack) for stack in args.stacks}
        )
        self.register_outputs({"vault_id": self.vault_id, "key_ids": self.key_ids, "providers": self.providers})
