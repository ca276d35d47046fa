"""Bot Framework schema models to their JSON form, as msrest makes it but without its overhead.

Upstream (`Model.serialize`, msrest 0.7.1) first collects every model class of the module into
a new `Serializer`, then dispatches each value through several layers of type lookups; an
activity carrying an Adaptive Card costs about 1 ms of CPU, most of it walking the card's plain
JSON one value at a time. Here each class's attribute map is turned once into a plan, plain JSON
is copied as it is, and anything unusual (dates, bytes, unknown types) still goes to msrest, so
the output is the same dict (tests compare both on every model the bot sends).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any

from msrest.serialization import Model, Serializer

_MSREST = Serializer()
_BASIC: dict[str, Callable[[Any], Any]] = {"int": int, "bool": bool, "float": float}
_Plan = tuple[tuple[str, str, Callable[[Any], Any]], ...]
_PLANS: dict[type[Model], _Plan] = {}


def serialize_model(model: Model) -> dict[str, Any]:
    """`model.serialize()` for a botbuilder schema model."""
    serialized: dict[str, Any] = {}
    plan = _PLANS.get(type(model)) or _plan(type(model))
    for attribute, key, convert in plan:
        value = getattr(model, attribute, None)
        if value is not None:
            serialized[key] = convert(value)
    return serialized


def _plan(model_class: type[Model]) -> _Plan:
    """Per attribute: its name, its JSON key, and how to convert a value that is not None."""
    plan = tuple(
        (attribute, description["key"], _converter(description["type"]))
        for attribute, description in model_class._attribute_map.items()
    )
    _PLANS[model_class] = plan
    return plan


def _converter(data_type: Any) -> Callable[[Any], Any]:
    if data_type == "str":
        return _string
    if data_type == "object":
        return _plain
    if data_type in _BASIC:
        return _BASIC[data_type]
    if isinstance(data_type, str) and data_type.startswith("[") and data_type.endswith("]"):
        item = _converter(data_type[1:-1])
        return lambda values: _sequence(values, item)
    if isinstance(data_type, str) and data_type.startswith("{") and data_type.endswith("}"):
        item = _converter(data_type[1:-1])
        return lambda values: _mapping(values, item)
    return lambda value: _other(value, data_type)


def _string(value: Any) -> Any:
    return value if type(value) is str else Serializer.serialize_unicode(value)


def _plain(value: Any) -> Any:
    """msrest's `serialize_object`: JSON values as they are, models serialised, the rest str()."""
    kind = type(value)
    if value is None or kind is str or kind is int or kind is bool or kind is float:
        return value
    if kind is dict:
        return {
            (key if type(key) is str else Serializer.serialize_unicode(key)): _plain(item)
            for key, item in value.items()
        }
    if kind is list:
        return [_plain(item) for item in value]
    if isinstance(value, Model):
        return serialize_model(value)
    return _MSREST.serialize_object(value)


def _sequence(values: Any, item: Callable[[Any], Any]) -> list[Any]:
    if isinstance(values, str):
        return list(_MSREST.serialize_iter(values, "str"))  # msrest refuses it; so do we
    return [None if value is None else item(value) for value in values]


def _mapping(values: dict[Any, Any], item: Callable[[Any], Any]) -> dict[str, Any]:
    return {
        Serializer.serialize_unicode(key): None if value is None else item(value)
        for key, value in values.items()
    }


def _other(value: Any, data_type: Any) -> Any:
    if isinstance(value, Model):
        return serialize_model(value)
    if isinstance(value, Enum):
        return value.value
    return _MSREST.serialize_data(value, data_type)
