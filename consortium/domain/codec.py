"""Turns event dataclasses into JSON-safe dicts and back, exactly (no floats anywhere).

Decoding runs once per event folded, so it is compiled per class. The general decoder
(``_decoder``) is built from the type hints as a list of per-field functions; it checks
everything and says what is wrong. By default each class also gets a *direct* decoder:
the same checks written out as one straight-line function (generated source, like
``dataclasses`` generates ``__init__``), with no call per field. Any doubt in it (a
type that is not exactly the expected one, a missing key, a value the constructors
refuse) hands the whole object to the general decoder, which then answers exactly as it
would have alone: the direct decoder only ever returns what the general one returns.
``use_direct_decoders(False)`` turns it off (``direct-decoders`` in ``ledger.speed``).
"""

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


Decoder = Callable[[Any], Any]


_DIRECT = [True]


def use_direct_decoders(on: bool) -> None:
    """Decode through the straight-line decoders (the default), or only the general ones."""
    _DIRECT[0] = on


def decode_fields(cls: type[T], data: Any) -> T:
    """Rebuild a dataclass from encoded data; missing fields take their defaults."""
    klass: type = cls
    result: T = (_direct(klass) if _DIRECT[0] else _decoder(klass))(data)
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
    if hint is str or hint is bool:
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


# --- direct decoders ----------------------------------------------------------------------


class _Unsure(Exception):
    """The direct decoder leaves this object to the general one."""


@cache
def _direct(cls: type) -> Decoder:
    """``cls``'s direct decoder: its strict function, the general decoder on any doubt."""
    strict, general = _strict(cls), _decoder(cls)

    def decode(data: Any) -> Any:
        try:
            return strict(data)
        except Exception:  # the general decoder decides, and explains any fault
            return general(data)

    return decode


@cache
def _strict(cls: type) -> Decoder:
    """One generated function that decodes ``cls`` or raises (anything) when unsure.

    The source is built from the class's field names (identifiers) and fixed templates;
    every value it needs (the class, the allowed literals, nested decoders) is passed in
    as a name of its namespace, never written into the text.
    """
    hints = get_type_hints(cls)
    namespace: dict[str, Any] = {
        "_cls": cls,
        "_names": frozenset(hints),
        "_Unsure": _Unsure,
        "_Decimal": Decimal,
        "_fromiso": date.fromisoformat,
        "_money": Money.from_stored,
        "_Percent": Percent,
    }
    lines = [
        "def strict(data):",
        "    if type(data) is not dict or not data.keys() <= _names:",
        "        raise _Unsure",
    ]
    arguments: list[str] = []
    optional = False
    for number, f in enumerate(fields(cls)):
        body = _field_code(hints[f.name], f"_{number}", f"{cls.__name__}.{f.name}", namespace)
        if f.default is MISSING and f.default_factory is MISSING:
            lines += [f"    value = data[{f.name!r}]", *[f"    {line}" for line in body]]
            lines.append(f"    field{number} = value")
            arguments.append(f"{f.name}=field{number}")
        else:  # absent: the dataclass's default
            if not optional:
                lines.append("    kwargs = {}")
                optional = True
            lines += [f"    if {f.name!r} in data:", f"        value = data[{f.name!r}]"]
            lines += [f"        {line}" for line in body]
            lines.append(f"        kwargs[{f.name!r}] = value")
    if optional:
        arguments.append("**kwargs")
    lines.append(f"    return _cls({', '.join(arguments)})")
    exec("\n".join(lines), namespace)  # noqa: S102  (the source: see the docstring)
    strict: Decoder = namespace["strict"]
    return strict


def _field_code(hint: Any, key: str, where: str, namespace: dict[str, Any]) -> list[str]:
    """Statements that turn ``value`` into the field's value in place, or raise."""
    origin = get_origin(hint)
    if origin is Union or origin is types.UnionType:
        (inner,) = [arg for arg in get_args(hint) if arg is not type(None)]
        return [
            "if value is not None:",
            *[f"    {line}" for line in _field_code(inner, key, where, namespace)],
        ]
    if origin is Literal:
        namespace[f"_allowed{key}"] = get_args(hint)
        return [f"if value not in _allowed{key}:", "    raise _Unsure"]
    if hint is str or hint is bool:
        return [f"if type(value) is not {hint.__name__}:", "    raise _Unsure"]
    if hint is Decimal:
        return [
            "if type(value) is not str:",
            "    raise _Unsure",
            "value = _Decimal(value)",
            "if not value.is_finite():",
            "    raise _Unsure",
        ]
    if hint is date:
        return ["if type(value) is not str:", "    raise _Unsure", "value = _fromiso(value)"]
    if hint is Money:
        return [
            "if type(value) is not dict:",
            "    raise _Unsure",
            "amount, currency = value.get('amount'), value.get('currency')",
            "if type(amount) is not str or type(currency) is not str:",
            "    raise _Unsure",
            "value = _money(amount, currency)",
        ]
    if hint is Percent:
        return [*_field_code(Decimal, key, where, namespace), "value = _Percent(value)"]
    if isinstance(hint, type) and is_dataclass(hint):
        namespace[f"_nested{key}"] = _strict(hint)
        return [f"value = _nested{key}(value)"]
    if origin is tuple and len(get_args(hint)) == 2 and get_args(hint)[1] is Ellipsis:
        item = get_args(hint)[0]
        if isinstance(item, type) and is_dataclass(item):
            namespace[f"_item{key}"] = _strict(item)
            return [
                "if type(value) is not list:",
                "    raise _Unsure",
                f"value = tuple([_item{key}(item) for item in value])",
            ]
    namespace[f"_general{key}"] = _compile(hint, where)  # anything else: its general decoder
    return [f"value = _general{key}(value)"]
