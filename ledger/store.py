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
- **Optimistic concurrency** by stream version.
- **One idempotency: receipts.** An append made under a key carries a ``NewReceipt``
  (a scope chosen by the caller, the key, a fingerprint of the request, an answer to give
  again); the append's own statement stores it with the events, and finds it, under the
  lock, when the key comes again: the same request is replayed (nothing appended), another
  one is refused. So two retries racing each other still append once, and at the top level
  nothing of the caller's runs while the head is locked.
- **A ledger identity.** The head row carries a UUID that is new whenever the ledger is
  created or emptied; every append and head read hands it, with the head position, to
  ``ledger.caches.observe_ledger``, so process caches empty themselves when the ledger
  they mirror was replaced or restored. Only what is committed is handed on: at once at
  the top level, at the caller's commit inside a caller's transaction (never a head that
  a rollback takes back, which would look like a restore).

``append`` joins the caller's transaction when there is one (inside a savepoint, so a
refused append leaves the caller's transaction usable): the head then stays locked, and
the events invisible, until the caller commits. On PostgreSQL the append is one prepared
call of ``ledger_append`` (``ledger/sql/append_v2.sql``); on SQLite the same steps run in
Python.
"""

import contextlib
import dataclasses
import datetime as dt
import functools
import hashlib
import json
import re
import time
import uuid
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.dateparse import parse_datetime

from ledger import caches, canonical, db, signals
from ledger.upcasting import upcast

DEFAULT_PARTITION = "default"
MAX_READ_LIMIT = 10_000

_STREAM_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,199}")
_TYPE_RE = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{0,99}")
_HASH_RE = re.compile(r"[0-9a-f]{64}")
_COLUMNS = (
    "position, stream, version, type, schema_version, data, metadata, "
    "effective_on, recorded_at, prev_hash, hash"
)


class LedgerError(Exception):
    """Base class of the ledger's errors."""


class InvalidAppend(LedgerError, ValueError):
    """The append's arguments are malformed; nothing was appended."""


class InvalidRead(LedgerError, ValueError):
    """A read's arguments are malformed (a limit, a position, a version, a time, a
    receipt's scope or key); nothing was read."""


class InvalidStreamName(InvalidRead, InvalidAppend):
    """A name no stream can have, given to a read or to an append: it is both errors, so
    code that expects either one for its call catches it."""


class WrongExpectedVersion(LedgerError):
    """The stream is not at the version the caller decided on; nothing was appended."""

    def __init__(
        self, stream: str, expected: int, actual: int, read: Sequence["RecordedEvent"] = ()
    ) -> None:
        self.stream, self.expected, self.actual = stream, expected, actual
        self.read = tuple(read)  # with ``append(read_after=...)``: what the caller missed
        super().__init__(
            f"Stream {stream!r} is at version {actual}, not {expected}: it changed since "
            "you read it. Reload it and decide again."
        )


class IdempotencyConflict(LedgerError):
    """The receipt's key was already used in its scope for a different append; nothing
    was appended."""

    def __init__(self, scope: str, key: str) -> None:
        self.scope, self.key = scope, key
        super().__init__(
            f"Idempotency key {key!r} was already used in {scope!r} for a different request. "
            "Use a new key for a new request; repeat a key only to retry the very same request."
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
class NewReceipt:
    """An append's idempotency key and what to remember of it: stored with the events.

    ``scope`` names who chose the key (``api-client:<id>``, ``user:<username>``, or an
    explicit scope) and ``key`` the request, unique within the scope; both are 1 to 150
    (scope) or 255 (key) visible ASCII characters. ``fingerprint`` identifies the request's
    content (at most 64 characters); ``""`` lets the ledger compute it from the stream and
    the events. ``body`` is the answer to give again on a repeat (any JSON object; the
    stream, positions and version are stored beside it).
    """

    scope: str
    key: str
    fingerprint: str
    body: Mapping[str, Any]


@dataclasses.dataclass(frozen=True, slots=True)
class RecordedReceipt:
    """A stored receipt and what its append produced."""

    scope: str
    key: str
    fingerprint: str
    body: dict[str, Any]
    stream: str
    positions: tuple[int, ...]
    version: int
    recorded_at: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class AppendResult:
    """What an append produced; ``replayed`` is true when its receipt's key was already
    recorded for the same request (nothing appended; ``receipt`` is the stored one).

    ``last_hash`` and ``recorded_at`` are those of the last event written (empty and None
    for a replay). ``read`` holds the stream's events after ``append(read_after=...)``, read
    right after the append (its own events included): a caller's cached state folds them.
    ``ledger_identity`` and ``head`` are the ledger's identity and head position as the
    append saw them.
    """

    positions: tuple[int, ...]
    version: int
    replayed: bool = False
    last_hash: str = ""
    recorded_at: dt.datetime | None = None
    read: tuple["RecordedEvent", ...] = ()
    receipt: RecordedReceipt | None = None
    ledger_identity: str = ""
    head: int = 0


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
    expected_hash: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    receipt: NewReceipt | None = None,
    read_after: int | None = None,
    hold: "StreamHold | None" = None,
) -> AppendResult:
    """Append ``events`` to ``stream`` atomically and return their positions.

    ``expected_version=None`` accepts any current version; ``0`` requires that the stream
    does not exist yet; ``n`` requires that it is at version ``n``, else
    ``WrongExpectedVersion``; so does an ``expected_hash`` that is not the hash of the
    stream's newest event (a caller deciding on a cached state names the event it ended
    on, so a ledger replaced underneath is noticed). With ``read_after``, the stream's
    events after that version are read back in the same round trip, whether the append
    was refused for its version (``WrongExpectedVersion.read``: what the caller missed) or
    made (``AppendResult.read``). With a ``receipt``, the receipt is stored by the same
    statement as the events. When its scope already holds its key: for the same stream
    and fingerprint nothing is appended and the original result comes back with
    ``replayed=True`` and the stored ``receipt`` (a replay wins over a stale expected
    version when the receipt is found first); for anything else ``IdempotencyConflict``.
    With the ``hold`` of ``lock_stream`` on this stream, the append's statement also
    releases it, whatever it answers. Malformed input raises ``InvalidAppend`` before the
    database is touched.
    """
    _check_stream(stream)
    _check_expected_version(expected_version)
    if expected_hash is not None and not (
        isinstance(expected_hash, str) and _HASH_RE.fullmatch(expected_hash)
    ):
        raise InvalidAppend(f"expected_hash must be a SHA-256 hex digest, not {expected_hash!r}.")
    if read_after is not None and (
        isinstance(read_after, bool) or not isinstance(read_after, int) or read_after < 0
    ):
        raise InvalidAppend(
            f"read_after must be None (read nothing back) or a version of at least 0, "
            f"not {read_after!r}."
        )
    prepared = [_prepare(event, index) for index, event in enumerate(_check_events(events))]
    if metadata is not None and not isinstance(metadata, Mapping):
        raise InvalidAppend("metadata must be a mapping (a JSON object).")
    try:
        meta = canonical.normalise(dict(metadata or {}), "metadata")
    except canonical.NotCanonical as error:
        raise InvalidAppend(str(error)) from None
    meta_json = canonical.dumps(meta)
    _check_size(prepared, meta_json)
    receipt_json = _check_receipt(receipt)
    if receipt is not None and not receipt.fingerprint:
        receipt = dataclasses.replace(receipt, fingerprint=_fingerprint(stream, prepared))
    if hold is not None and hold.stream != stream:
        raise InvalidAppend(f"The hold is on {hold.stream!r}, not on {stream!r}.")

    wrapper = connections[DEFAULT_DB_ALIAS]  # looked up once: the proxy asks each time
    request = _Request(
        stream,
        prepared,
        meta_json,
        expected_version,
        receipt,
        receipt_json,
        expected_hash,
        read_after,
        hold,
        wrapper.in_atomic_block,
    )
    if wrapper.vendor == "postgresql":
        result = _append_postgres(request, wrapper)
    else:
        try:
            with transaction.atomic():
                result = _append_sqlite(request)
        except WrongExpectedVersion as refused:
            if read_after is None:
                raise
            missed = read_stream(stream, after_version=read_after)
            raise WrongExpectedVersion(
                refused.stream, refused.expected, refused.actual, missed
            ) from None
        if read_after is not None:
            read = read_stream(stream, after_version=read_after)
            result = dataclasses.replace(result, read=tuple(read))
    if not request.in_transaction:  # the append was its own transaction, committed
        signals.events_appended.send(sender=append, stream=stream, positions=result.positions)
    elif signals.events_appended.has_listeners():
        transaction.on_commit(
            functools.partial(
                signals.events_appended.send,
                sender=append,
                stream=stream,
                positions=result.positions,
            )
        )
    return result


def find_receipt(scope: str, key: str) -> RecordedReceipt | None:
    """The committed receipt for ``key`` in ``scope``, if any.

    For a caller whose request was refused before it appended (a broken rule, a stale
    version): if the key was used before, a retry must get the first answer. A malformed
    scope or key is ``InvalidRead``.
    """
    _check_scope_and_key(scope, key, InvalidRead)
    with connection.cursor() as cursor:
        cursor.execute(_SELECT_RECEIPT, [scope, key])
        row = cursor.fetchone()
    return None if row is None else _recorded_receipt(scope, key, row)


def fingerprint(stream: str, events: Sequence[NewEvent]) -> str:
    """The fingerprint ``append`` gives a receipt whose own is empty (``""``): of the
    stream and the events, their metadata aside. A caller that must tell whether a
    refused request under a used key is the request that key recorded computes it for
    the events that request would have appended. Malformed input is ``InvalidAppend``."""
    _check_stream(stream)
    return _fingerprint(stream, [_prepare(e, n) for n, e in enumerate(_check_events(events))])


def read_stream(
    stream: str,
    *,
    after_version: int = 0,
    upto_recorded_at: dt.datetime | None = None,
    after_position: int = 0,
    limit: int | None = None,
    upto_position: int | None = None,
) -> list[RecordedEvent]:
    """The stream's events with version above ``after_version``, in version order.

    With ``upto_recorded_at``, only what had been recorded by then ("as known at"); with
    ``upto_position``, only events at or below that ledger position (what the ledger held
    when its head was there: a report's anchor); with
    ``after_position`` and ``limit``, a page by ledger position (a stream's versions and
    positions rise together), as a consortium's own feed reads it. Malformed arguments
    raise ``InvalidRead`` before the database is asked.
    """
    _check_stream(stream)
    _check_bound("after_version", after_version)
    _check_bound("after_position", after_position)
    if limit is not None:
        _check_limit(limit)
    sql = f"SELECT {_COLUMNS} FROM ledger_event WHERE stream = %s AND version > %s"  # noqa: S608
    params: list[Any] = [stream, after_version]
    if upto_recorded_at is not None:
        if not isinstance(upto_recorded_at, dt.datetime) or upto_recorded_at.tzinfo is None:
            raise InvalidRead(
                "upto_recorded_at must be a timezone-aware datetime (what was known at "
                f"that moment, in some time zone), not {upto_recorded_at!r}."
            )
        sql += " AND recorded_at <= %s"
        params.append(_db_datetime(upto_recorded_at))
    if after_position:
        sql += " AND position > %s"
        params.append(after_position)
    if upto_position is not None:
        _check_bound("upto_position", upto_position)
        sql += " AND position <= %s"
        params.append(upto_position)
    sql += " ORDER BY version"
    if limit is not None:
        sql += " LIMIT %s"
        params.append(limit)
    return _fetch(sql, params)


@dataclasses.dataclass
class StreamHold:
    """A stream locked by ``lock_stream``: the events read after the lock was granted."""

    stream: str
    missed: list[RecordedEvent]
    released: bool = False


@contextlib.contextmanager
def lock_stream(stream: str, *, after_version: int = 0) -> Iterator[StreamHold]:
    """Lock ``stream`` against every other append, then read its events with version above
    ``after_version``: for a command that decides on what it read and then appends.

    Pass the hold to ``append(..., hold=...)``: the append's own statement releases it (the
    append's transaction keeps the stream until it commits). Leaving the block releases it
    otherwise. Every append takes the same lock before the ledger's head
    (``ledger_lock_stream`` in ledger/sql/append_v2.sql).
    On SQLite, which lets one transaction write at a time anyway, it is the read alone.
    Malformed arguments raise ``InvalidRead``.
    """
    _check_stream(stream)
    _check_bound("after_version", after_version)
    if connection.vendor != "postgresql":
        yield StreamHold(stream, read_stream(stream, after_version=after_version), True)
        return
    # A session's advisory lock outlives a failed statement: should either statement fail
    # with the lock perhaps held, the connection is closed, which releases it.
    try:
        rows = db.fetch(
            "SELECT ledger_hold_stream_after(%s::text, %s::integer)", [stream, after_version]
        )
    except DatabaseError:
        connection.close()
        raise
    hold = StreamHold(stream, _read_back(rows[0][0]))
    try:
        yield hold
    finally:
        if not hold.released:
            try:
                db.fetch("SELECT ledger_release_stream(%s::text)", [stream])
            except DatabaseError:
                connection.close()
                raise
            hold.released = True


def stream_exists(stream: str) -> bool:
    """Whether ``stream`` has any event (a malformed name is ``InvalidRead``)."""
    _check_stream(stream)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM ledger_event WHERE stream = %s LIMIT 1", [stream])
        return cursor.fetchone() is not None


def read_all(
    *, after: int = 0, limit: int = 1000, types: Collection[str] | None = None
) -> list[RecordedEvent]:
    """Up to ``limit`` events with position above ``after``, in position order; with
    ``types``, only events of those types. Malformed arguments raise ``InvalidRead``."""
    _check_bound("after", after)
    _check_limit(limit)
    if types is not None and (
        isinstance(types, str | bytes) or not all(isinstance(kind, str) for kind in types)
    ):
        raise InvalidRead(
            f"types must be a collection of event type names (for example ['Added']), "
            f"not {types!r}."
        )
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
    """Every event after ``after`` exactly as stored (no upcasting), page by page.
    Malformed arguments raise ``InvalidRead``."""
    _check_bound("after", after)
    _check_limit(page, "page")
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


@dataclasses.dataclass(frozen=True, slots=True)
class HeadState:
    """The last committed position, its hash (the anchor to publish), and the ledger's
    identity (new whenever the ledger was created or emptied)."""

    position: int
    hash: str
    identity: str


def head() -> int:
    """The last committed position; 0 when the ledger is empty."""
    return read_head().position


def head_state() -> tuple[int, str]:
    """The last committed position and its hash (the anchor to publish)."""
    state = read_head()
    return state.position, state.hash


def read_head() -> HeadState:
    """The ledger's head; process caches are told of its identity and position."""
    rows = db.fetch(
        "SELECT position, hash, identity FROM ledger_head WHERE partition = %s",
        [DEFAULT_PARTITION],
    )
    if not rows:
        raise LedgerError("The ledger has no head row: run `manage.py migrate`.")
    state = HeadState(int(rows[0][0]), str(rows[0][1]), _identity(rows[0][2]))
    _observe(state.identity, state.position, deferred=connection.in_atomic_block)
    return state


def hash_at(position: int) -> str | None:
    """The chain hash at ``position``: the hash of the event there (the genesis hash at 0),
    None beyond the head. With the position it is an anchor (``POSITION:HASH``) that
    ``manage.py verify_ledger --expect`` checks later. Malformed arguments raise
    ``InvalidRead``."""
    if isinstance(position, bool) or not isinstance(position, int) or position < 0:
        raise InvalidRead(f"A ledger position is a whole number of at least 0, not {position!r}.")
    if position == 0:
        return canonical.GENESIS_HASH
    rows = db.fetch("SELECT hash FROM ledger_event WHERE position = %s", [position])
    return str(rows[0][0]) if rows else None


def _observe(identity: str, head: int, *, deferred: bool) -> None:
    """Tell the process caches the ledger's identity and head as just read: now, or, when
    ``deferred`` (read inside a caller's transaction, which may still roll back), once
    that transaction commits; a rollback drops it."""
    if deferred:
        floor = caches.read_floor()  # other commit hooks may read a higher head first
        transaction.on_commit(lambda: caches.observe_ledger(identity, head, floor=floor))
    else:
        caches.observe_ledger(identity, head)


def _identity(value: Any) -> str:
    """A head identity as canonical UUID text, whichever form the backend returns."""
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


# --- validation ------------------------------------------------------------------------


def _check_stream(stream: object) -> None:
    if not isinstance(stream, str) or not stream:
        raise InvalidStreamName(
            f"A stream name is required (for example 'consortium-aip'), not {stream!r}."
        )
    if not _STREAM_RE.fullmatch(stream):
        raise InvalidStreamName(
            f"Stream name {stream[:60]!r} is not allowed: use up to 200 letters, digits and "
            "the characters . _ : @ / + = -, starting with a letter or digit."
        )


def _check_limit(limit: object, name: str = "limit") -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_READ_LIMIT:
        raise InvalidRead(
            f"{name} must be a whole number from 1 to {MAX_READ_LIMIT} (read more page by "
            f"page), not {limit!r}."
        )


def _check_bound(name: str, value: object) -> None:
    """A read's lower bound (a position or a version, exclusive): 0 or more."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidRead(
            f"{name} must be a whole number of at least 0 (0 reads from the start), not {value!r}."
        )


def _check_expected_version(expected: object) -> None:
    if expected is None:
        return
    if isinstance(expected, bool) or not isinstance(expected, int) or expected < 0:
        raise InvalidAppend(
            f"expected_version must be None (any version), 0 (a new stream) or the stream's "
            f"current version, not {expected!r}."
        )


_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")


def _check_scope_and_key(
    scope: object, key: object, error: type[LedgerError] = InvalidAppend
) -> None:
    for name, value, longest in (("scope", scope, 150), ("key", key, 255)):
        if (
            not isinstance(value, str)
            or len(value) > longest
            or not _VISIBLE_ASCII.fullmatch(value)
        ):
            raise error(
                f"A receipt's {name} must be 1 to {longest} visible ASCII characters "
                f"(no spaces), not {str(value)[:60]!r}."
            )


def _check_receipt(receipt: object) -> str | None:
    """The receipt's body as JSON text (None without a receipt); malformed is InvalidAppend."""
    if receipt is None:
        return None
    if not isinstance(receipt, NewReceipt):
        raise InvalidAppend("receipt must be a NewReceipt.")
    _check_scope_and_key(receipt.scope, receipt.key)
    if not isinstance(receipt.fingerprint, str) or len(receipt.fingerprint) > 64:
        raise InvalidAppend("A receipt's fingerprint must be text of at most 64 characters.")
    if not isinstance(receipt.body, Mapping):
        raise InvalidAppend("A receipt's body must be a mapping (a JSON object).")
    try:
        return json.dumps(receipt.body, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise InvalidAppend(f"A receipt's body must be JSON: {error}.") from None


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
#
# Both backends: answer a known receipt, lock the stream and the head, check the receipt
# and the stream's version under the lock, hash the new events onto the chain, insert
# them (and the receipt) and move the head, in one transaction. PostgreSQL does it in one
# prepared, server-bound call of ``ledger_append`` (ledger/sql/append_v2.sql); SQLite in
# plain statements, its IMMEDIATE transaction being the lock.


@dataclasses.dataclass(frozen=True, slots=True)
class _Request:
    stream: str
    events: list[_Prepared]
    meta_json: str
    expected_version: int | None
    receipt: NewReceipt | None
    receipt_json: str | None
    expected_hash: str | None
    read_after: int | None
    hold: StreamHold | None
    in_transaction: bool  # the caller's: the append joins it


@dataclasses.dataclass(frozen=True, slots=True)
class _Chained:
    positions: list[int]
    versions: list[int]
    prev_hashes: list[str]
    hashes: list[str]


def _chain(
    request: _Request, head_position: int, version: int, prev_hash: str, recorded_at: dt.datetime
) -> _Chained:
    recorded_text = canonical.format_recorded_at(recorded_at)
    chained = _Chained([], [], [], [])
    for offset, event in enumerate(request.events, start=1):
        position, event_version = head_position + offset, version + offset
        encoded = canonical.encoded_event_bytes(
            position=position,
            stream=request.stream,
            version=event_version,
            type=event.type,
            schema_version=event.schema_version,
            data_json=event.data_json,
            metadata_json=request.meta_json,
            effective_on=event.effective_on,
            recorded_at_text=recorded_text,
        )
        event_hash = canonical.chain_hash(prev_hash, encoded)
        chained.positions.append(position)
        chained.versions.append(event_version)
        chained.prev_hashes.append(prev_hash)
        chained.hashes.append(event_hash)
        prev_hash = event_hash
    return chained


_SELECT_NEWEST = (
    "SELECT version, hash FROM ledger_event WHERE stream = %s ORDER BY version DESC LIMIT 1"
)
_SELECT_RECEIPT = (
    "SELECT fingerprint, body, stream, first_position, last_position, version, recorded_at "
    "FROM ledger_receipt WHERE scope = %s AND key = %s"
)
# The events' data travel as a binary text[] (%b): each canonical text as it is, with no
# array-literal escaping of its quotes on either side.
_PG_APPEND = (
    "SELECT status, first_position, last_position, version, last_hash, recorded_at, events, "
    "ledger_identity, head_position, receipt_fingerprint, receipt_body, receipt_recorded_at "
    "FROM ledger_append(%s::text, %s::text, %s::integer, %s::text, %s::text[], "
    "%s::integer[], %b::text[], %s::date[], %s::text, %s::integer, %s::text, %s::text, "
    "%s::text, %s::text, %s::boolean)"
)


def _append_postgres(request: _Request, wrapper: BaseDatabaseWrapper) -> AppendResult:
    """One prepared statement: ``ledger_append`` (ledger/sql/append_v2.sql) does it all.

    At the top level it runs in autocommit, so the statement is its own transaction: one
    round trip in all. Inside a caller's transaction it runs in a savepoint.
    """
    events, receipt, hold = request.events, request.receipt, request.hold
    releasing = hold is not None and not hold.released
    # Array literals built here rather than by psycopg's list dumpers (which inspect every
    # list): type names are checked to hold no quote, backslash or space, and a quoted
    # element is never read as NULL.
    params = (
        DEFAULT_PARTITION,
        request.stream,
        request.expected_version,
        request.expected_hash,
        '{"' + '","'.join([event.type for event in events]) + '"}',
        "{" + ",".join([str(event.schema_version) for event in events]) + "}",
        [event.data_json for event in events],
        "{" + ",".join([_date_element(event.effective_on) for event in events]) + "}",
        request.meta_json,
        request.read_after,
        receipt.scope if receipt else None,
        receipt.key if receipt else None,
        receipt.fingerprint if receipt else None,
        request.receipt_json,
        releasing,
    )
    # A server-binding cursor on Django's connection: the SQL text is sent once and
    # prepared, parameters travel apart from it.
    started = time.monotonic()
    with wrapper.wrap_database_errors, psycopg.Cursor(db.raw_postgres(wrapper)) as cursor:
        if request.in_transaction:
            with transaction.atomic():
                cursor.execute(_PG_APPEND, params, prepare=True)
        else:
            cursor.execute(_PG_APPEND, params, prepare=True)
        row = cursor.fetchone()
    db.logged(_PG_APPEND, params, started, wrapper)
    if hold is not None:
        hold.released = True
    assert row is not None  # ledger_append answers one row, or raises
    status, first, last, version, last_hash, recorded_at, events_json, identity, head = row[:9]
    _observe(identity, head, deferred=request.in_transaction)
    read = tuple(_read_back(events_json)) if events_json is not None else ()
    if status == "wrong_version":
        raise WrongExpectedVersion(
            request.stream, int(request.expected_version or 0), version, read
        )
    positions = tuple(range(first, last + 1))
    stored = None
    if receipt is not None:
        body = row[10] if isinstance(row[10], dict) else json.loads(row[10])
        stored = RecordedReceipt(
            receipt.scope, receipt.key, row[9], body, request.stream, positions, version, row[11]
        )
    if status == "conflict":
        raise IdempotencyConflict(receipt.scope, receipt.key)  # type: ignore[union-attr]
    if status == "replayed":
        return AppendResult(
            positions,
            version,
            True,
            read=read,
            receipt=stored,
            ledger_identity=identity,
            head=head,
        )
    return AppendResult(
        positions, version, False, last_hash, recorded_at, read, None, identity, head
    )


def _date_element(day: dt.date | None) -> str:
    return day.isoformat() if day is not None else "NULL"


def _append_sqlite(request: _Request) -> AppendResult:
    with connection.cursor() as cursor:
        # No FOR UPDATE in SQLite: the IMMEDIATE transaction already holds the write lock.
        cursor.execute(
            "SELECT position, hash, recorded_at, identity FROM ledger_head WHERE partition = %s",
            [DEFAULT_PARTITION],
        )
        row = cursor.fetchone()
        if row is None:
            raise LedgerError("The ledger has no head row: run `manage.py migrate`.")
        head_position, head_hash = int(row[0]), str(row[1])
        head_recorded = _to_datetime(row[2]) if row[2] is not None else None
        identity = _identity(row[3])
        # At the top level the head read under the write lock is the committed one.
        _observe(identity, head_position, deferred=request.in_transaction)
        receipt = request.receipt
        if receipt is not None:
            cursor.execute(_SELECT_RECEIPT, [receipt.scope, receipt.key])
            known = cursor.fetchone()
            if known is not None:
                stored = _recorded_receipt(receipt.scope, receipt.key, known)
                if stored.stream != request.stream or stored.fingerprint != receipt.fingerprint:
                    raise IdempotencyConflict(receipt.scope, receipt.key)
                return AppendResult(
                    stored.positions,
                    stored.version,
                    True,
                    receipt=stored,
                    ledger_identity=identity,
                    head=head_position,
                )
        cursor.execute(_SELECT_NEWEST, [request.stream])
        newest = cursor.fetchone()
        current, current_hash = (int(newest[0]), str(newest[1])) if newest else (0, None)
        if (request.expected_version is not None and request.expected_version != current) or (
            request.expected_hash is not None and request.expected_hash != current_hash
        ):
            raise WrongExpectedVersion(request.stream, request.expected_version or 0, current)
        clock = dt.datetime.now(dt.UTC)
        recorded_at = max(clock, head_recorded) if head_recorded else clock
        chained = _chain(request, head_position, current, head_hash, recorded_at)
        stored_at = _db_datetime(recorded_at)
        cursor.executemany(
            f"INSERT INTO ledger_event ({_COLUMNS}) VALUES "  # noqa: S608
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    position,
                    request.stream,
                    version,
                    event.type,
                    event.schema_version,
                    event.data_json,
                    request.meta_json,
                    event.effective_on,
                    stored_at,
                    prev,
                    digest,
                )
                for position, version, prev, digest, event in zip(
                    chained.positions,
                    chained.versions,
                    chained.prev_hashes,
                    chained.hashes,
                    request.events,
                    strict=True,
                )
            ],
        )
        cursor.execute(
            "UPDATE ledger_head SET position = %s, hash = %s, recorded_at = %s "
            "WHERE partition = %s",
            [chained.positions[-1], chained.hashes[-1], stored_at, DEFAULT_PARTITION],
        )
        if receipt is not None:
            cursor.execute(
                "INSERT INTO ledger_receipt (scope, key, fingerprint, body, stream, "
                "first_position, last_position, version, recorded_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    receipt.scope,
                    receipt.key,
                    receipt.fingerprint,
                    request.receipt_json,
                    request.stream,
                    chained.positions[0],
                    chained.positions[-1],
                    chained.versions[-1],
                    stored_at,
                ],
            )
    return AppendResult(
        tuple(chained.positions),
        chained.versions[-1],
        False,
        chained.hashes[-1],
        recorded_at,
        ledger_identity=identity,
        head=chained.positions[-1],
    )


def _recorded_receipt(scope: str, key: str, row: Sequence[Any]) -> RecordedReceipt:
    """A ``ledger_receipt`` row (``_SELECT_RECEIPT``'s columns) as a ``RecordedReceipt``."""
    body = row[1] if isinstance(row[1], dict) else json.loads(row[1])
    return RecordedReceipt(
        scope,
        key,
        str(row[0]),
        body,
        str(row[2]),
        tuple(range(int(row[3]), int(row[4]) + 1)),
        int(row[5]),
        _to_datetime(row[6]),
    )


def _read_back(events_json: Any) -> list[RecordedEvent]:
    """The ``events`` column of ``ledger_append``: rows as arrays in ``_COLUMNS`` order."""
    items = json.loads(events_json) if isinstance(events_json, str) else events_json
    rows = [
        (
            *item[:7],
            dt.date.fromisoformat(item[7]) if item[7] is not None else None,
            dt.datetime.fromisoformat(item[8]),
            *item[9:],
        )
        for item in items
    ]
    return _events(rows)


# --- the read path ---------------------------------------------------------------------


def _fetch(sql: str, params: list[Any], *, upcasting: bool = True) -> list[RecordedEvent]:
    return _events(db.fetch(sql, params), upcasting=upcasting)


def _events(raw: Sequence[Sequence[Any]], *, upcasting: bool = True) -> list[RecordedEvent]:
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
                metadata=_metadata(row[6]),
                effective_on=row[7],
                recorded_at=row[8] if postgres else _to_datetime(row[8]),
                prev_hash=row[9],
                hash=row[10],
            )
        )
    return result


_METADATA_CACHE_MAX = 4096
_metadata_cache: dict[str, dict[str, Any]] = {}
caches.register(
    "ledger.store.metadata",
    holds="parsed event metadata, keyed by its stored JSON text",
    bound=f"{_METADATA_CACHE_MAX:,} texts, then emptied",
    moves="reads: the events of one append share one metadata text, parsed once",
    clear=_metadata_cache.clear,
    size=lambda: len(_metadata_cache),
)


def _metadata(text: str) -> dict[str, Any]:
    """Parsed metadata; every event of one append carries the same text, so parse it once.

    The dict may be shared between events: treat ``RecordedEvent.metadata`` as read-only.
    """
    parsed = _metadata_cache.get(text)
    if parsed is None:
        if len(_metadata_cache) >= _METADATA_CACHE_MAX:
            _metadata_cache.clear()
        parsed = _metadata_cache[text] = json.loads(text)
    return parsed


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
