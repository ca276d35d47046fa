"""Bot Framework schema models to and from their JSON form, as msrest does it but without its
overhead.

Upstream (`Model.serialize` and `Model.deserialize`, msrest 0.7.1) first collects every model
class of the module into a new `Serializer` or `Deserializer`, then dispatches each value
through several layers of type lookups: an activity carrying an Adaptive Card costs about 1 ms
of CPU to send, and every incoming activity about 0.3 ms to read, most of it walking plain JSON
one value at a time. Here each class's attribute map is turned once into a plan, plain JSON is
copied as it is, and anything unusual (dates, bytes, unknown types, a value of the wrong kind)
still goes to msrest, so the result is the same (tests compare both ways with msrest).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any

import botbuilder.schema
from botbuilder.schema import Activity
from msrest.serialization import Deserializer, Model, Serializer

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


class _Unusual(Exception):
    """A value the reading plan does not cover: msrest reads the whole activity instead."""


_Reader = Callable[[Any], Any]
_ReadPlan = tuple[tuple[tuple[str, str, _Reader], ...], frozenset[str]]
_READ_PLANS: dict[type[Model], _ReadPlan] = {}
# What msrest resolves type names against for these models: every class of the package.
_SCHEMA_TYPES = {
    name: value for name, value in vars(botbuilder.schema).items() if isinstance(value, type)
}


def deserialize_activity(body: dict[str, Any]) -> Activity:
    """`Activity().deserialize(body)` for a JSON-decoded body; its errors are msrest's too."""
    try:
        activity = _read_model(Activity, body)
    except Exception:
        # Anything the plan does not cover, malformed input included: msrest decides, so a
        # malformed body fails exactly as it did upstream.
        return Activity().deserialize(body)
    assert isinstance(activity, Activity)
    return activity


def _read_model(model_class: type[Model], data: Any) -> Model:
    if type(data) is not dict:
        raise _Unusual(model_class.__name__)
    entries, known = _READ_PLANS.get(model_class) or _read_plan(model_class)
    values = {}
    for attribute, key, read in entries:
        value = data.get(key)
        values[attribute] = None if value is None else read(value)
    model = model_class(**values)
    unknown = data.keys() - known
    if unknown:
        # msrest keeps keys its map does not name (a mention's text, say) as they came.
        model.additional_properties = {key: data[key] for key in unknown}
    return model


def _read_plan(model_class: type[Model]) -> _ReadPlan:
    validation = getattr(model_class, "_validation", {}) or {}
    special = getattr(model_class, "_subtype_map", None) or any(
        rule.get("readonly") or rule.get("constant") for rule in validation.values()
    )
    attribute_map = model_class._attribute_map
    if special or "additional_properties" in attribute_map:
        raise _Unusual(model_class.__name__)
    entries = []
    for attribute, description in attribute_map.items():
        if "." in description["key"]:
            raise _Unusual(model_class.__name__)  # flattened keys: msrest's business
        entries.append((attribute, description["key"], _reader(description["type"])))
    plan = (tuple(entries), frozenset(key for _, key, _ in entries))
    _READ_PLANS[model_class] = plan
    return plan


def _reader(data_type: str) -> _Reader:
    if data_type == "str":
        return _exactly(str)
    if data_type == "bool":
        return _exactly(bool)
    if data_type == "int":
        return _exactly(int)
    if data_type == "float":
        return _float
    if data_type == "object":
        return _json_copy
    if data_type == "iso-8601":
        return _iso
    if data_type.startswith("[") and data_type.endswith("]"):
        item = _reader(data_type[1:-1])
        return lambda values: _read_list(values, item)
    if data_type.startswith("{") and data_type.endswith("}"):
        item = _reader(data_type[1:-1])
        return lambda values: _read_dict(values, item)
    model_class = _SCHEMA_TYPES.get(data_type)
    if isinstance(model_class, type) and issubclass(model_class, Model):
        return lambda value: _read_model(model_class, value)
    return _unusual


def _exactly(kind: type) -> _Reader:
    def read(value: Any) -> Any:
        if type(value) is not kind:
            raise _Unusual(kind.__name__)
        return value

    return read


def _float(value: Any) -> float:
    if type(value) is not float and type(value) is not int:
        raise _Unusual("float")
    return float(value)


def _json_copy(value: Any) -> Any:
    """msrest's `deserialize_object` on JSON: the same values, in new dicts and lists."""
    kind = type(value)
    if kind is dict:
        return {key: _json_copy(item) for key, item in value.items()}
    if kind is list:
        return [_json_copy(item) for item in value]
    if value is None or kind is str or kind is int or kind is bool or kind is float:
        return value
    raise _Unusual(kind.__name__)


def _iso(value: Any) -> Any:
    if type(value) is not str:
        raise _Unusual("iso-8601")
    return Deserializer.deserialize_iso(value)


def _read_list(values: Any, item: _Reader) -> list[Any]:
    if type(values) is not list:
        raise _Unusual("list")
    return [None if value is None else item(value) for value in values]


def _read_dict(values: Any, item: _Reader) -> dict[str, Any]:
    if type(values) is not dict:
        raise _Unusual("dict")
    return {key: None if value is None else item(value) for key, value in values.items()}


def _unusual(value: Any) -> Any:
    raise _Unusual(type(value).__name__)
