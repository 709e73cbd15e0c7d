"""Turns event dataclasses into JSON-safe dicts and back, exactly (no floats anywhere)."""

from __future__ import annotations

import types
from collections.abc import Callable
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
    if value is None or isinstance(value, bool | str | int):  # int: ledger positions
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


Decoder = Callable[[Any], Any]


def decode_fields(cls: type[T], data: Any) -> T:
    """Rebuild a dataclass from encoded data; missing fields take their defaults."""
    klass: type = cls
    result: T = _decoder(klass)(data)
    return result


@cache
def _decoder(cls: type) -> Decoder:
    """A decoder for ``cls``, compiled once from its type hints (this runs per event)."""
    hints = get_type_hints(cls)
    names = frozenset(hints)
    specs = [
        (
            f.name,
            _compile(hints[f.name], f"{cls.__name__}.{f.name}"),
            f.default is MISSING and f.default_factory is MISSING,
        )
        for f in fields(cls)
    ]

    def decode(data: Any) -> Any:
        if type(data) is not dict:
            raise DecodeError(f"{cls.__name__} data must be an object, not {type(data).__name__}.")
        if not data.keys() <= names:
            unknown = ", ".join(sorted(set(data) - names))
            raise DecodeError(f"{cls.__name__} has no field(s) {unknown}.")
        kwargs: dict[str, Any] = {}
        for name, decode_value, required in specs:
            if name in data:
                kwargs[name] = decode_value(data[name])
            elif required:
                raise DecodeError(f"{cls.__name__} data lacks the field {name}.")
        return cls(**kwargs)

    return decode


def _compile(hint: Any, where: str) -> Decoder:
    origin = get_origin(hint)
    if origin is Union or origin is types.UnionType:
        (inner_hint,) = [arg for arg in get_args(hint) if arg is not type(None)]
        inner = _compile(inner_hint, where)
        return lambda raw: None if raw is None else inner(raw)
    if origin is Literal:
        allowed = get_args(hint)

        def literal(raw: Any) -> Any:
            if raw not in allowed:
                raise DecodeError(f"{where}: {raw!r} is not one of {allowed}.")
            return raw

        return literal
    if origin is tuple:
        item = _compile(get_args(hint)[0], where)
        return lambda raw: tuple(item(value) for value in _expect(raw, list, where))
    return _compile_plain(hint, where)


def _compile_plain(hint: Any, where: str) -> Decoder:
    if hint is str or hint is bool or hint is int:  # int: ledger positions (sealed periods)
        return lambda raw: _expect(raw, hint, where)
    if hint is Decimal:
        return lambda raw: _decimal(raw, where)
    if hint is date:
        return lambda raw: date.fromisoformat(_expect(raw, str, where))
    if hint is Money:

        def money(raw: Any) -> Money:
            value = _expect(raw, dict, where)
            amount, currency = value.get("amount"), _expect(value.get("currency"), str, where)
            if type(amount) is str:
                try:
                    return Money.from_stored(amount, currency)
                except (ValueError, ArithmeticError):
                    pass  # not a decimal string: the general path below says so
            return Money(_decimal(amount, where), currency)

        return money
    if hint is Percent:
        return lambda raw: Percent(_decimal(raw, where))
    if isinstance(hint, type) and is_dataclass(hint):
        return lambda raw: _decoder(hint)(raw)
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
