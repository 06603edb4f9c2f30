"""The shape of a provider's answer: which properties a resource has as outputs, and which are unknown.

The output properties of a type are the ones its SDK class declares (``@property @pulumi.getter(name=...)``
on the resource class; the SDK resolves the engine's outputs through the same table). Inputs that are not
declared outputs never come back: azure-native's path parameters (``resourceGroupName``, ``vaultName``,
``secretName``, ``resourceName``...) are inputs only, while ``name``, ``id`` and ``type`` are outputs.

- :func:`created_outputs`: a create, as the provider answers it after the fact: declared outputs only,
  from the inputs where names match and from the provider's computed values.
- :func:`preview_outputs`: a create during a preview. azure-native answers ``PreviewOutputs(inputs,
  response)`` (pulumi-azure-native ``provider/pkg/convert/previewOutputs.go``, called from ``Create`` in
  ``provider/pkg/provider/provider.go`` when ``req.GetPreview()``): each response property copied from the
  input of the same name where the value fits the property's type, objects mapped property by property,
  everything else unknown. pulumi-random (a bridged provider) answers the same way: inputs known,
  computed results unknown.
- Kubernetes objects whose provider's kubeconfig is unknown (a new stack) get *no* outputs
  (pulumi-kubernetes ``provider/pkg/provider/provider.go`` Create, the ``!pcfg.known`` path).
"""

from __future__ import annotations

import collections.abc
import typing
from typing import Any

from tools.pulumi_sdk import SECRET_SIG, SECRET_SIG_KEY, UNKNOWN, declared_outputs, output_type_fields, resource_class
from tools.pulumi_sdk import unwrap_type as _unwrap

AZURE_NATIVE = "azure-native:"
# azure-native's outputs carry the ARM ``id``; the SDK keeps it off the class (it is every resource's id).
_ALWAYS = {AZURE_NATIVE: frozenset({"id"})}


def output_names(token: str) -> frozenset[str] | None:
    """The output properties of a resource type; None when no SDK class declares the type (custom resources
    of CRDs, providers, engine types), whose outputs are what the server or engine answers."""
    cls = resource_class(token)
    if cls is None:
        return None
    extra = next((names for prefix, names in _ALWAYS.items() if token.startswith(prefix)), frozenset())
    return frozenset(declared_outputs(cls)) | extra


def created_outputs(token: str, inputs: dict[str, Any], computed: dict[str, Any]) -> dict[str, Any]:
    """A created resource's outputs: declared outputs, from inputs of the same name and computed values."""
    names = output_names(token)
    if names is None:
        return {**inputs, **computed}
    state = {k: v for k, v in inputs.items() if k in names}
    state.update({k: v for k, v in computed.items() if k in names})
    return state


def preview_outputs(token: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """The outputs a provider's create preview answers: inputs mapped to the output shape, the rest unknown."""
    cls = resource_class(token)
    if cls is None:
        return dict(inputs)
    types = declared_outputs(cls)
    for name in output_names(token) or ():
        types.setdefault(name, str)
    return {name: _preview_value(inputs.get(name, UNKNOWN), hint) for name, hint in types.items()}


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _preview_value(value: Any, hint: Any) -> Any:
    """``previewOutputValue``: the input where it fits the output property's type, else unknown."""
    if isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG:
        inner = _preview_value(value.get("value"), hint)
        return inner if inner == UNKNOWN else {**value, "value": inner}
    if typing.get_origin(hint) is typing.Literal:  # a const (apiVersion, kind): answered as is
        return typing.get_args(hint)[0]
    if isinstance(value, str) and value == UNKNOWN:
        return UNKNOWN
    hint = _unwrap(hint)
    origin = typing.get_origin(hint)
    if hint in (str, int, float, bool):
        return value if _is_scalar(value) else UNKNOWN
    if hint is Any or hint is object:
        return value
    fields = output_type_fields(hint)
    if fields is not None:
        if not isinstance(value, dict):
            return UNKNOWN
        return {name: _preview_value(value.get(name, UNKNOWN), sub) for name, sub in fields.items()}
    args = typing.get_args(hint)
    if origin in (list, collections.abc.Sequence) and isinstance(value, list):
        return [_preview_value(item, args[0] if args else Any) for item in value]
    if origin in (dict, collections.abc.Mapping) and isinstance(value, dict):
        return {key: _preview_value(item, args[1] if len(args) == 2 else Any) for key, item in value.items()}
    if origin is typing.Union:
        return value  # a oneOf: "assuming the input is same as output"
    if hint in (dict, list):
        return value
    return value if _is_scalar(value) and hint is None else UNKNOWN


def contains_unknown(value: Any) -> bool:
    if isinstance(value, str):
        return value == UNKNOWN
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(contains_unknown(v) for v in value)
    return False
