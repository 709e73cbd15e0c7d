"""The canonical encoding of events and the SHA-256 hash chain over it.

This is a published format: an auditor must be able to recompute every hash from the
event feed with their own code. README.md, "The hash chain", states it in words; change
it only with a new chain version, never in place. This module is its one definition: the
PostgreSQL append builds the same bytes in SQL (``ledger_canonical_event`` and
``ledger_chain_hash`` in ledger/sql/append_v2.sql), and tests/ledger/test_canonical_sql.py
proves the two agree over generated events.

- JSON, keys sorted, ASCII only (non-ASCII escaped as ``\\uXXXX``), separators ``,`` and
  ``:`` with no spaces.
- The object hashed has exactly the keys ``data``, ``effective_on``, ``metadata``,
  ``position``, ``recorded_at``, ``schema_version``, ``stream``, ``type``, ``version``.
- ``effective_on`` is ``YYYY-MM-DD`` or ``null``; ``recorded_at`` is UTC as
  ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (always six fractional digits).
- ``hash = sha256(prev_hash as 64 lowercase hex ASCII bytes + canonical bytes)``, in
  lowercase hex; the first event's ``prev_hash`` is 64 zeros.

Event data are made JSON-safe before they are stored (``normalise``): ``Decimal`` becomes
a plain string (never exponent form), dates and datetimes ISO strings; floats, NaN,
non-string keys, NUL characters and lone surrogates are refused, because they would not
round-trip exactly through the database.
"""

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

GENESIS_HASH = "0" * 64

JsonValue = None | bool | int | str | list["JsonValue"] | dict[str, "JsonValue"]


class NotCanonical(ValueError):
    """A value that cannot be stored in an event exactly as given."""


def normalise(value: Any, path: str = "data") -> JsonValue:
    """Return ``value`` as plain JSON types, or raise ``NotCanonical`` naming the field."""
    kind = type(value)  # exact types first: this runs for every value of every append
    if kind is str:
        _check_text(value, path)
        return value  # type: ignore[no-any-return]
    if kind is dict:
        return _normalise_mapping(value, path)
    if value is None or kind is int or kind is bool:
        return value  # type: ignore[no-any-return]
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise NotCanonical(f"{path} is {value}, which is not a finite number.")
        return format(value, "f")
    if isinstance(value, float):
        raise NotCanonical(
            f"{path} is a float ({value!r}); floats are inexact. Pass money and rates as "
            "Decimal or as a decimal string."
        )
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise NotCanonical(f"{path} is a naive datetime; give it a time zone.")
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool | int | str):  # subclasses (an IntEnum, a str subclass)
        return normalise(bool(value) if isinstance(value, bool) else _base(value), path)
    if isinstance(value, Mapping):
        return _normalise_mapping(value, path)
    if isinstance(value, list | tuple):
        return [normalise(item, f"{path}[{index}]") for index, item in enumerate(value)]
    raise NotCanonical(f"{path} is a {type(value).__name__}, which is not JSON data.")


def _base(value: int | str) -> int | str:
    return int(value) if isinstance(value, int) else str.__str__(value)


def _normalise_mapping(value: Mapping[Any, Any], path: str) -> dict[str, JsonValue]:
    result: dict[str, JsonValue] = {}
    for key, item in value.items():
        if type(key) is not str:
            raise NotCanonical(f"{path} has a key {key!r} that is not a string.")
        _check_text(key, f"{path} key")
        result[key] = normalise(item, f"{path}.{key}")
    return result


def _check_text(text: str, path: str) -> None:
    if "\x00" in text:
        raise NotCanonical(f"{path} contains a NUL character, which cannot be stored.")
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise NotCanonical(f"{path} contains a lone surrogate, which is not valid text.") from None


_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=True, separators=(",", ":"))


def dumps(value: JsonValue) -> str:
    """Canonical JSON text of an already-normalised value."""
    return _ENCODER.encode(value)


def format_recorded_at(moment: dt.datetime) -> str:
    """``recorded_at`` in the canonical form: UTC, microseconds, trailing ``Z``."""
    if moment.tzinfo is None:
        raise NotCanonical("recorded_at must be timezone-aware.")
    utc = moment.astimezone(dt.UTC)
    # The year always in four digits: strftime's %Y drops the leading zeros of years
    # before 1000 on some platforms, the published format never does.
    return f"{utc.year:04d}-" + utc.strftime("%m-%dT%H:%M:%S.%fZ")


def event_bytes(
    *,
    position: int,
    stream: str,
    version: int,
    type: str,
    schema_version: int,
    data: JsonValue,
    metadata: JsonValue,
    effective_on: dt.date | None,
    recorded_at: dt.datetime,
) -> bytes:
    """The canonical bytes of one stored event (what the chain hashes)."""
    return encoded_event_bytes(
        position=position,
        stream=stream,
        version=version,
        type=type,
        schema_version=schema_version,
        data_json=dumps(data),
        metadata_json=dumps(metadata),
        effective_on=effective_on,
        recorded_at_text=format_recorded_at(recorded_at),
    )


def encoded_event_bytes(
    *,
    position: int,
    stream: str,
    version: int,
    type: str,
    schema_version: int,
    data_json: str,
    metadata_json: str,
    effective_on: dt.date | None,
    recorded_at_text: str,
) -> bytes:
    """``event_bytes`` from already-canonical JSON parts (the append path encodes once).

    Equal to ``dumps`` of the whole document: its keys are written here in sorted order,
    and canonical JSON of a nested value does not depend on where it is nested.
    """
    effective = f'"{effective_on.isoformat()}"' if effective_on else "null"
    text = (
        f'{{"data":{data_json},"effective_on":{effective},"metadata":{metadata_json},'
        f'"position":{position},"recorded_at":"{recorded_at_text}",'
        f'"schema_version":{schema_version},"stream":{dumps(stream)},'
        f'"type":{dumps(type)},"version":{version}}}'
    )
    return text.encode("ascii")


def chain_hash(prev_hash: str, canonical: bytes) -> str:
    """``sha256(prev_hash + canonical)`` as lowercase hex."""
    return hashlib.sha256(prev_hash.encode("ascii") + canonical).hexdigest()
