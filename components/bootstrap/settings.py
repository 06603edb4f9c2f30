"""The bootstrap stack's configuration: typed, validated, read once, before any resource is declared.

The models reuse the environment program's base model and single-value checks (``components.config``); a bad
value raises one :class:`ConfigError` naming the key (``broxiva-bootstrap:<key>``), the value and what is allowed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal

import pulumi
from pydantic import Field, Strict, ValidationError, model_validator

from ..config import errors, loading
from ..config import validation as v
from ..config.errors import MISSING, FieldError
from ..config.schema import DeployerConfig, DnsName, Model, _check

PROJECT = "broxiva-bootstrap"
"""The bootstrap's Pulumi project (config keys are ``broxiva-bootstrap:<key>``)."""
ZONE_TYPE = "Microsoft.Network/dnsZones"
STACK_NAME = r"^[a-z][a-z0-9-]{0,39}$"


class ConfigError(errors.ConfigError):
    """Bad bootstrap configuration: one message naming ``broxiva-bootstrap:<key>``, the value and what is allowed.

    The same class as the environment program's (the CLI and the offline plan print it without a traceback),
    only the project prefix differs."""

    def __init__(self, key: str, value: Any, allowed: str, stack: str | None = None):
        super().__init__(key, value, allowed, stack)
        where = f" of stack '{stack}'" if stack else ""
        message = (
            f"Invalid configuration{where}: {PROJECT}:{errors.one_line(key)} = {errors.show(value)}: "
            f"{errors.one_line(allowed)}."
        )
        self.args = (message,)


StorageAccountName = Annotated[str, Field(pattern=r"^[a-z0-9]{3,24}$")]
GroupName = Annotated[str, _check(v.resource_group_name_problem)]
VaultName = Annotated[str, _check(v.key_vault_name_problem)]
ZoneId = Annotated[str, _check(v.arm_id_problem, resource_type=ZONE_TYPE)]
GitHubName = Annotated[str, Field(pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,99})$")]
StackName = Annotated[str, Field(pattern=STACK_NAME)]


class StateConfig(Model):
    account_name: StorageAccountName
    """Storage account of the Pulumi state (globally unique, 3-24 lowercase letters and digits)."""
    container: Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9]|-[a-z0-9]){2,62}$")] = "pulumi-state"
    """Blob container of the state (pulumi login azblob://<container>)."""
    sku: Literal["Standard_LRS", "Standard_ZRS", "Standard_GRS", "Standard_RAGRS", "Standard_GZRS"] = "Standard_GRS"
    """Replication of the state account."""
    soft_delete_days: Annotated[int, Strict(), Field(ge=1, le=365)] = 30
    """Days a deleted blob or container of the state stays recoverable."""


class SecretsConfig(Model):
    vault_name: VaultName
    """Key Vault holding the stacks' secrets-provider keys (globally unique)."""
    soft_delete_retention_days: Annotated[int, Strict(), Field(ge=7, le=90)] = 90
    """Soft delete retention of the vault (purge protection is always on)."""
    key_size: Literal[2048, 3072, 4096] = 4096
    """RSA key size of every secrets-provider key."""


class ZoneConfig(Model):
    zone_name: DnsName
    """The public zone (broxiva.com)."""
    resource_group: GroupName
    """Resource group of the zone (broxiva-dns-rg)."""
    adopt_zone_id: ZoneId | None = None
    """Resource ID of the zone if it already exists (created by an older prod stack): the zone and its
    resource group are imported, not created."""

    @model_validator(mode="after")
    def _adopted(self) -> ZoneConfig:
        if self.adopt_zone_id:
            found = v.parse_arm_id(self.adopt_zone_id)
            assert found is not None  # checked by ZoneId
            if found.name.lower() != self.zone_name:
                raise FieldError("adoptZoneId", self.adopt_zone_id, f"must name the zone zoneName ({self.zone_name})")
            if found.group.lower() != self.resource_group.lower():
                raise FieldError(
                    "adoptZoneId", self.adopt_zone_id, f"must lie in resourceGroup ({self.resource_group})"
                )
        return self


class CiConfig(Model):
    github_owner: GitHubName
    """GitHub organisation or user owning the repository."""
    github_repository: GitHubName
    """Repository whose workflows deploy the stacks."""
    stacks: Annotated[tuple[StackName, ...], Field(min_length=1)]
    """Environment stacks: each gets a deploy identity federated to the GitHub environment of the same name
    (repo:<owner>/<repo>:environment:<stack>) and its own secrets-provider key."""
    production_stacks: tuple[StackName, ...] = ("prod",)
    """Stacks whose secrets only their own deploy identity may decrypt (never the preview identity)."""
    preview_environment: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,255}$")] = "preview"
    """GitHub environment of the pull-request previews (the preview identity's federated subject)."""
    preview_stacks: tuple[StackName, ...] = ()
    """Stacks the preview identity may preview (decrypt): none of productionStacks."""

    @model_validator(mode="after")
    def _stacks(self) -> CiConfig:
        if len(set(self.stacks)) != len(self.stacks):
            raise FieldError("stacks", list(self.stacks), "must not repeat a stack")
        if self.preview_environment in self.stacks:
            raise FieldError(
                "previewEnvironment", self.preview_environment, "must differ from every deploy stack's environment"
            )
        for key, listed in (("productionStacks", self.production_stacks), ("previewStacks", self.preview_stacks)):
            unknown = [s for s in listed if s not in self.stacks]
            if unknown:
                raise FieldError(key, unknown[0], f"must be one of stacks ({', '.join(self.stacks)})")
        leaked = [s for s in self.preview_stacks if s in self.production_stacks]
        if leaked:
            raise FieldError(
                "previewStacks",
                leaked[0],
                "must not be a production stack: the preview identity would decrypt its secrets",
            )
        return self


class BootstrapConfig(Model):
    """Everything the bootstrap stack knows."""

    location: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]+$")]
    """Azure region of the state account and the vault."""
    resource_group: GroupName
    """Resource group of the state account, the vault and the CI identities (broxiva-bootstrap-rg)."""
    tags: Mapping[Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9-]{0,63}$")], Annotated[str, Field(min_length=1)]]
    """Extra tags on every resource; costCenter and owner are required."""
    state: StateConfig
    """The Pulumi state store."""
    secrets: SecretsConfig
    """The secrets-provider keys."""
    dns: ZoneConfig
    """The public zone."""
    ci: CiConfig
    """The CI identities."""
    deployer: DeployerConfig = DeployerConfig()
    """The person running the bootstrap (unset: whoever runs pulumi): granted the state container and the
    bootstrap stack's own key, so that the bootstrap runs against its own backend."""

    @model_validator(mode="after")
    def _tags(self) -> BootstrapConfig:
        for key in ("costCenter", "owner"):
            if key not in self.tags:
                raise FieldError(f"tags.{key}", MISSING, "is required (every Azure resource carries it)")
        return self


STRING_KEYS = frozenset({"location", "resourceGroup"})
TOP_LEVEL_KEYS = frozenset(BootstrapConfig.model_fields[f].alias or f for f in BootstrapConfig.model_fields)


def parse(raw: Mapping[str, Any], stack: str | None = None) -> BootstrapConfig:
    """Validate decoded values into a BootstrapConfig, or raise one ConfigError."""
    unknown = sorted(set(raw) - TOP_LEVEL_KEYS)
    if unknown:
        raise ConfigError(
            unknown[0], raw[unknown[0]], f"is not a known key (known: {', '.join(sorted(TOP_LEVEL_KEYS))})", stack
        )
    try:
        return BootstrapConfig.model_validate(dict(raw))
    except ValidationError as exc:
        raise loading.first_error(exc, raw, stack, BootstrapConfig, ConfigError) from None


def load(stack: str | None = None) -> BootstrapConfig:
    """Read and validate the bootstrap stack's configuration (the program's first step)."""
    stack = stack or pulumi.get_stack()
    prefix = PROJECT + ":"
    raw: dict[str, Any] = {}
    keys = {k for k in pulumi.runtime.get_config_env() if k.startswith(prefix)} | {prefix + k for k in TOP_LEVEL_KEYS}
    for full in sorted(keys):
        value = pulumi.runtime.get_config(full)
        if value is None:
            continue
        key = full[len(prefix) :]
        if key in STRING_KEYS or not isinstance(value, str):
            raw[key] = value
            continue
        try:
            raw[key] = json.loads(value)
        except json.JSONDecodeError:
            raise ConfigError(
                key, value, "must be a YAML value of the documented shape (see Pulumi.yaml)", stack
            ) from None
    return parse(raw, stack)
