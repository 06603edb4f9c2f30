"""Which Key Vault secrets a stack holds, how each is made, and the variable the apps read it as.

Pure data and functions: the vault creates exactly ``secret_names(cfg)`` and the
ExternalSecret maps exactly the same names, so a reference to a missing secret
(which would break the whole sync) cannot be rendered.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import PROVIDED_SECRETS, StackConfig


@dataclass(frozen=True)
class GeneratedSecret:
    name: str
    """Key Vault secret name."""
    env: str
    """Environment variable the apps read."""
    length: int
    """Characters."""
    special: bool = False
    """Include punctuation (only URL-safe punctuation, so composed URLs need no escaping rules)."""
    optional: bool = False
    """Created only when the stack asks for it (webhook-secret)."""


GENERATED: tuple[GeneratedSecret, ...] = (
    GeneratedSecret("jwt-access-secret", "JWT_ACCESS_SECRET", 64),
    GeneratedSecret("jwt-refresh-secret", "JWT_REFRESH_SECRET", 64),
    GeneratedSecret("session-secret", "SESSION_SECRET", 64),
    GeneratedSecret("encryption-key", "ENCRYPTION_KEY", 64),
    GeneratedSecret("kyc-encryption-key", "KYC_ENCRYPTION_KEY", 64),
    GeneratedSecret("postgres-password", "POSTGRES_PASSWORD", 32, special=True),
    GeneratedSecret("redis-password", "REDIS_PASSWORD", 32),
    GeneratedSecret("internal-api-key", "INTERNAL_API_KEY", 48),
    GeneratedSecret("webhook-secret", "WEBHOOK_SECRET", 48, optional=True),
)
URL_SAFE_SPECIAL = "-_.~"

COMPOSED: dict[str, tuple[str, str]] = {
    # secret name: (password it is composed from, environment variable)
    "postgres-url": ("postgres-password", "DATABASE_URL"),
    "redis-url": ("redis-password", "REDIS_URL"),
}


def generated(cfg: StackConfig) -> list[GeneratedSecret]:
    return [s for s in GENERATED if not s.optional or (s.name == "webhook-secret" and cfg.secrets.webhook_secret)]


def provided_names(cfg: StackConfig, present: set[str]) -> dict[str, str]:
    """Key Vault name -> env var of the provided secrets the stack actually has (``present``)."""
    out = {}
    for secret in PROVIDED_SECRETS:
        vault_name = cfg.registry.pull_token_secret if secret.key == "registryPullToken" else secret.vault_name
        if vault_name in present and secret.env_name:
            out[vault_name] = secret.env_name
    return out


def app_env(cfg: StackConfig, provided: set[str]) -> dict[str, str]:
    """Key Vault secret -> environment variable, for every secret the apps read (Secret broxiva-secrets)."""
    env = {s.name: s.env for s in generated(cfg)}
    env.update({name: var for name, (_, var) in COMPOSED.items()})
    env.update(provided_names(cfg, provided))
    return dict(sorted(env.items()))


def secret_names(cfg: StackConfig, provided: set[str]) -> list[str]:
    """Every Key Vault secret the stack creates."""
    return sorted({s.name for s in generated(cfg)} | set(COMPOSED) | set(provided))
