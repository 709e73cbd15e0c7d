"""In-memory folded states per stream, so a projection's per-event work stays tiny.

A projection keeps one ``StreamStates`` per live generation it writes. Each entry is a
*tracker* (a domain state plus whatever the projection folds beside it), the stream
version and the ledger position of the last event applied to it. An event is folded into
its stream's tracker in O(1); at the end of a batch the projection recomputes rows only
for the streams the batch touched.

The cache is never trusted over the ledger:

- ``begin(generation, after)``: a cache for another generation, or one that is ahead of
  ``after`` (a batch rolled back after ``apply`` returned), is dropped. When it is behind
  ``after`` (the runner moved the checkpoint over other events, or another worker applied
  a batch), one query asks whether any event of the projection's types lies in between;
  if one does, the cache is dropped.
- A stream missing from the cache is loaded by folding its events (of the projection's
  types) up to the position needed; a stream's first event (version 1) needs no read.
- With ``contiguous`` (the projection handles every type of that stream), an event whose
  version does not follow the entry's reloads the entry first.

Every ``StreamStates`` of the process is one registered cache (``ledger.caches``):
``caches.clear()`` empties them all. Each keeps at most ``STREAMS_KEPT`` streams, checked
as a batch begins (an entry dropped then is loaded again when its stream next appears),
so a batch never loses the entries it is building.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from consortium.domain.events import DatedEvent
from consortium.streams import to_dated
from ledger import caches
from ledger.store import RecordedEvent, read_all, read_stream

STREAMS_KEPT = 10_000  # per StreamStates: far above the streams a batch touches


class Tracker(Protocol):
    def apply(self, dated: DatedEvent, position: int = 0) -> None: ...


T = TypeVar("T", bound=Tracker)


@dataclass(slots=True)
class Entry(Generic[T]):
    tracker: T
    version: int = 0
    position: int = 0  # the last event of the projection's types applied (0: none)


class StreamStates(Generic[T]):
    def __init__(
        self, factory: Callable[[], T], types: Collection[str], *, contiguous: bool
    ) -> None:
        self.factory = factory
        self.types = frozenset(types)
        self.contiguous = contiguous
        self.generation: int | None = None
        self.upto = 0
        self.entries: dict[str, Entry[T]] = {}
        with _every_guard:
            _every.add(self)

    def clear(self) -> None:
        self.entries.clear()
        self.generation = None
        self.upto = 0

    def begin(self, generation: int, after: int, types: Collection[str] | None = None) -> None:
        """Make the cache reflect exactly the events up to ``after`` (lazily)."""
        if generation != self.generation or self.upto > after or len(self.entries) > STREAMS_KEPT:
            self.clear()
        elif self.upto < after:
            following = read_all(after=self.upto, limit=1, types=types or self.types)
            if following and following[0].position <= after:
                self.entries.clear()
        self.generation, self.upto = generation, after

    def end(self, position: int) -> None:
        """The batch up to ``position`` has been applied."""
        self.upto = position

    def apply(self, event: RecordedEvent) -> Entry[T]:
        """Fold one event into its stream's entry (loading the entry first if needed)."""
        entry = self.entries.get(event.stream)
        if entry is None or (self.contiguous and entry.version != event.version - 1):
            entry = self.load(event.stream, before=event.position, first=event.version == 1)
        entry.tracker.apply(to_dated(event), event.position)
        entry.version, entry.position = event.version, event.position
        return entry

    def get(self, stream: str, upto: int) -> Entry[T]:
        """The entry of a stream as of ``upto`` (for a stream the batch did not touch)."""
        entry = self.entries.get(stream)
        return entry if entry is not None else self.load(stream, before=upto + 1)

    def load(self, stream: str, *, before: int, first: bool = False) -> Entry[T]:
        """Fold the stream's events of our types with a position below ``before``."""
        entry: Entry[T] = Entry(self.factory())
        if not first:
            for event in read_stream(stream):
                if event.position >= before:
                    break
                entry.version = event.version
                if event.type in self.types:
                    entry.tracker.apply(to_dated(event), event.position)
                    entry.position = event.position
        self.entries[stream] = entry
        return entry


_every: weakref.WeakSet[StreamStates[Any]] = weakref.WeakSet()
_every_guard = threading.Lock()


def _all() -> list[StreamStates[Any]]:
    with _every_guard:
        return list(_every)


def _clear_every() -> None:
    for states in _all():
        states.clear()


caches.register(
    "projection-stream-states",
    holds="each projection's folded state per stream, as of its checkpoint",
    bound=f"{STREAMS_KEPT} streams per projection state, checked as a batch begins",
    moves="bench/projections.py: catch-up lag and rebuild events per second",
    clear=_clear_every,
    size=lambda: sum(len(states.entries) for states in _all()),
)
