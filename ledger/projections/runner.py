"""The projection runner: catch up, rebuild beside the live generation, report status.

- **Catch-up** reads the events after the checkpoint in position order, in batches, and
  applies them in the same transaction that advances the checkpoint, holding the
  projection's state row lock, so a retried or duplicated task changes nothing twice.
  ``catch_up_all`` catches every projection up in one transaction per batch (their state
  rows locked in name order, the ledger read once), so a round after an append costs one
  commit, not one per projection; a failure rolls that batch back and the projections go
  on one at a time, as ``catch_up`` does.
- **One runner per projection, for the whole backlog** (``_exclusive``). The row lock is
  taken per batch, so on its own it lets two workers take turns batch by batch, each
  throwing away and re-reading the in-memory state the other has just moved (a backlog
  then took several times longer with two workers than with one). So a runner first
  takes the projection for the length of its run: on PostgreSQL a *session* advisory
  lock per projection (``pg_try_advisory_lock``, key space 'proj', the name's hash),
  which outlives the per-batch commits and dies with the session, so a killed worker
  never leaves a projection taken. (``SELECT ... FOR UPDATE SKIP LOCKED`` on the state
  row would need one transaction for the whole run, and the run commits every batch.)
  Elsewhere (SQLite, one process) a per-process lock per projection does the same. A
  runner that finds a projection taken leaves it to its holder and returns at once,
  saying so (``CatchUp.busy``); it takes the ones that are free. The row lock stays: it
  is what makes a batch correct, the session lock only what makes the work efficient.
  Session locks need a session: behind a pooler, use session pooling for the workers.
- **No lost wake-up.** A trigger whose runner found the projection taken relies on the
  holder to see its events. The holder re-reads the ledger head before it lets go (and
  goes on while it moved), and once more after letting go: an append whose trigger found
  the projection taken committed before that trigger asked, hence before the holder let
  go, hence before that last read; if the head moved, the runner takes the projections
  again (or finds a new holder, which read the head after taking them).
- **A failing event stops the projection at its position**: the batch is retried one
  event at a time, everything before the failing event is kept, and the error is
  recorded and shown (``projections_status``); it is never skipped.
- **Rebuild** writes a new generation from position 0, with a fresh projection instance
  (its own caches), committing its progress every batch, so a crash leaves the live
  generation untouched and the rebuild resumable; once caught up with the head it
  switches the live generation in one transaction and deletes the old rows. Readers see
  the old generation until the switch. **One rebuild of a projection at a time**: a
  rebuild folds into a builder in its own memory, so a second one resuming the same
  generation (a message redelivered after the broker's visibility timeout, meeting the
  one the sweep resumed) would write rows from a fold that missed the other's batches.
  A rebuild takes its projections as a catch-up does (key space 'rbld'), and one that
  finds any of them taken appends nothing and raises ``RebuildBusy``.
"""

import collections
import contextlib
import dataclasses
import datetime as dt
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ParamSpec, TypeVar

import psycopg
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from ledger import db, speed, store
from ledger.gc_pause import gc_paused
from ledger.models import ProjectionState
from ledger.projections import registry
from ledger.projections.base import Projection
from ledger.projections.live import live_generation as live_generation
from ledger.projections.live import live_state as live_state

log = logging.getLogger(__name__)

DEFAULT_BATCH = 1000

P = ParamSpec("P")
R = TypeVar("R")


@dataclasses.dataclass(frozen=True)
class Progress:
    """A rebuild's progress, for a progress line or a task's state."""

    name: str
    done: int
    head: int
    per_second: float

    @property
    def seconds_left(self) -> float | None:
        if self.per_second <= 0:
            return None
        return max(self.head - self.done, 0) / self.per_second


@dataclasses.dataclass(frozen=True)
class Status:
    """One projection's standing against the ledger head."""

    name: str
    checkpoint: int
    head: int
    generation: int
    lag_events: int
    lag_seconds: float
    last_error: str
    error_position: int | None
    rebuilding: bool
    rebuild_checkpoint: int
    rebuild_generation: int | None = None
    rebuild_started_at: dt.datetime | None = None
    rebuild_heartbeat: dt.datetime | None = None
    # Which runners hold the projection now ("catching up", "rebuilding", both, or none:
    # idle); None when not asked (``status(held=True)`` asks).
    held_by: tuple[str, ...] | None = None

    @property
    def stopped(self) -> bool:
        """Stopped on an event that fails (never skipped: fix the code, it resumes)."""
        return self.error_position is not None

    @property
    def rebuild_stale(self) -> bool:
        """A rebuild whose runner stopped making progress (the sweep resumes it)."""
        if not self.rebuilding or self.rebuild_heartbeat is None:
            return False
        return self.rebuild_heartbeat < _stale_cutoff()

    def state(self) -> str:
        """Its state in a few words: stopped, rebuilding (and how far), catching up, ok."""
        if self.stopped:
            return f"STOPPED at {self.error_position}: {self.last_error}"
        if self.rebuilding:
            stale = ", stalled: the sweep resumes it" if self.rebuild_stale else ""
            return (
                f"rebuilding generation {self.rebuild_generation} "
                f"(at {self.rebuild_checkpoint:,} of {self.head:,}{stale})"
            )
        return "ok" if self.lag_events == 0 else "catching up"


def _state(name: str) -> ProjectionState:
    """The projection's state row, locked for this transaction (created if missing).

    Raw SQL: a catch-up round runs this for every projection, and the ORM's query
    building cost more than the query.
    """
    if connection.vendor == "postgresql":  # elsewhere values need the ORM's converters
        with connection.cursor() as cursor:
            cursor.execute(_LOCK_STATE, [name])
            row = cursor.fetchone()
        if row is not None:
            return ProjectionState.from_db(connection.alias, _STATE_FIELDS, row)
    ProjectionState.objects.get_or_create(name=name)
    return ProjectionState.objects.select_for_update().get(name=name)


_STATE_FIELDS = [field.attname for field in ProjectionState._meta.concrete_fields]
_LOCK_STATE = (
    f"SELECT {', '.join(_STATE_FIELDS)} FROM ledger_projection_state "  # noqa: S608
    "WHERE name = %s FOR UPDATE"
)


def _states(names: Sequence[str]) -> dict[str, ProjectionState]:
    """The projections' state rows, locked in name order (created if missing): one
    statement on PostgreSQL when every row exists."""
    if connection.vendor == "postgresql":
        raw: Any = db.connected()  # health-checked, as Django's cursors are
        with psycopg.Cursor(raw) as cursor:
            cursor.execute(_LOCK_STATES, [sorted(names)])
            rows = cursor.fetchall()
        if len(rows) == len(set(names)):
            found = [ProjectionState.from_db(connection.alias, _STATE_FIELDS, r) for r in rows]
            return {state.name: state for state in found}
    return {name: _state(name) for name in sorted(names)}


_LOCK_STATES = (
    f"SELECT {', '.join(_STATE_FIELDS)} FROM ledger_projection_state "  # noqa: S608
    "WHERE name = ANY(%s::text[]) ORDER BY name FOR UPDATE"
)


def next_generation(name: str) -> int:
    """The generation a rebuild requested now will produce (the one in progress, if any)."""
    row = ProjectionState.objects.filter(name=name).first()
    if row is None:
        return 2
    return row.rebuild_generation or row.generation + 1


@dataclasses.dataclass(frozen=True)
class CatchUp:
    """What one ``catch_up_all`` call did."""

    applied: dict[str, int]  # events applied per projection by this call
    busy: tuple[str, ...]  # taken by another runner when asked: left to it
    passes: int  # times this call took the projections (more than one: the head moved)
    unfinished: bool = False  # stopped at ``max_rounds`` with the head still moving


def catch_up(name: str, *, batch: int = DEFAULT_BATCH, wait: bool = False) -> int:
    """Apply every event after the checkpoint; returns how many were applied (0 when
    another runner has the projection: it will apply them)."""
    return catch_up_all(batch=batch, names=[name], wait=wait).applied[name]


def catch_up_all(
    *,
    batch: int = DEFAULT_BATCH,
    names: Sequence[str] | None = None,
    wait: bool = False,
    pace: float = 0.0,
    max_rounds: int | None = None,
) -> CatchUp:
    """Catch up every registered projection (or ``names``) that no other runner has.

    Each batch is one transaction for all of them (see the module docstring). A failing
    projection does not hold up the others: that transaction is rolled back whole, and
    every projection is then caught up on its own, which stops the failing one at its
    event and takes the others to the head.

    A projection another runner has is left to it (``busy``) and this call returns at
    once, unless ``wait`` (the embedded default, where a request should read its own
    write): then it waits its turn. A round takes the projections to the head as read
    when it started; while appends keep moving the head, rounds follow one another, at
    least ``pace`` seconds apart (so they fold several appends each), and at most
    ``max_rounds`` of them: then the call lets go and says it is ``unfinished``, for the
    caller to queue the rest (a worker is not held indefinitely by a steady stream).
    """
    wanted = sorted(set(names or registry.names()))
    applied = dict.fromkeys(wanted, 0)
    busy: tuple[str, ...] = ()
    passes = rounds = 0
    limit = max_rounds or 0
    while wanted:
        started = time.monotonic()
        with _exclusive(wanted, wait=wait) as held:
            if passes == 0:
                busy = tuple(name for name in wanted if name not in held)
            if not held:
                break
            passes += 1
            while True:  # before letting go: go on while the head has moved
                seen = store.head()
                _catch_up_held([registry.get(name) for name in held], batch, applied)
                rounds += 1
                if store.head() == seen or rounds == limit:
                    break
                _pause(started, pace)
                started = time.monotonic()
        if store.head() == seen:  # read after letting go (see the module docstring)
            break
        if rounds == limit:
            return CatchUp(applied, busy, passes, unfinished=True)
        wanted = held
        _pause(started, pace)
    return CatchUp(applied, busy, passes)


def _pause(started: float, pace: float) -> None:
    wait = started + pace - time.monotonic()
    if wait > 0:
        time.sleep(wait)


def _catch_up_held(projections: Sequence[Projection], batch: int, applied: dict[str, int]) -> None:
    """Take ``projections`` (held by this runner) to the head as read by their last batch."""
    while projections:
        try:
            counts, more = _catch_up_together(projections, batch)
        except _BatchFailed:
            for projection in projections:
                while True:
                    count, more_for_one = _catch_up_batch(projection, batch)
                    applied[projection.name] += count
                    if not more_for_one:
                        break
            return
        for name, count in counts.items():
            applied[name] += count
        projections = [p for p in projections if p.name in more]


# The first key of the runners' advisory locks ('proj'; the ledger's stream locks use
# 'ledg'); the second is the projection name's hash.
_LOCK_SPACE = 0x70726F6A
_REBUILD_SPACE = 0x72626C64  # 'rbld': a rebuild's hold, beside the live runner's
_process_locks: dict[tuple[int, str], threading.RLock] = {}
_process_locks_guard = threading.Lock()
_process_holds: collections.Counter[tuple[int, str]] = collections.Counter()  # for ``held_by``


@contextlib.contextmanager
def _exclusive(
    names: Sequence[str], *, wait: bool, space: int = _LOCK_SPACE
) -> Iterator[list[str]]:
    """Take the projections ``names`` for this runner (in name order): yields those it
    got, and lets them go on leaving. Without ``wait``, one taken by another runner is
    skipped at once; with it, waited for. ``space``: the live runners' holds, or the
    rebuilds'."""
    names = sorted(names)
    if connection.vendor == "postgresql":
        held = _take_advisory(names, wait=wait, space=space)
        try:
            yield held
        finally:
            _let_go_advisory(held, space=space)
        return
    locks: list[threading.RLock] = []
    with _process_locks_guard:
        for name in names:
            locks.append(_process_locks.setdefault((space, name), threading.RLock()))
    got = [lock.acquire(blocking=wait) for lock in locks]
    taken = [(space, name) for name, ok in zip(names, got, strict=True) if ok]
    with _process_locks_guard:
        _process_holds.update(taken)
    try:
        yield [name for _, name in taken]
    finally:
        with _process_locks_guard:
            _process_holds.subtract(taken)
        for lock, ok in zip(locks, got, strict=True):
            if ok:
                lock.release()


def _take_advisory(names: Sequence[str], *, wait: bool, space: int = _LOCK_SPACE) -> list[str]:
    with connection.cursor() as cursor:
        if wait:
            for name in names:
                cursor.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", [space, name])
            return list(names)
        cursor.execute(
            "SELECT name FROM unnest(%s::text[]) WITH ORDINALITY AS n(name, i) "
            "WHERE pg_try_advisory_lock(%s, hashtext(name)) ORDER BY i",
            [list(names), space],
        )
        return [row[0] for row in cursor.fetchall()]


def _let_go_advisory(names: Sequence[str], *, space: int = _LOCK_SPACE) -> None:
    if not names:
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_unlock(%s, hashtext(name)) FROM unnest(%s::text[]) AS name",
                [space, list(names)],
            )
    except DatabaseError as error:
        # A session lock outlives a failed transaction: end the session so it goes too.
        log.warning("Could not let go of projections %s (%s); closing the session.", names, error)
        if not connection.in_atomic_block:
            connection.close()


class RebuildBusy(Exception):
    """Another runner is rebuilding these projections; this rebuild did nothing."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)
        super().__init__(
            f"{', '.join(self.names)} {'is' if len(self.names) == 1 else 'are'} being "
            "rebuilt by another runner (a worker, or another rebuild_projections); "
            "nothing was done here. projections_status shows its progress."
        )


class _BatchFailed(Exception):
    """A projection failed in a shared batch, which was rolled back."""


def _catch_up_together(
    projections: Sequence[Projection], limit: int
) -> tuple[dict[str, int], set[str]]:
    """One batch for several projections in one transaction: the events applied per
    projection, and the projections with more to do.

    No savepoint per projection (two round trips each): should one fail, the whole
    batch is rolled back, every projection forgets its in-memory state, and
    ``_BatchFailed`` is raised for the caller to go one projection at a time.
    """
    counts: dict[str, int] = {}
    more_for: set[str] = set()
    try:
        with transaction.atomic():
            states = _states([p.name for p in projections])
            after = min(state.checkpoint for state in states.values())
            events, checkpoint, more = _batch_of(_union(projections), after, limit)
            advanced: list[ProjectionState] = []
            for projection in projections:
                state = states[projection.name]
                if more:
                    more_for.add(projection.name)
                if checkpoint <= state.checkpoint:  # ahead of this batch (or at the head)
                    continue
                kinds = projection.event_types
                mine = [
                    e
                    for e in events
                    if e.position > state.checkpoint and (kinds is None or e.type in kinds)
                ]
                if mine:
                    projection.apply(mine, generation=state.generation, after=state.checkpoint)
                counts[projection.name] = len(mine)
                state.checkpoint = checkpoint
                advanced.append(state)
            _advance_all(advanced)
    except Exception as error:  # any failure: the batch is retried one projection at a time
        for projection in projections:
            projection.forget()
        raise _BatchFailed from error
    return counts, more_for


def _union(projections: Sequence[Projection]) -> frozenset[str] | None:
    """Every event type the projections handle (None: all types)."""
    wanted: frozenset[str] = frozenset()
    for projection in projections:
        if projection.event_types is None:
            return None
        wanted |= projection.event_types
    return wanted


def _catch_up_batch(projection: Projection, limit: int) -> tuple[int, bool]:
    with transaction.atomic():
        state = _state(projection.name)
        events, checkpoint, more = _batch_of(projection.event_types, state.checkpoint, limit)
        if checkpoint <= state.checkpoint:
            return 0, False
        failed = _apply(projection, events, state.generation, state.checkpoint)
        if failed is None:
            _advance(state, checkpoint)
            return len(events), more
    _record_failure(projection, state.generation, state.checkpoint, events)
    return 0, False


def _apply(
    projection: Projection, events: Sequence[store.RecordedEvent], generation: int, after: int
) -> Exception | None:
    try:
        with transaction.atomic():
            if events:
                projection.apply(events, generation=generation, after=after)
    except Exception as error:  # any failure stops the projection; it is recorded below
        projection.forget()
        return error
    return None


def _advance(state: ProjectionState, checkpoint: int) -> None:
    """Move the (locked) checkpoint on and clear any recorded error."""
    state.checkpoint = checkpoint
    state.last_error, state.error_position, state.error_at = "", None, None
    state.updated_at = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_projection_state SET checkpoint = %s, last_error = '', "
            "error_position = NULL, error_at = NULL, updated_at = %s WHERE name = %s",
            [checkpoint, state.updated_at, state.name],
        )


def _advance_all(states: Sequence[ProjectionState]) -> None:
    """``_advance`` for several (locked) states at their new checkpoints: one statement
    on PostgreSQL."""
    if connection.vendor != "postgresql" or len(states) < 2:
        for state in states:
            _advance(state, state.checkpoint)
        return
    now = timezone.now()
    for state in states:
        state.last_error, state.error_position, state.error_at = "", None, None
        state.updated_at = now
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_projection_state AS s SET checkpoint = u.checkpoint, "
            "last_error = '', error_position = NULL, error_at = NULL, updated_at = %s "
            "FROM unnest(%s::text[], %s::bigint[]) AS u(name, checkpoint) WHERE s.name = u.name",
            [now, [s.name for s in states], [s.checkpoint for s in states]],
        )


def _record_failure(
    projection: Projection, generation: int, after: int, events: Sequence[store.RecordedEvent]
) -> None:
    """Apply the failed batch one event at a time: keep what works, stop at what fails."""
    for event in events:
        with transaction.atomic():
            state = _state(projection.name)
            if state.checkpoint != after or state.generation != generation:
                return  # another runner moved on; it will meet the error itself
            error = _apply(projection, [event], generation, after)
            if error is None:
                _advance(state, event.position)
                after = event.position
                continue
            state.last_error = f"{type(error).__name__}: {error}"
            state.error_position, state.error_at = event.position, timezone.now()
            state.save()
            log.error(
                "Projection %s stopped at position %s: %s", projection.name, event.position, error
            )
            return


def rebuild(
    name: str, *, batch: int | None = None, progress: Callable[[Progress], None] | None = None
) -> int:
    """Build a new generation from position 0 and switch to it; resumes an interrupted one.

    Returns the number of events applied by this call.
    """
    return rebuild_many([name], batch=batch, progress=progress)


def _collector_paused(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` with the garbage collector paused (``rebuild-gc-pause``).

    A rebuild keeps every stream's folded state in memory (hundreds of thousands of small
    objects, none of them garbage until it ends) and makes as many again per batch; left
    running, the collector walks that state over and over. Reference counting still frees
    everything a batch drops; only reference cycles wait for the collection that follows
    the rebuild, after its builders are gone.
    """

    @functools.wraps(function)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        if not speed.enabled("rebuild-gc-pause"):
            return function(*args, **kwargs)
        with gc_paused():
            return function(*args, **kwargs)

    return paused


@_collector_paused
def rebuild_many(
    names: Sequence[str],
    *,
    batch: int | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> int:
    """Rebuild several projections reading the ledger once: each batch feeds them all.

    Each keeps its own checkpoint and switches in the same transaction as the others once
    all have reached the head. Returns the number of events read. Raises ``RebuildBusy``,
    having done nothing, when another runner is rebuilding any of them.
    """
    names = sorted(set(names))  # a fixed lock order: two rebuilds never deadlock
    with _exclusive(names, wait=False, space=_REBUILD_SPACE) as held:
        if held != names:
            raise RebuildBusy([name for name in names if name not in held])
        return _rebuild_held(names, batch, progress)


def _rebuild_held(
    names: list[str], batch: int | None, progress: Callable[[Progress], None] | None
) -> int:
    batch = min(batch or settings.PROJECTION_REBUILD_BATCH, store.MAX_READ_LIMIT)
    lives = {name: registry.get(name) for name in names}
    builders = {name: type(live)() for name, live in lives.items()}
    generations = {name: _start_rebuild(name, builders[name]) for name in names}
    wanted: frozenset[str] | None = frozenset()
    for live in lives.values():
        kinds = live.event_types
        wanted = None if wanted is None or kinds is None else wanted | kinds
    started, read, old = time.monotonic(), 0, {}
    while True:
        with transaction.atomic():
            states = {name: _state(name) for name in names}
            for name, state in states.items():
                if state.rebuild_generation != generations[name]:
                    raise RuntimeError(f"The rebuild of {name} was superseded; nothing switched.")
            after = min(state.rebuild_checkpoint for state in states.values())
            events, checkpoint, more = _batch_of(wanted, after, batch)
            read += len(events)
            for name, state in states.items():
                _feed(builders[name], state, events, checkpoint)
                if not more:
                    old[name] = state.generation
                    state.generation, state.checkpoint = generations[name], checkpoint
                    state.rebuild_generation = None
                    state.last_error, state.error_position, state.error_at = "", None, None
                state.save()
        if progress:
            rate = read / max(time.monotonic() - started, 1e-9)
            progress(Progress(", ".join(names), checkpoint, store.head(), rate))
        if not more:
            break
    for name, live in lives.items():
        with transaction.atomic():
            live.reset(old[name])
        live.forget()
    return read


def _batch_of(
    types: frozenset[str] | None, after: int, limit: int
) -> tuple[list[store.RecordedEvent], int, bool]:
    """The next events to apply, the checkpoint after them, and whether more remain."""
    ceiling = store.head()
    events = [
        event
        for event in store.read_all(after=after, limit=limit, types=types)
        if event.position <= ceiling
    ]
    if len(events) == limit:
        return events, events[-1].position, True
    return events, ceiling, False


def _feed(
    builder: Projection,
    state: ProjectionState,
    events: Sequence[store.RecordedEvent],
    checkpoint: int,
) -> None:
    """Apply to one builder the events past its own rebuild checkpoint."""
    types = builder.event_types
    mine = [
        event
        for event in events
        if event.position > state.rebuild_checkpoint and (types is None or event.type in types)
    ]
    if mine:
        builder.apply(
            mine, generation=state.rebuild_generation or 0, after=state.rebuild_checkpoint
        )
    state.rebuild_checkpoint = max(checkpoint, state.rebuild_checkpoint)
    state.rebuild_heartbeat = timezone.now()


def _start_rebuild(name: str, builder: Projection) -> int:
    with transaction.atomic():
        state = _state(name)
        if state.rebuild_generation is None:
            state.rebuild_generation = state.generation + 1
            state.rebuild_checkpoint = 0
            state.rebuild_started_at = timezone.now()
            builder.reset(state.rebuild_generation)  # leftovers of an abandoned attempt
        state.rebuild_heartbeat = timezone.now()
        state.save()
        return state.rebuild_generation


def _stale_cutoff() -> dt.datetime:
    """A rebuild with no heartbeat since this moment has stopped making progress."""
    return timezone.now() - dt.timedelta(seconds=settings.PROJECTION_STALE_REBUILD_SECONDS)


def stale_rebuilds() -> list[str]:
    """Rebuilds whose runner stopped (no progress for a while): the sweep resumes them."""
    return list(
        ProjectionState.objects.filter(
            rebuild_generation__isnull=False, rebuild_heartbeat__lt=_stale_cutoff()
        ).values_list("name", flat=True)
    )


def status(*, held: bool = False) -> list[Status]:
    """Every registered projection against the ledger head; with ``held``, also which
    runners hold each one right now (``held_by``; one more query)."""
    head = store.head()
    rows = {row.name: row for row in ProjectionState.objects.all()}
    names = registry.names()
    holders = held_by(names) if held else {}
    result = []
    for name in names:
        row = rows.get(name) or ProjectionState(name=name)
        result.append(
            Status(
                name=name,
                checkpoint=row.checkpoint,
                head=head,
                generation=row.generation,
                lag_events=max(head - row.checkpoint, 0),
                lag_seconds=_lag_seconds(row.checkpoint, head),
                last_error=row.last_error,
                error_position=row.error_position,
                rebuilding=row.rebuild_generation is not None,
                rebuild_checkpoint=row.rebuild_checkpoint,
                rebuild_generation=row.rebuild_generation,
                rebuild_started_at=row.rebuild_started_at,
                rebuild_heartbeat=row.rebuild_heartbeat,
                held_by=holders.get(name, ()) if held else None,
            )
        )
    return result


_HOLDERS = {_LOCK_SPACE: "catching up", _REBUILD_SPACE: "rebuilding"}


def held_by(names: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Which runners hold each of ``names`` now ("catching up", "rebuilding"), in any
    process: PostgreSQL's advisory locks of this database (``_exclusive``); on SQLite this
    process's locks, which are all there are (one process)."""
    found: dict[str, list[str]] = {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_HELD_BY, [list(names), list(_HOLDERS)])
            for name, space in cursor.fetchall():
                found.setdefault(name, []).append(_HOLDERS[space])
    else:
        with _process_locks_guard:
            holds = [key for key, count in _process_holds.items() if count > 0]
        for space, name in holds:
            if name in names:
                found.setdefault(name, []).append(_HOLDERS[space])
    return {name: tuple(sorted(holders)) for name, holders in found.items()}


# An advisory lock on two int4 keys shows in pg_locks as classid (the first), objid (the
# second, as an unsigned oid) and objsubid 2; other databases' locks are theirs.
_HELD_BY = (
    "SELECT n.name, l.classid::bigint FROM unnest(%s::text[]) AS n(name) "
    "JOIN pg_locks l ON l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND l.objid::bigint = (hashtext(n.name)::bigint & 4294967295) "
    "WHERE l.classid::bigint = ANY(%s::bigint[])"
)


def _lag_seconds(checkpoint: int, head: int) -> float:
    """How long the oldest event not yet applied has been waiting."""
    if checkpoint >= head:
        return 0.0
    (oldest,) = store.read_all(after=checkpoint, limit=1)
    return max((timezone.now() - oldest.recorded_at).total_seconds(), 0.0)


def wait_for(position: int, *, names: Sequence[str] | None = None, timeout: float = 1.0) -> bool:
    """Wait until the projections have applied ``position``; False on timeout.

    Read-your-writes for the API: pass the position a write returned.
    """
    wanted = list(names or registry.names())
    deadline = time.monotonic() + timeout
    while True:
        reached = ProjectionState.objects.filter(name__in=wanted, checkpoint__gte=position).count()
        if reached == len(wanted):
            return True
        if time.monotonic() >= deadline:
            return False
        if connection.in_atomic_block:
            return False  # inside a transaction nothing new can become visible
        time.sleep(0.01)
