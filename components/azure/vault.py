"""The environment's Key Vault and every secret in it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

import pulumi
import pulumi_random as random
from pulumi_azure_native import keyvault

from ..config import KeyVaultConfig, PostgresConfig, RedisConfig
from ..config import secrets as catalog
from ..options import removable
from . import roles
from .context import Placement, Principal


@dataclass(frozen=True)
class SecretVaultArgs:
    placement: Placement
    """Group, region, tags, subscription; protect applies to the vault (its secrets stay removable)."""
    key_vault: KeyVaultConfig
    """Vault name, purge protection, firewall."""
    tenant_id: pulumi.Input[str]
    """Entra ID tenant of the vault."""
    deployer: Principal
    """Principal running pulumi, made Key Vault Secrets Officer."""
    secrets: tuple[catalog.StackSecret, ...]
    """Every secret the vault holds (``config.secrets.stack_secrets``)."""
    rotation: str
    """Rotation generation: a new value regenerates every generated secret."""
    postgres: PostgresConfig
    """Where postgres-url points."""
    redis: RedisConfig
    """Where redis-url points."""
    provided: Mapping[str, pulumi.Output[str]]
    """Operator-provided secrets by Key Vault name (secret Outputs)."""
    existing_id: str | None
    """Resource ID of the vault if it already exists (adopt.keyVault): imported, not created."""


def postgres_url(pg: PostgresConfig, password: str) -> str:
    return f"postgresql://{pg.user}:{quote(password, safe='')}@{pg.host}:{pg.port}/{pg.database}?sslmode={pg.sslmode}"


def redis_url(redis: RedisConfig, password: str) -> str:
    scheme = "rediss" if redis.tls else "redis"
    return f"{scheme}://:{quote(password, safe='')}@{redis.host}:{redis.port}"


def _vault_properties(kv: KeyVaultConfig, tenant_id: pulumi.Input[str]) -> keyvault.VaultPropertiesArgs:
    return keyvault.VaultPropertiesArgs(
        tenant_id=tenant_id,
        sku=keyvault.SkuArgs(family="A", name=keyvault.SkuName.STANDARD),
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
        where = args.placement
        vault = keyvault.Vault(
            f"{name}-vault",
            vault_name=args.key_vault.name,
            properties=_vault_properties(args.key_vault, args.tenant_id),
            **where.located(),
            opts=where.kept(self, import_=args.existing_id),
        )
        officer = roles.deployer_access(
            f"{name}-deployer-secrets-officer", vault, "Key Vault Secrets Officer", args.deployer, where.subscription_id
        )
        secret_opts = removable(vault, depends_on=[officer])

        values: dict[str, pulumi.Output[str]] = {}
        for held in catalog.generated(args.secrets):
            spec = held.spec
            password = random.RandomPassword(
                f"{name}-{held.name}",
                length=spec.length,
                special=spec.special,
                override_special=catalog.URL_SAFE_SPECIAL if spec.special else None,
                min_lower=4,
                min_upper=4,
                min_numeric=4,
                # Changing secrets.rotation replaces every generated value: the reviewed 90-day rotation.
                keepers={"rotation": args.rotation},
                opts=pulumi.ResourceOptions(parent=self),
            )
            values[held.name] = pulumi.Output.secret(password.result)
        compose = {
            "postgres-url": lambda p: postgres_url(args.postgres, p),
            "redis-url": lambda p: redis_url(args.redis, p),
        }
        for held in catalog.composed(args.secrets):
            source = values[held.spec.composed_from or ""]
            values[held.name] = pulumi.Output.secret(source.apply(compose[held.name]))
        values.update(args.provided)

        self.secret_names = [held.name for held in args.secrets]
        self.app_env = catalog.app_env(args.secrets)
        for secret_name in self.secret_names:
            keyvault.Secret(
                f"{name}-{secret_name}",
                secret_name=secret_name,
                vault_name=vault.name,
                resource_group_name=where.resource_group_name,
                properties=keyvault.SecretPropertiesArgs(value=values[secret_name], content_type="text/plain"),
                tags=where.tags,
                opts=secret_opts,
            )
        self.vault_id = vault.id
        self.vault_name = vault.name
        self.vault_uri = vault.properties.apply(lambda p: p.vault_uri or "")
        self.register_outputs({"vault_id": self.vault_id, "vault_name": self.vault_name, "vault_uri": self.vault_uri})
