"""Turns event dataclasses into JSON-safe dicts and back, exactly (no floats anywhere)."""

from __future__ import annotations

import types
from dataclasses import MISSING, fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from consortium.domain.money import Money, Percent

T = TypeVar("T")


class DecodeError(ValueError):
    """Stored event data does not match its event class (a ledger or upcasting bug)."""


def encode_value(value: object) -> Any:
    """Encode one field value: Decimals as plain strings, dates as ISO strings."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, Money):
        return {"amount": format(value.amount, "f"), "currency": value.currency}
    if isinstance(value, Percent):
        return format(value.value, "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return [encode_value(item) for item in value]
    if is_dataclass(value) and not isinstance(value, type):
        return encode_fields(value)
    raise TypeError(f"Cannot encode {type(value).__name__} in an event.")


def encode_fields(obj: object) -> dict[str, Any]:
    """Encode every field of a dataclass instance, by field name."""
    if not is_dataclass(obj) or isinstance(obj, type):
        raise TypeError(f"{type(obj).__name__} is not a dataclass instance.")
    return {f.name: encode_value(getattr(obj, f.name)) for f in fields(obj)}


@cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def decode_fields(cls: type[T], data: Any) -> T:
    """Rebuild a dataclass from encoded data; missing fields take their defaults."""
    if not isinstance(data, dict):
        raise DecodeError(f"{cls.__name__} data must be an object, not {type(data).__name__}.")
    klass: Any = cls
    hints = _hints(klass)
    unknown = set(data) - set(hints)
    if unknown:
        raise DecodeError(f"{cls.__name__} has no field(s) {', '.join(sorted(unknown))}.")
    kwargs: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name in data:
            kwargs[f.name] = _decode(hints[f.name], data[f.name], f"{cls.__name__}.{f.name}")
        elif f.default is MISSING and f.default_factory is MISSING:
            raise DecodeError(f"{cls.__name__} data lacks the field {f.name}.")
    return cls(**kwargs)


def _decode(hint: Any, raw: Any, where: str) -> Any:
    origin = get_origin(hint)
    if origin is Union or origin is types.UnionType:
        return _decode_optional(hint, raw, where)
    if origin is Literal:
        if raw not in get_args(hint):
            raise DecodeError(f"{where}: {raw!r} is not one of {get_args(hint)}.")
        return raw
    if origin is tuple:
        return tuple(_decode(get_args(hint)[0], item, where) for item in _expect(raw, list, where))
    return _decode_plain(hint, raw, where)


def _decode_optional(hint: Any, raw: Any, where: str) -> Any:
    if raw is None:
        return None
    (inner,) = [arg for arg in get_args(hint) if arg is not type(None)]
    return _decode(inner, raw, where)


def _decode_plain(hint: Any, raw: Any, where: str) -> Any:
    if hint is str or hint is bool:
        return _expect(raw, hint, where)
    if hint is Decimal:
        return _decimal(raw, where)
    if hint is date:
        return date.fromisoformat(_expect(raw, str, where))
    if hint is Money:
        money = _expect(raw, dict, where)
        return Money(
            _decimal(money.get("amount"), where), _expect(money.get("currency"), str, where)
        )
    if hint is Percent:
        return Percent(_decimal(raw, where))
    if isinstance(hint, type) and is_dataclass(hint):
        return decode_fields(hint, raw)
    raise DecodeError(f"{where}: no decoder for {hint!r}.")


def _expect(raw: Any, kind: type[T], where: str) -> T:
    if not isinstance(raw, kind) or (kind is not bool and isinstance(raw, bool)):
        raise DecodeError(f"{where}: expected {kind.__name__}, got {type(raw).__name__}.")
    return raw


def _decimal(raw: Any, where: str) -> Decimal:
    try:
        number = Decimal(_expect(raw, str, where))
    except InvalidOperation:
        raise DecodeError(f"{where}: {raw!r} is not a decimal string.") from None
    if not number.is_finite():
        raise DecodeError(f"{where}: {raw!r} is not finite.")
    return number
