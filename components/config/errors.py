"""The one error bad stack configuration raises, and how values are shown in it."""

from __future__ import annotations

import json
from typing import Any

import pulumi

from ..names import PROJECT


class ConfigError(pulumi.RunError):
    """Bad stack configuration: printed by the CLI as a single message, no traceback."""

    def __init__(self, key: str, value: Any, allowed: str, stack: str | None = None):
        self.key = key
        self.value = value
        self.allowed = allowed
        where = f" of stack '{stack}'" if stack else ""
        message = f"Invalid configuration{where}: {PROJECT}:{one_line(key)} = {show(value)}: {one_line(allowed)}."
        super().__init__(message)


def one_line(text: str) -> str:
    return text.encode("unicode_escape").decode("ascii") if any(c in text for c in "\r\n") else text


def show(value: Any) -> str:
    if value is MISSING:
        return "(not set)"
    if isinstance(value, str):
        text = repr(value)
    else:
        try:
            text = json.dumps(value, sort_keys=True, default=str)
        except (TypeError, ValueError):
            text = repr(value)
    text = one_line(text)
    # Both ends stay: the end of a long value (a resource ID's type and name) is often what is wrong.
    return text if len(text) <= 120 else text[:57] + "..." + text[-60:]


MISSING: Any = object()
"""Stands for a key that is not set at all."""


class FieldError(ValueError):
    """Raised inside model validators to name the offending field relative to the model."""

    def __init__(self, field: str, value: Any, allowed: str):
        super().__init__(allowed)
        self.field = field
        self.value = value
        self.allowed = allowed
