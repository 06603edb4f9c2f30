"""The environment's Key Vault and every secret in it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

import pulumi
import pulumi_random as random
from pulumi_azure_native import keyvault

from . import roles, secret_catalog
from .config import KeyVaultConfig, SecretsConfig, StackConfig


@dataclass(frozen=True)
class SecretVaultArgs:
    config: StackConfig
    """Validated stack configuration (vault settings, secrets, data service hosts)."""
    resource_group_name: pulumi.Input[str]
    """Group of the vault."""
    tenant_id: pulumi.Input[str]
    """Entra ID tenant of the vault."""
    subscription_id: pulumi.Input[str]
    """Subscription (role definition IDs)."""
    deployer_object_id: pulumi.Input[str]
    """Principal running pulumi, made Key Vault Secrets Officer."""
    deployer_principal_type: str
    """User, Group or ServicePrincipal: the type of deployer_object_id."""
    provided: Mapping[str, pulumi.Output[str]]
    """Operator-provided secrets by Key Vault name (secret Outputs)."""
    tags: dict[str, str]
    """Tags."""
    protect: bool
    """Protect the vault from deletion."""


def postgres_url(cfg: SecretsConfig, password: str) -> str:
    pg = cfg.postgres
    return f"postgresql://{pg.user}:{quote(password, safe='')}@{pg.host}:{pg.port}/{pg.database}?sslmode={pg.sslmode}"


def redis_url(cfg: SecretsConfig, password: str) -> str:
    scheme = "rediss" if cfg.redis.tls else "redis"
    return f"{scheme}://:{quote(password, safe='')}@{cfg.redis.host}:{cfg.redis.port}"


def _vault_properties(kv: KeyVaultConfig, tenant_id: pulumi.Input[str]) -> keyvault.VaultPropertiesArgs:
    return keyvault.VaultPropertiesArgs(
        tenant_id=tenant_id,
        sku=keyvault.SkuArgs(family="A", name="standard"),
        enable_rbac_authorization=True,
        enable_soft_delete=True,
        soft_delete_retention_in_days=kv.soft_delete_retention_days,
        # Azure refuses enablePurgeProtection=false; leaving it out is how it stays off.
        enable_purge_protection=True if kv.purge_protection else None,
        public_network_access="Enabled",
        network_acls=keyvault.NetworkRuleSetArgs(
            bypass="AzureServices",
            default_action=kv.network_default_action,
            ip_rules=[keyvault.IPRuleArgs(value=r) for r in kv.allowed_ip_ranges],
        ),
    )


class SecretVault(pulumi.ComponentResource):
    """Key Vault with RBAC authorization holding generated, composed and provided secrets."""

    vault_id: pulumi.Output[str]
    vault_name: pulumi.Output[str]
    vault_uri: pulumi.Output[str]
    secret_names: list[str]
    app_env: dict[str, str]

    def __init__(self, name: str, args: SecretVaultArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:azure:SecretVault", name, None, opts)
        cfg = args.config
        vault = keyvault.Vault(
            f"{name}-vault",
            vault_name=cfg.key_vault.name,
            resource_group_name=args.resource_group_name,
            location=cfg.location,
            properties=_vault_properties(cfg.key_vault, args.tenant_id),
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        officer = roles.assign(
            f"{name}-deployer-secrets-officer",
            scope=vault.id,
            role="Key Vault Secrets Officer",
            principal_id=args.deployer_object_id,
            subscription_id=args.subscription_id,
            principal_type=args.deployer_principal_type,
            opts=pulumi.ResourceOptions(parent=vault, protect=False),
        )
        # Children inherit protect from their parent: secrets stay removable, the vault is what is kept.
        secret_opts = pulumi.ResourceOptions(parent=vault, protect=False, depends_on=[officer])

        values: dict[str, pulumi.Output[str]] = {}
        for spec in secret_catalog.generated(cfg):
            password = random.RandomPassword(
                f"{name}-{spec.name}",
                length=spec.length,
                special=spec.special,
                override_special=secret_catalog.URL_SAFE_SPECIAL if spec.special else None,
                min_lower=4,
                min_upper=4,
                min_numeric=4,
                # Changing secrets.rotation replaces every generated value: the reviewed 90-day rotation.
                keepers={"rotation": cfg.secrets.rotation},
                opts=pulumi.ResourceOptions(parent=self),
            )
            values[spec.name] = pulumi.Output.secret(password.result)
        values["postgres-url"] = pulumi.Output.secret(
            values["postgres-password"].apply(lambda p: postgres_url(cfg.secrets, p))
        )
        values["redis-url"] = pulumi.Output.secret(values["redis-password"].apply(lambda p: redis_url(cfg.secrets, p)))
        values.update(args.provided)

        self.secret_names = secret_catalog.secret_names(cfg, set(args.provided))
        self.app_env = secret_catalog.app_env(cfg, set(args.provided))
        for secret_name in self.secret_names:
            keyvault.Secret(
                f"{name}-{secret_name}",
                secret_name=secret_name,
                vault_name=vault.name,
                resource_group_name=args.resource_group_name,
                properties=keyvault.SecretPropertiesArgs(value=values[secret_name], content_type="text/plain"),
                tags=args.tags,
                opts=secret_opts,
            )
        self.vault_id = vault.id
        self.vault_name = vault.name
        self.vault_uri = vault.properties.apply(lambda p: p.vault_uri or "")
        self.register_outputs({"vault_id": self.vault_id, "vault_name": self.vault_name, "vault_uri": self.vault_uri})
