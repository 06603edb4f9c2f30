"""The one secret catalog: every Key Vault secret a stack can hold, how it is made, and who reads it.

Three sources share one table:

- ``generated``: a random value the program creates (rotated with ``secrets.rotation``);
- ``service``: read from a data service the program creates (the cache's access key, the connection URLs
  built from the servers' real host names, ports and credentials);
- ``provided``: set by an operator with ``pulumi config set --secret --path providedSecrets.<key>``.

The vault creates exactly :func:`stack_secrets` and the ExternalSecret maps exactly the same names, so a
reference to a missing secret (which would break the whole sync) cannot be rendered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from pydantic.alias_generators import to_camel

from ..monitoring import has_alerts
from . import validation as v
from .schema import SecretsConfig, StackConfig

Source = Literal["generated", "service", "provided"]

URL_SAFE_SPECIAL = "-_.~"
"""The only punctuation in generated values, so composed URLs need no escaping rules."""


@dataclass(frozen=True)
class SecretSpec:
    """One entry of the catalog."""

    name: str
    """Key Vault secret name (a stack may rename the registry token: ``registry.pullTokenSecret``)."""
    env: str | None
    """Environment variable the apps read it as; None for a secret the apps never see (registry token)."""
    source: Source
    """generated, service or provided."""
    length: int = 0
    """Characters of a generated value."""
    special: bool = False
    """Include URL-safe punctuation in a generated value."""
    key: str | None = None
    """Key of a provided secret under ``providedSecrets`` (camelCase)."""
    wanted: Callable[[StackConfig], bool] | None = None
    """Generated: whether the stack creates it at all (None: always)."""
    required_when: Callable[[StackConfig], bool] | None = None
    """Provided: whether the environment cannot run without it (None: optional)."""
    in_vault: bool = True
    """Provided: False for a secret the platform itself uses (an alert receiver's address), kept only in the
    Pulumi state as a secret: never in Key Vault, never in the cluster."""
    versioned: bool = False
    """Generated: a key that encrypts stored data. Made per version (``secrets.encryptionKeys``), never by the
    rotation stamp; the previous version stays readable as ``<name>-previous``."""


def _generated(name: str, env: str, length: int, **kwargs) -> SecretSpec:
    return SecretSpec(name, env, "generated", length=length, **kwargs)


def _provided(
    name: str, env: str | None, required_when: Callable[[StackConfig], bool] | None = None, *, in_vault: bool = True
) -> SecretSpec:
    return SecretSpec(
        name, env, "provided", key=to_camel(name.replace("-", "_")), required_when=required_when, in_vault=in_vault
    )


def _routes_to(receiver: str) -> Callable[[StackConfig], bool]:
    """Required when alerts are on and some severity notifies ``receiver``."""

    def required(cfg: StackConfig) -> bool:
        alerts = cfg.observability.alerts
        return (
            has_alerts(cfg.features.monitoring)
            and alerts is not None
            and any(receiver in receivers for receivers in alerts.routes.values())
        )

    return required


CATALOG: tuple[SecretSpec, ...] = (
    _generated("jwt-access-secret", "JWT_ACCESS_SECRET", 64),
    _generated("jwt-refresh-secret", "JWT_REFRESH_SECRET", 64),
    _generated("session-secret", "SESSION_SECRET", 64),
    _generated("encryption-key", "ENCRYPTION_KEY", 64, versioned=True),
    _generated("kyc-encryption-key", "KYC_ENCRYPTION_KEY", 64, versioned=True),
    _generated("postgres-password", "POSTGRES_PASSWORD", 32, special=True),
    _generated("internal-api-key", "INTERNAL_API_KEY", 48),
    _generated("webhook-secret", "WEBHOOK_SECRET", 48, wanted=lambda c: c.secrets.webhook_secret),
    # The one PostgreSQL password: the server's administrator password is this value (same up, same rotation).
    SecretSpec("postgres-url", "DATABASE_URL", "service"),
    # Azure generates the cache's keys; the vault holds the database's primary key as Azure reports it.
    SecretSpec("redis-password", "REDIS_PASSWORD", "service"),
    SecretSpec("redis-url", "REDIS_URL", "service"),
    # The environment's Application Insights: the OpenTelemetry distro reads this variable.
    SecretSpec("appinsights-connection-string", "APPLICATIONINSIGHTS_CONNECTION_STRING", "service"),
    _provided("stripe-secret-key", "STRIPE_SECRET_KEY", lambda c: c.features.payment_mode != "mock"),
    _provided("stripe-webhook-secret", "STRIPE_WEBHOOK_SECRET", lambda c: c.features.payment_mode != "mock"),
    _provided("sendgrid-api-key", "SENDGRID_API_KEY", lambda c: c.features.email_provider != "mailhog"),
    _provided("registry-pull-token", None, lambda c: c.registry.pull_token_secret is not None),
    _provided("alert-slack-webhook-url", None, _routes_to("slack"), in_vault=False),
    _provided("alert-pagerduty-integration-key", None, _routes_to("pagerduty"), in_vault=False),
    *(
        _provided(name, name.upper().replace("-", "_"))
        for name in (
            "paypal-client-id",
            "paypal-client-secret",
            "openai-api-key",
            "google-oauth-client-id",
            "google-oauth-client-secret",
            "facebook-app-id",
            "facebook-app-secret",
            "sentry-dsn",
            "datadog-api-key",
        )
    ),
)

ENCRYPTION_KEYS: frozenset[str] = frozenset(s.name for s in CATALOG if s.versioned)
"""The versioned keys (``secrets.encryptionKeys`` lists exactly these)."""
PREVIOUS_SUFFIX = "-previous"
PROVIDED_SECRETS: tuple[SecretSpec, ...] = tuple(s for s in CATALOG if s.source == "provided")
"""The operator-provided secrets, in the order the docs list them."""
PROVIDED_BY_KEY: dict[str, SecretSpec] = {s.key: s for s in PROVIDED_SECRETS if s.key}
_REGISTRY_TOKEN = "registry-pull-token"


def vault_name(spec: SecretSpec, cfg: StackConfig) -> str:
    """The Key Vault name of an entry in this stack (the registry token's name is configurable)."""
    if spec.name == _REGISTRY_TOKEN and cfg.registry.pull_token_secret:
        return cfg.registry.pull_token_secret
    return spec.name


@dataclass(frozen=True)
class StackSecret:
    """A catalog entry as one stack holds it."""

    name: str
    """Key Vault secret name in this stack."""
    spec: SecretSpec
    """The catalog entry."""


def stack_secrets(cfg: StackConfig, provided: Iterable[str]) -> tuple[StackSecret, ...]:
    """Every Key Vault secret the stack holds, by name: generated ones it wants, composed ones, and the
    provided ones among ``provided`` (their Key Vault names)."""
    present = set(provided)
    held = []
    for spec in CATALOG:
        name = vault_name(spec, cfg)
        if spec.source == "generated" and spec.wanted is not None and not spec.wanted(cfg):
            continue
        if spec.source == "provided" and (name not in present or not spec.in_vault):
            continue
        held.append(StackSecret(name, spec))
        versions = cfg.secrets.encryption_keys.get(name) if spec.versioned else None
        if versions is not None and versions.previous is not None:
            previous = replace(spec, name=name + PREVIOUS_SUFFIX, env=f"{spec.env}_PREVIOUS")
            held.append(StackSecret(previous.name, previous))
    return tuple(sorted(held, key=lambda s: s.name))


def key_version(secret: StackSecret, settings: SecretsConfig) -> tuple[str, str]:
    """(key name, version) of a versioned secret: ``<name>`` holds the current version, ``<name>-previous``
    the previous one."""
    base = secret.name.removesuffix(PREVIOUS_SUFFIX)
    versions = settings.encryption_keys[base]
    if secret.name.endswith(PREVIOUS_SUFFIX):
        assert versions.previous is not None
        return base, versions.previous
    return base, versions.current


def app_env(secrets: Iterable[StackSecret]) -> dict[str, str]:
    """Key Vault secret -> environment variable, for every held secret the apps read (Secret broxiva-secrets)."""
    return {s.name: s.spec.env for s in sorted(secrets, key=lambda s: s.name) if s.spec.env}


def generated(secrets: Iterable[StackSecret]) -> list[StackSecret]:
    return [s for s in secrets if s.spec.source == "generated"]


def expiries(secrets: Iterable[StackSecret], settings: SecretsConfig) -> dict[str, int]:
    """Key Vault ``exp`` of every generated secret: ``expiryDays`` after the rotation stamp's date, or for an
    encryption key after its current version's date (a reminder; an expired secret is still served)."""
    out = {}
    for s in generated(secrets):
        stamp = settings.encryption_keys[key_version(s, settings)[0]].current if s.spec.versioned else settings.rotation
        out[s.name] = v.expiry_epoch(stamp, settings.expiry_days)
    return out


def from_services(secrets: Iterable[StackSecret]) -> list[StackSecret]:
    return [s for s in secrets if s.spec.source == "service"]


def required_provided(cfg: StackConfig, present: Mapping[str, object]) -> list[SecretSpec]:
    """Provided secrets this stack needs but ``present`` (keyed by providedSecrets key) lacks."""
    return [
        s
        for s in PROVIDED_SECRETS
        if s.required_when is not None and s.required_when(cfg) and present.get(s.key or "") in (None, "")
    ]


def secrets_version(settings: SecretsConfig) -> str:
    """What the synced values are a version of: the rotation stamp and each encryption key's versions. A new
    one re-reads the vault into the cluster and restarts every pod (``docs/RUNBOOK.md``, rotation)."""
    keys = [
        f"{name}={versions.current}" + (f"+{versions.previous}" if versions.previous else "")
        for name, versions in sorted(settings.encryption_keys.items())
    ]
    return ";".join([f"rotation={settings.rotation}", *keys])


def secrets_version_key(version: str) -> str:
    """The key of the synced Secret that only a sync of ``version`` writes: pods of that version read it, so
    they cannot start on values synced before the rotation."""
    return "version-" + hashlib.sha256(version.encode()).hexdigest()[:12]
