"""The canonical encoding of events and the SHA-256 hash chain over it.

This is a published format: an auditor must be able to recompute every hash from the
event feed with their own code. README.md, "The hash chain", states it in words; change
it only with a new chain version, never in place.

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
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        _check_text(value, path)
        return value
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
    if isinstance(value, Mapping):
        result: dict[str, JsonValue] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotCanonical(f"{path} has a key {key!r} that is not a string.")
            _check_text(key, f"{path} key")
            result[key] = normalise(item, f"{path}.{key}")
        return result
    if isinstance(value, list | tuple):
        return [normalise(item, f"{path}[{index}]") for index, item in enumerate(value)]
    raise NotCanonical(f"{path} is a {type(value).__name__}, which is not JSON data.")


def _check_text(text: str, path: str) -> None:
    if "\x00" in text:
        raise NotCanonical(f"{path} contains a NUL character, which cannot be stored.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise NotCanonical(f"{path} contains a lone surrogate, which is not valid text.") from None


def dumps(value: JsonValue) -> str:
    """Canonical JSON text of an already-normalised value."""
    return json.dumps(value, sort_keys=True, ensure_ascii=True, separators=(",", ":"))


def format_recorded_at(moment: dt.datetime) -> str:
    """``recorded_at`` in the canonical form: UTC, microseconds, trailing ``Z``."""
    if moment.tzinfo is None:
        raise NotCanonical("recorded_at must be timezone-aware.")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
    document = {
        "data": data,
        "effective_on": effective_on.isoformat() if effective_on else None,
        "metadata": metadata,
        "position": position,
        "recorded_at": format_recorded_at(recorded_at),
        "schema_version": schema_version,
        "stream": stream,
        "type": type,
        "version": version,
    }
    return dumps(document).encode("ascii")


def chain_hash(prev_hash: str, canonical: bytes) -> str:
    """``sha256(prev_hash + canonical)`` as lowercase hex."""
    return hashlib.sha256(prev_hash.encode("ascii") + canonical).hexdigest()
