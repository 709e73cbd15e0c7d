"""The ledger's public API: append events to streams and read them back, in order.

Design (see README.md, "The ledger"):

- **One lock orders everything.** An append locks the partition's head row (last
  position, hash, recorded time) for the rest of its transaction, so positions are
  assigned and committed strictly in order with no gaps: a reader that has seen position
  N has seen every position below it. No sequences (they leave gaps on rollback) and no
  "gap timeout" heuristics. On SQLite the IMMEDIATE transaction mode takes the write lock
  at BEGIN, which serialises appends the same way.
- **``recorded_at`` is the database clock read under that lock** (PostgreSQL
  ``clock_timestamp()``), never earlier than the previous event's, so "what was known at
  time T" is always a prefix of the ledger.
- **Hash chain.** Each event's hash covers the previous hash and its canonical encoding
  (``ledger.canonical``); ``manage.py verify_ledger`` recomputes it.
- **Optimistic concurrency** by stream version; **idempotency** by key, checked under the
  lock so two retries racing each other still append once.

``append`` joins the caller's transaction when there is one (inside a savepoint, so a
refused append leaves the caller's transaction usable): the head then stays locked, and
the events invisible, until the caller commits. This is what lets the API store its
idempotency record in the same transaction as the events.
"""

import dataclasses
import datetime as dt
import hashlib
import json
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils.dateparse import parse_datetime

from ledger import canonical, signals
from ledger.upcasting import upcast

DEFAULT_PARTITION = "default"
MAX_READ_LIMIT = 10_000
_INSERT_CHUNK = 500

_STREAM_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,199}")
_TYPE_RE = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{0,99}")
_COLUMNS = (
    "position, stream, version, type, schema_version, data, metadata, "
    "effective_on, recorded_at, prev_hash, hash"
)


class LedgerError(Exception):
    """Base class of the ledger's errors."""


class InvalidAppend(LedgerError, ValueError):
    """The append's arguments are malformed; nothing was appended."""


class WrongExpectedVersion(LedgerError):
    """The stream is not at the version the caller decided on; nothing was appended."""

    def __init__(self, stream: str, expected: int, actual: int) -> None:
        self.stream, self.expected, self.actual = stream, expected, actual
        super().__init__(
            f"Stream {stream!r} is at version {actual}, not {expected}: it changed since "
            "you read it. Reload it and decide again."
        )


class IdempotencyConflict(LedgerError):
    """The idempotency key was already used for a different append; nothing was appended."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            f"Idempotency key {key!r} was already used for a different request. Use a new "
            "key for a new request; repeat a key only to retry the very same request."
        )


@dataclasses.dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append. ``data`` may hold Decimals and dates; they are stored as text."""

    type: str
    data: Mapping[str, Any]
    effective_on: dt.date | None = None
    schema_version: int = 1


@dataclasses.dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as stored (after upcasting of ``type``, ``schema_version`` and ``data``)."""

    position: int
    stream: str
    version: int
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    effective_on: dt.date | None
    recorded_at: dt.datetime
    prev_hash: str
    hash: str


@dataclasses.dataclass(frozen=True, slots=True)
class AppendResult:
    """What an append produced; ``replayed`` is true when an idempotency key matched."""

    positions: tuple[int, ...]
    version: int
    replayed: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class _Prepared:
    type: str
    schema_version: int
    effective_on: dt.date | None
    data: canonical.JsonValue
    data_json: str


def append(
    stream: str,
    events: Sequence[NewEvent],
    *,
    expected_version: int | None,
    idempotency_key: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> AppendResult:
    """Append ``events`` to ``stream`` atomically and return their positions.

    ``expected_version=None`` accepts any current version; ``0`` requires that the stream
    does not exist yet; ``n`` requires that it is at version ``n``, else
    ``WrongExpectedVersion``. A repeated ``idempotency_key`` with the same stream and
    events returns the original result and appends nothing; with anything different it
    raises ``IdempotencyConflict``. Malformed input raises ``InvalidAppend`` before the
    database is touched.
    """
    _check_stream(stream)
    _check_expected_version(expected_version)
    _check_idempotency_key(idempotency_key)
    prepared = [_prepare(event, index) for index, event in enumerate(_check_events(events))]
    if metadata is not None and not isinstance(metadata, Mapping):
        raise InvalidAppend("metadata must be a mapping (a JSON object).")
    try:
        meta = canonical.normalise(dict(metadata or {}), "metadata")
    except canonical.NotCanonical as error:
        raise InvalidAppend(str(error)) from None
    meta_json = canonical.dumps(meta)
    _check_size(prepared, meta_json)
    fingerprint = _fingerprint(stream, prepared) if idempotency_key else ""

    with transaction.atomic(), connection.cursor() as cursor:
        head_position, head_hash, head_recorded = _lock_head(cursor)
        if idempotency_key:
            replay = _find_idempotent(cursor, idempotency_key, stream, fingerprint)
            if replay:
                return replay
        current, clock = _stream_version_and_clock(cursor, stream)
        if expected_version is not None and expected_version != current:
            raise WrongExpectedVersion(stream, expected_version, current)
        recorded_at = max(clock, head_recorded) if head_recorded else clock
        rows, last_hash = _rows(
            stream, prepared, meta, meta_json, head_position, current, head_hash, recorded_at
        )
        _insert(cursor, rows)
        last_position = head_position + len(rows)
        cursor.execute(
            "UPDATE ledger_head SET position = %s, hash = %s, recorded_at = %s "
            "WHERE partition = %s",
            [last_position, last_hash, _db_datetime(recorded_at), DEFAULT_PARTITION],
        )
        result = AppendResult(
            positions=tuple(range(head_position + 1, last_position + 1)),
            version=current + len(rows),
        )
        if idempotency_key:
            cursor.execute(
                "INSERT INTO ledger_idempotent_append (key, stream, fingerprint, "
                "first_position, last_position, version, recorded_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [
                    idempotency_key,
                    stream,
                    fingerprint,
                    head_position + 1,
                    last_position,
                    result.version,
                    _db_datetime(recorded_at),
                ],
            )
    if signals.events_appended.has_listeners():
        transaction.on_commit(
            lambda: signals.events_appended.send(
                sender=append, stream=stream, positions=result.positions
            )
        )
    return result


def read_stream(
    stream: str, *, after_version: int = 0, upto_recorded_at: dt.datetime | None = None
) -> list[RecordedEvent]:
    """The stream's events with version above ``after_version``, in version order.

    With ``upto_recorded_at``, only what had been recorded by then ("as known at").
    """
    _check_stream(stream)
    sql = f"SELECT {_COLUMNS} FROM ledger_event WHERE stream = %s AND version > %s"  # noqa: S608
    params: list[Any] = [stream, after_version]
    if upto_recorded_at is not None:
        if upto_recorded_at.tzinfo is None:
            raise InvalidAppend("upto_recorded_at must be timezone-aware.")
        sql += " AND recorded_at <= %s"
        params.append(_db_datetime(upto_recorded_at))
    return _fetch(sql + " ORDER BY version", params)


def read_all(
    *, after: int = 0, limit: int = 1000, types: Collection[str] | None = None
) -> list[RecordedEvent]:
    """Up to ``limit`` events with position above ``after``, in position order."""
    if isinstance(after, bool) or not isinstance(after, int) or after < 0:
        raise InvalidAppend(f"after must be a whole number of at least 0, not {after!r}.")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_READ_LIMIT:
        raise InvalidAppend(f"limit must be a whole number from 1 to {MAX_READ_LIMIT}.")
    sql = f"SELECT {_COLUMNS} FROM ledger_event WHERE position > %s"  # noqa: S608
    params: list[Any] = [after]
    if types is not None:
        wanted = sorted(set(types))
        if not wanted:
            return []
        sql += f" AND type IN ({', '.join(['%s'] * len(wanted))})"
        params.extend(wanted)
    params.append(limit)
    return _fetch(sql + " ORDER BY position LIMIT %s", params)


def iter_stored(*, after: int = 0, page: int = 5000) -> Iterator[RecordedEvent]:
    """Every event after ``after`` exactly as stored (no upcasting), page by page."""
    while True:
        batch = _fetch(
            f"SELECT {_COLUMNS} FROM ledger_event WHERE position > %s "  # noqa: S608
            "ORDER BY position LIMIT %s",
            [after, page],
            upcasting=False,
        )
        yield from batch
        if len(batch) < page:
            return
        after = batch[-1].position


def head() -> int:
    """The last committed position; 0 when the ledger is empty."""
    return head_state()[0]


def head_state() -> tuple[int, str]:
    """The last committed position and its hash (the anchor to publish)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT position, hash FROM ledger_head WHERE partition = %s", [DEFAULT_PARTITION]
        )
        row = cursor.fetchone()
    if row is None:
        raise LedgerError("The ledger has no head row: run `manage.py migrate`.")
    return int(row[0]), str(row[1])


# --- validation ------------------------------------------------------------------------


def _check_stream(stream: object) -> None:
    if not isinstance(stream, str) or not stream:
        raise InvalidAppend("A stream name is required (for example 'consortium-aip').")
    if not _STREAM_RE.fullmatch(stream):
        raise InvalidAppend(
            f"Stream name {stream[:60]!r} is not allowed: use up to 200 letters, digits and "
            "the characters . _ : @ / + = -, starting with a letter or digit."
        )


def _check_expected_version(expected: object) -> None:
    if expected is None:
        return
    if isinstance(expected, bool) or not isinstance(expected, int) or expected < 0:
        raise InvalidAppend(
            f"expected_version must be None (any version), 0 (a new stream) or the stream's "
            f"current version, not {expected!r}."
        )


def _check_idempotency_key(key: object) -> None:
    if key is None:
        return
    if not isinstance(key, str) or not key or len(key) > 255 or not key.isprintable():
        raise InvalidAppend("An idempotency key must be 1 to 255 printable characters.")


def _check_events(events: object) -> Sequence[NewEvent]:
    if isinstance(events, NewEvent):
        raise InvalidAppend("Pass a list of events, not a single event.")
    if not isinstance(events, Sequence) or isinstance(events, str | bytes):
        raise InvalidAppend("events must be a list of NewEvent.")
    if not events:
        raise InvalidAppend("An append needs at least one event.")
    return events


def _prepare(event: object, index: int) -> _Prepared:
    if not isinstance(event, NewEvent):
        raise InvalidAppend(f"Event {index} is a {type(event).__name__}, not a NewEvent.")
    if not isinstance(event.type, str) or not _TYPE_RE.fullmatch(event.type):
        raise InvalidAppend(
            f"Event {index} has type {event.type!r}: a type is a name of up to 100 letters, "
            "digits and _ . : - starting with a letter."
        )
    schema = event.schema_version
    if isinstance(schema, bool) or not isinstance(schema, int) or not 1 <= schema <= 32767:
        raise InvalidAppend(f"Event {index} has schema_version {schema!r}; use 1 to 32767.")
    effective_on = event.effective_on
    if effective_on is not None and (
        isinstance(effective_on, dt.datetime) or not isinstance(effective_on, dt.date)
    ):
        raise InvalidAppend(f"Event {index} has effective_on {effective_on!r}; give a date.")
    if not isinstance(event.data, Mapping):
        raise InvalidAppend(f"Event {index} data must be a mapping (a JSON object).")
    try:
        data = canonical.normalise(event.data, f"event {index} data")
    except canonical.NotCanonical as error:
        raise InvalidAppend(str(error)) from None
    return _Prepared(event.type, schema, effective_on, data, canonical.dumps(data))


def _check_size(prepared: list[_Prepared], meta_json: str) -> None:
    limit = settings.LEDGER_MAX_EVENT_BYTES
    for index, event in enumerate(prepared):
        size = len(event.data_json) + len(meta_json)
        if size > limit:
            raise InvalidAppend(
                f"Event {index} is {size:,} bytes encoded; the ledger accepts at most "
                f"{limit:,}. Store large documents elsewhere and record a reference."
            )


def _fingerprint(stream: str, prepared: list[_Prepared]) -> str:
    request: canonical.JsonValue = {
        "stream": stream,
        "events": [
            {
                "type": event.type,
                "schema_version": event.schema_version,
                "effective_on": event.effective_on.isoformat() if event.effective_on else None,
                "data": event.data,
            }
            for event in prepared
        ],
    }
    return hashlib.sha256(canonical.dumps(request).encode("ascii")).hexdigest()


# --- the write path --------------------------------------------------------------------


def _lock_head(cursor: Any) -> tuple[int, str, dt.datetime | None]:
    # SQLite has no FOR UPDATE: its IMMEDIATE transaction already holds the write lock.
    sql = "SELECT position, hash, recorded_at FROM ledger_head WHERE partition = %s"
    if connection.vendor == "postgresql":
        sql += " FOR UPDATE"
    cursor.execute(sql, [DEFAULT_PARTITION])
    row = cursor.fetchone()
    if row is None:
        raise LedgerError("The ledger has no head row: run `manage.py migrate`.")
    recorded = _to_datetime(row[2]) if row[2] is not None else None
    return int(row[0]), str(row[1]), recorded


def _stream_version_and_clock(cursor: Any, stream: str) -> tuple[int, dt.datetime]:
    if connection.vendor == "postgresql":
        # clock_timestamp() is the wall clock now, after the lock was granted; now() would
        # be the transaction's start, possibly before an earlier holder's events.
        cursor.execute(
            "SELECT COALESCE(MAX(version), 0), clock_timestamp() FROM ledger_event "
            "WHERE stream = %s",
            [stream],
        )
        version, clock = cursor.fetchone()
        return int(version), clock
    cursor.execute("SELECT COALESCE(MAX(version), 0) FROM ledger_event WHERE stream = %s", [stream])
    return int(cursor.fetchone()[0]), dt.datetime.now(dt.UTC)


def _find_idempotent(cursor: Any, key: str, stream: str, fingerprint: str) -> AppendResult | None:
    cursor.execute(
        "SELECT stream, fingerprint, first_position, last_position, version "
        "FROM ledger_idempotent_append WHERE key = %s",
        [key],
    )
    row = cursor.fetchone()
    if row is None:
        return None
    if row[0] != stream or row[1] != fingerprint:
        raise IdempotencyConflict(key)
    return AppendResult(
        positions=tuple(range(int(row[2]), int(row[3]) + 1)), version=int(row[4]), replayed=True
    )


def _rows(
    stream: str,
    prepared: list[_Prepared],
    meta: canonical.JsonValue,
    meta_json: str,
    head_position: int,
    current_version: int,
    prev_hash: str,
    recorded_at: dt.datetime,
) -> tuple[list[tuple[Any, ...]], str]:
    stored_at = _db_datetime(recorded_at)
    rows = []
    for offset, event in enumerate(prepared, start=1):
        position, version = head_position + offset, current_version + offset
        encoded = canonical.event_bytes(
            position=position,
            stream=stream,
            version=version,
            type=event.type,
            schema_version=event.schema_version,
            data=event.data,
            metadata=meta,
            effective_on=event.effective_on,
            recorded_at=recorded_at,
        )
        event_hash = canonical.chain_hash(prev_hash, encoded)
        rows.append(
            (
                position,
                stream,
                version,
                event.type,
                event.schema_version,
                event.data_json,
                meta_json,
                event.effective_on,
                stored_at,
                prev_hash,
                event_hash,
            )
        )
        prev_hash = event_hash
    return rows, prev_hash


def _insert(cursor: Any, rows: list[tuple[Any, ...]]) -> None:
    placeholder = "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    for start in range(0, len(rows), _INSERT_CHUNK):
        chunk = rows[start : start + _INSERT_CHUNK]
        params = [value for row in chunk for value in row]
        values = ", ".join([placeholder] * len(chunk))
        cursor.execute(f"INSERT INTO ledger_event ({_COLUMNS}) VALUES {values}", params)  # noqa: S608


# --- the read path ---------------------------------------------------------------------


def _fetch(sql: str, params: list[Any], *, upcasting: bool = True) -> list[RecordedEvent]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        raw = cursor.fetchall()
    postgres = connection.vendor == "postgresql"
    loads = json.loads
    result = []
    for row in raw:
        data = loads(row[5])
        kind, schema = row[3], row[4]
        if upcasting:
            kind, schema, data = upcast(kind, schema, data)
        result.append(
            RecordedEvent(
                position=row[0],
                stream=row[1],
                version=row[2],
                type=kind,
                schema_version=schema,
                data=data,
                metadata=loads(row[6]),
                effective_on=row[7],
                recorded_at=row[8] if postgres else _to_datetime(row[8]),
                prev_hash=row[9],
                hash=row[10],
            )
        )
    return result


def _db_datetime(value: dt.datetime) -> dt.datetime | str:
    """PostgreSQL takes aware datetimes; SQLite gets one fixed, sortable text form."""
    if connection.vendor == "postgresql":
        return value
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _to_datetime(value: dt.datetime | str) -> dt.datetime:
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            raise LedgerError(f"Unreadable timestamp in the ledger: {value!r}.")
        value = parsed
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
