"""The environment's Key Vault and every secret in it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import keyvault

from ..config import KeyVaultConfig
from ..config import secrets as catalog
from ..options import removable
from .context import Placement
from .private_link import Endpoint, private_endpoint


@dataclass(frozen=True)
class SecretVaultArgs:
    placement: Placement
    """Group, region, tags, subscription; protect applies to the vault (its secrets stay removable)."""
    key_vault: KeyVaultConfig
    """Vault name, purge protection, network access."""
    tenant_id: pulumi.Input[str]
    """Entra ID tenant of the vault."""
    secrets: tuple[catalog.StackSecret, ...]
    """Every secret the vault holds (``config.secrets.stack_secrets``)."""
    values: Mapping[str, pulumi.Input[str]]
    """Secret Outputs by Key Vault name: generated, read from the data services, provided. One per held secret."""
    expires: Mapping[str, int]
    """Key Vault ``exp`` (seconds since the epoch) by secret name, for the secrets that expire (generated ones)."""
    endpoint: Endpoint
    """The private-endpoint subnet and the privatelink.vaultcore.azure.net zone."""
    existing_id: str | None
    """Resource ID of the vault if it already exists (adopt.keyVault): imported, not created."""


def _vault_properties(kv: KeyVaultConfig, tenant_id: pulumi.Input[str]) -> keyvault.VaultPropertiesArgs:
    return keyvault.VaultPropertiesArgs(
        tenant_id=tenant_id,
        sku=keyvault.SkuArgs(family="A", name=keyvault.SkuName.STANDARD),
        enable_rbac_authorization=True,
        enable_soft_delete=True,
        soft_delete_retention_in_days=kv.soft_delete_retention_days,
        # Azure refuses enablePurgeProtection=false; leaving it out is how it stays off.
        enable_purge_protection=True if kv.purge_protection else None,
        public_network_access=kv.public_network_access,
        network_acls=keyvault.NetworkRuleSetArgs(
            bypass="AzureServices",
            default_action=kv.network_default_action,
            ip_rules=[keyvault.IPRuleArgs(value=r) for r in kv.allowed_ip_ranges],
        ),
    )


class SecretVault(pulumi.ComponentResource):
    """Key Vault with RBAC authorization, reachable privately, holding generated, service and provided secrets.

    Secrets are written through Azure Resource Manager (``Microsoft.KeyVault/vaults/secrets``), the control
    plane, which the vault's network rules do not apply to (docs/network.md)."""

    vault_id: pulumi.Output[str]
    vault_name: pulumi.Output[str]
    vault_uri: pulumi.Output[str]
    secret_names: list[str]
    app_env: dict[str, str]
    secrets: list[keyvault.Secret]
    """The secrets written: what must wait for their values (a component's children are not its dependents'
    dependencies beyond its own direct custom children, and these are the vault's children)."""

    def __init__(self, name: str, args: SecretVaultArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:azure:SecretVault", name, None, opts)
        where = args.placement
        missing = sorted(held.name for held in args.secrets if held.name not in args.values)
        if missing:
            raise ValueError(f"no value for the vault's secrets {missing}")
        vault = keyvault.Vault(
            f"{name}-vault",
            vault_name=args.key_vault.name,
            properties=_vault_properties(args.key_vault, args.tenant_id),
            **where.located(),
            opts=where.kept(self, import_=args.existing_id),
        )
        # Secrets are written through ARM (Microsoft.KeyVault/vaults/secrets/write, in the deployer's
        # Contributor): no data-plane role, so the deployer can write every secret but read none.
        secret_opts = removable(vault)

        private_endpoint(
            f"{name}-endpoint",
            where=where,
            endpoint=args.endpoint,
            target_id=vault.id,
            target_name=args.key_vault.name,
            group_id="vault",
            opts=removable(vault),
        )

        self.secret_names = [held.name for held in args.secrets]
        self.app_env = catalog.app_env(args.secrets)
        self.secrets = []
        for secret_name in self.secret_names:
            secret = keyvault.Secret(
                f"{name}-{secret_name}",
                secret_name=secret_name,
                vault_name=vault.name,
                resource_group_name=where.resource_group_name,
                properties=keyvault.SecretPropertiesArgs(
                    value=args.values[secret_name],
                    content_type="text/plain",
                    attributes=keyvault.SecretAttributesArgs(expires=args.expires[secret_name])
                    if secret_name in args.expires
                    else None,
                ),
                tags=where.tags,
                opts=secret_opts,
            )
            self.secrets.append(secret)
        self.vault_id = vault.id
        self.vault_name = vault.name
        self.vault_uri = vault.properties.apply(lambda p: p.vault_uri or "")
        self.register_outputs({"vault_id": self.vault_id, "vault_name": self.vault_name, "vault_uri": self.vault_uri})
