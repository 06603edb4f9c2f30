"""Write docs/configuration.md from the typed config models (every key, its type, default and meaning).

python -m tools.config_docs          # rewrite the file
python -m tools.config_docs --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import collections.abc
import sys
import types
import typing
from pathlib import Path

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from components import config
from components.config import loading

OUT = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def _type_name(annotation: typing.Any) -> str:
    """A short, stable description of a field type (no reprs with addresses)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is typing.Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in args if a is not type(None)]
        return " or ".join(names) + (" or null" if type(None) in args else "")
    if origin in (tuple,):
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin in (collections.abc.Mapping, dict):
        return f"map of {_type_name(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "object"
    return getattr(annotation, "__name__", str(annotation))


def _models(model: type[BaseModel], prefix: str, seen: list[tuple[str, type[BaseModel]]]) -> None:
    seen.append((prefix, model))
    for name, field in model.model_fields.items():
        key = field.alias or name
        nested = loading.model_of(field.annotation)
        if nested is not None:
            child = f"{prefix}.{key}" if prefix else key
            if typing.get_origin(field.annotation) in (collections.abc.Mapping, dict):
                child += ".<name>"
            elif typing.get_origin(field.annotation) is tuple:
                child += "[]"
            _models(nested, child, seen)


def render() -> str:
    lines = [
        "# Stack configuration",
        "",
        "Every key of `Pulumi.<stack>.yaml`, generated from `components/config/schema.py` (`python -m tools.config_docs`).",
        "Keys are camelCase under the `broxiva-platform:` namespace; unknown keys are refused. Operator-provided",
        "secrets go under `providedSecrets` with `pulumi config set --secret --path providedSecrets.<name> <value>`:",
        "",
        ", ".join(f"`{s.key}`" for s in config.PROVIDED_SECRETS) + ".",
        "",
    ]
    seen: list[tuple[str, type[BaseModel]]] = []
    _models(config.StackConfig, "", seen)
    for prefix, model in seen:
        lines += [f"## `{prefix or 'broxiva-platform'}`", "", "| key | type | default | meaning |", "|---|---|---|---|"]
        for name, field in model.model_fields.items():
            default = "required" if field.default is PydanticUndefined else f"`{field.default!r}`"
            if isinstance(field.default, BaseModel):
                default = "`{}`"
            doc = (field.description or "").replace("\n", " ").replace("|", "\\|")
            kind = _type_name(field.annotation).replace("|", "\\|")
            lines.append(f"| `{field.alias or name}` | {kind} | {default} | {doc} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not OUT.exists() or OUT.read_text() != text:
            print(f"{OUT} is out of date: run python -m tools.config_docs", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
