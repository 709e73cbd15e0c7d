"""Recompute the ledger's hash chain and say where, if anywhere, it breaks; anchors.

The chain alone proves only that the stored events agree with each other. Someone able to
write the tables (a superuser, the owner, a restored backup) can change an event and
recompute every later hash and the head row, and ``verify`` without anchors passes. What
catches that is an **anchor**: a (position, hash) pair published outside the database
(``current_anchor``, printed by ``manage.py ledger_anchor`` and by ``verify_ledger``) and
checked later (``verify(expect=...)``, ``verify_ledger --expect POSITION:HASH``): a
rewrite at or below an anchored position changes that position's hash.
"""

import dataclasses
import datetime as dt
import re
from collections.abc import Callable

from django.db import connection

from ledger import canonical, store

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclasses.dataclass(frozen=True)
class Anchor:
    """A published (position, hash) pair the ledger must still extend."""

    position: int
    hash: str

    @classmethod
    def parse(cls, text: str) -> "Anchor":
        position, _, digest = text.strip().partition(":")
        if not position.isdigit() or not _HEX64.match(digest.lower()):
            raise ValueError(
                f"{text!r} is not an anchor: write POSITION:HASH, e.g. 1200:9f86d0…(64 hex digits)."
            )
        return cls(int(position), digest.lower())

    def __str__(self) -> str:
        return f"{self.position}:{self.hash}"


@dataclasses.dataclass(frozen=True)
class CurrentAnchor:
    """The ledger's head as an anchor to publish, with the time its last event was recorded
    (None for an empty ledger, whose anchor is position 0 and the genesis hash)."""

    anchor: Anchor
    recorded_at: dt.datetime | None


class HeadMismatch(Exception):
    """The head row names a position whose stored event has another hash, or none."""


def current_anchor() -> CurrentAnchor:
    """The head's position and hash, read with the event at that position in one statement
    and refused (``HeadMismatch``) unless that event carries the same hash. Checks nothing
    below the head: that is ``verify``'s work."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT h.position, h.hash, e.hash, e.recorded_at FROM ledger_head h "
            "LEFT JOIN ledger_event e ON e.position = h.position WHERE h.partition = %s",
            [store.DEFAULT_PARTITION],
        )
        row = cursor.fetchone()
    if row is None:
        raise HeadMismatch("The ledger has no head row: run `manage.py migrate`.")
    position, head_hash, event_hash, recorded_at = int(row[0]), str(row[1]), row[2], row[3]
    if position == 0 and head_hash == canonical.GENESIS_HASH:
        return CurrentAnchor(Anchor(0, head_hash), None)
    if event_hash != head_hash:
        raise HeadMismatch(
            f"The head row says {position}:{head_hash}, but the event at position {position} "
            f"{'has hash ' + str(event_hash) if event_hash else 'is missing'}: "
            "run `manage.py verify_ledger`."
        )
    if isinstance(recorded_at, str):  # SQLite
        recorded_at = dt.datetime.fromisoformat(recorded_at)
    if recorded_at is not None and recorded_at.tzinfo is None:
        recorded_at = recorded_at.replace(tzinfo=dt.UTC)
    return CurrentAnchor(Anchor(position, head_hash), recorded_at)


@dataclasses.dataclass(frozen=True)
class Report:
    """The outcome: events checked, the head, and the first failure (if any)."""

    checked: int
    head_position: int
    head_hash: str
    failed_at: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.failed_at is None


def verify(
    *, expect: list[Anchor] | None = None, progress: Callable[[int], None] | None = None
) -> Report:
    """Walk every stored event in order, recomputing positions, links and hashes."""
    anchors = {anchor.position: anchor.hash for anchor in expect or []}
    prev_hash, expected_position, last_recorded = canonical.GENESIS_HASH, 1, None
    head_position, head_hash = store.head_state()
    for event in store.iter_stored():
        problem = _check(event, expected_position, prev_hash, last_recorded, anchors)
        if problem:
            return Report(event.position - 1, head_position, head_hash, event.position, problem)
        prev_hash, last_recorded = event.hash, event.recorded_at
        expected_position += 1
        if progress and event.position % 100_000 == 0:
            progress(event.position)
    checked = expected_position - 1
    if anchors.get(0, canonical.GENESIS_HASH) != canonical.GENESIS_HASH:
        return Report(
            checked,
            head_position,
            head_hash,
            0,
            f"is where every chain starts: its hash is {canonical.GENESIS_HASH}, not the "
            f"anchored {anchors[0]}",
        )
    missing = [position for position in anchors if position > checked]
    if missing:
        return Report(
            checked, head_position, head_hash, min(missing), "is anchored but not in the ledger"
        )
    if (checked, prev_hash) != (head_position, head_hash):
        return Report(
            checked,
            head_position,
            head_hash,
            head_position if head_position > checked else checked,
            f"is missing or differs: the head row says {head_position}:{head_hash} but the "
            f"events end at {checked}:{prev_hash}",
        )
    return Report(checked, head_position, head_hash)


def stored_bytes(event: store.RecordedEvent) -> bytes:
    """The canonical bytes of a stored event, as its hash was computed over them."""
    return canonical.event_bytes(
        position=event.position,
        stream=event.stream,
        version=event.version,
        type=event.type,
        schema_version=event.schema_version,
        data=event.data,
        metadata=event.metadata,
        effective_on=event.effective_on,
        recorded_at=event.recorded_at,
    )


def _check(
    event: store.RecordedEvent,
    expected_position: int,
    prev_hash: str,
    last_recorded: object,
    anchors: dict[int, str],
) -> str:
    if event.position != expected_position:
        return (
            f"follows position {expected_position - 1}: positions {expected_position}.. are missing"
        )
    if event.prev_hash != prev_hash:
        return "does not link to the previous event's hash"
    if canonical.chain_hash(prev_hash, stored_bytes(event)) != event.hash:
        return "has a hash that does not match its contents (changed after it was written)"
    if last_recorded is not None and event.recorded_at < last_recorded:  # type: ignore[operator]
        return "was recorded earlier than the event before it"
    if event.position in anchors and anchors[event.position] != event.hash:
        return f"has hash {event.hash}, not the anchored {anchors[event.position]}"
    return ""
