"""Typed, validated stack configuration: the only reader of the stack's config.

``load()`` turns the stack's raw values into frozen objects and checks every rule before the program
declares a single resource. A violation raises :class:`ConfigError` with one message that names the key
path, the bad value and what is allowed.

- ``schema``: the models (one per object of the stack file), each field documented;
- ``rules``: rules that span several keys;
- ``secrets``: the one secret catalog (generated, service and provided secrets);
- ``loading``: raw values from the engine to a :class:`Platform`, or one :class:`ConfigError`;
- ``validation``: pure checks of single values, shared by the models.
"""

from ..names import PROJECT
from .errors import ConfigError
from .loading import STRING_KEYS, TOP_LEVEL_KEYS, Platform, load, parse
from .schema import (
    AddonsConfig,
    AppConfig,
    AppSettings,
    BackupsConfig,
    CanaryStickiness,
    ClusterConfig,
    ColorsConfig,
    DeployerConfig,
    DnsConfig,
    DomainsConfig,
    Features,
    KeyVaultConfig,
    KeyVersions,
    MigrationConfig,
    NamespaceRbac,
    NetworkConfig,
    NodePool,
    PostgresConfig,
    RedisConfig,
    RegistryConfig,
    ReleaseConfig,
    SecretsConfig,
    SmokeCheck,
    StackConfig,
    TlsConfig,
)
from .secrets import PROVIDED_SECRETS

__all__ = [
    "PROJECT",
    "PROVIDED_SECRETS",
    "STRING_KEYS",
    "TOP_LEVEL_KEYS",
    "AddonsConfig",
    "AppConfig",
    "AppSettings",
    "BackupsConfig",
    "CanaryStickiness",
    "ClusterConfig",
    "ColorsConfig",
    "ConfigError",
    "DeployerConfig",
    "DnsConfig",
    "DomainsConfig",
    "Features",
    "KeyVaultConfig",
    "KeyVersions",
    "MigrationConfig",
    "NamespaceRbac",
    "NetworkConfig",
    "NodePool",
    "Platform",
    "PostgresConfig",
    "RedisConfig",
    "RegistryConfig",
    "ReleaseConfig",
    "SecretsConfig",
    "SmokeCheck",
    "StackConfig",
    "TlsConfig",
    "load",
    "parse",
]
