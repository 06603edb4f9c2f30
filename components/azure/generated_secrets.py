"""The secrets the program generates: random values rotated together by the rotation stamp, and the
encryption keys, made once per version."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_random as random

from ..config import SecretsConfig
from ..config import secrets as catalog


@dataclass(frozen=True)
class GeneratedSecretsArgs:
    secrets: tuple[catalog.StackSecret, ...]
    """The stack's secrets (``config.secrets.stack_secrets``); the generated ones are made here."""
    settings: SecretsConfig
    """Rotation stamp (a new one regenerates every value but the encryption keys) and the keys' versions."""
    moved_from: pulumi.Input[str] | None = None
    """URN of the component these values were first created under, so that moving them here regenerates
    nothing (an alias: the engine takes the old resource for the new one)."""


class GeneratedSecrets(pulumi.ComponentResource):
    """One RandomPassword per generated secret. Made before the vault and the database server, which both
    take the same value (the PostgreSQL administrator password is the vault's postgres-password).

    An encryption key has one RandomPassword per listed version (``<key>-<version>``), whose keeper is that
    version: a value is made once and kept while its version is listed, so rotating a key never touches the
    data encrypted with the previous one."""

    values: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: GeneratedSecretsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:azure:GeneratedSecrets", name, None, opts)
        moved = [pulumi.Alias(parent=args.moved_from)] if args.moved_from is not None else []
        self.values = {}
        for held in catalog.generated(args.secrets):
            spec = held.spec
            logical, stamp, aliases = f"{name}-{held.name}", args.settings.rotation, moved
            if spec.versioned:
                key, stamp = catalog.key_version(held, args.settings)
                logical = f"{name}-{key}-{stamp}"
                versions = args.settings.encryption_keys[key]
                # Before versions, the key was made under the rotation stamp with the name <key>: its oldest listed
                # version (the stamp it was made under) takes that resource over, value and all.
                if stamp == (versions.previous or versions.current):
                    aliases = [pulumi.Alias(name=f"{name}-{key}")] + (
                        [pulumi.Alias(name=f"{name}-{key}", parent=args.moved_from)] if args.moved_from else []
                    )
                else:
                    aliases = []
            password = random.RandomPassword(
                logical,
                length=spec.length,
                special=spec.special,
                override_special=catalog.URL_SAFE_SPECIAL if spec.special else None,
                min_lower=4,
                min_upper=4,
                min_numeric=4,
                # Changing secrets.rotation replaces every generated value but the keys: the 90-day rotation.
                keepers={"rotation": stamp},
                opts=pulumi.ResourceOptions(parent=self, aliases=aliases or None),
            )
            self.values[held.name] = pulumi.Output.secret(password.result)
        self.register_outputs({"values": self.values})
