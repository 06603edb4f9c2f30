"""The secrets the program generates: random values rotated together by the rotation stamp."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_random as random

from ..config import secrets as catalog


@dataclass(frozen=True)
class GeneratedSecretsArgs:
    secrets: tuple[catalog.StackSecret, ...]
    """The stack's secrets (``config.secrets.stack_secrets``); the generated ones are made here."""
    rotation: str
    """Rotation stamp: a new value regenerates every value."""
    moved_from: pulumi.Input[str] | None = None
    """URN of the component these values were first created under, so that moving them here regenerates
    nothing (an alias: the engine takes the old resource for the new one)."""


class GeneratedSecrets(pulumi.ComponentResource):
    """One RandomPassword per generated secret. Made before the vault and the database server, which both
    take the same value (the PostgreSQL administrator password is the vault's postgres-password)."""

    values: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: GeneratedSecretsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("broxiva:azure:GeneratedSecrets", name, None, opts)
        aliases = [pulumi.Alias(parent=args.moved_from)] if args.moved_from is not None else None
        self.values = {}
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
                opts=pulumi.ResourceOptions(parent=self, aliases=aliases),
            )
            self.values[held.name] = pulumi.Output.secret(password.result)
        self.register_outputs({"values": self.values})
