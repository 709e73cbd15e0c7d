"""The projection runner: catch up, rebuild beside the live generation, report status.

- **Catch-up** reads the events after the checkpoint in position order, in batches, and
  applies them in the same transaction that advances the checkpoint, holding the
  projection's state row lock: one runner per projection at a time, any number of
  workers, and a retried or duplicated task changes nothing twice. ``catch_up_all``
  catches every projection up in one transaction per batch (their state rows locked in
  name order, the ledger read once), so a round after an append costs one commit, not
  one per projection; a failure rolls that batch back and the projections go on one at
  a time, as ``catch_up`` does.
- **A failing event stops the projection at its position**: the batch is retried one
  event at a time, everything before the failing event is kept, and the error is
  recorded and shown (``projections_status``); it is never skipped.
- **Rebuild** writes a new generation from position 0, with a fresh projection instance
  (its own caches), committing its progress every batch, so a crash leaves the live
  generation untouched and the rebuild resumable; once caught up with the head it
  switches the live generation in one transaction and deletes the old rows. Readers see
  the old generation until the switch.
"""

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ledger import db, store
from ledger.models import ProjectionState
from ledger.projections import registry
from ledger.projections.base import Projection
from ledger.projections.live import live_generation as live_generation
from ledger.projections.live import live_state as live_state

log = logging.getLogger(__name__)

DEFAULT_BATCH = 1000


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


def catch_up(name: str, *, batch: int = DEFAULT_BATCH) -> int:
    """Apply every event after the checkpoint; returns how many were applied."""
    projection = registry.get(name)
    applied = 0
    while True:
        count, more = _catch_up_batch(projection, batch)
        applied += count
        if not more:
            return applied


def catch_up_all(*, batch: int = DEFAULT_BATCH) -> dict[str, int]:
    """Catch up every registered projection; returns how many events each applied.

    Each batch is one transaction for all of them (see the module docstring). A failing
    projection does not hold up the others: that transaction is rolled back whole, and
    every projection is then caught up on its own (``catch_up``), which stops the failing
    one at its event and takes the others to the head.
    """
    projections = [registry.get(name) for name in registry.names()]
    applied = dict.fromkeys((p.name for p in projections), 0)
    while projections:
        try:
            counts, more = _catch_up_together(projections, batch)
        except _BatchFailed:
            for projection in projections:
                applied[projection.name] += catch_up(projection.name, batch=batch)
            return applied
        for name, count in counts.items():
            applied[name] += count
        projections = [p for p in projections if p.name in more]
    return applied


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


def rebuild_many(
    names: Sequence[str],
    *,
    batch: int | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> int:
    """Rebuild several projections reading the ledger once: each batch feeds them all.

    Each keeps its own checkpoint and switches in the same transaction as the others once
    all have reached the head. Returns the number of events read.
    """
    names = sorted(set(names))  # a fixed lock order: two rebuilds never deadlock
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


def stale_rebuilds() -> list[str]:
    """Rebuilds whose runner stopped (no progress for a while): the sweep resumes them."""
    cutoff = timezone.now() - dt.timedelta(seconds=settings.PROJECTION_STALE_REBUILD_SECONDS)
    return list(
        ProjectionState.objects.filter(
            rebuild_generation__isnull=False, rebuild_heartbeat__lt=cutoff
        ).values_list("name", flat=True)
    )


def status() -> list[Status]:
    """Every registered projection against the ledger head."""
    head = store.head()
    rows = {row.name: row for row in ProjectionState.objects.all()}
    result = []
    for name in registry.names():
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
            )
        )
    return result


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
