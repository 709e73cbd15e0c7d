"""As-of views: fold the ledger, not the tables, through the same row functions.

``effective_on``: only events whose business date is on or before it ("as of" a date).
``known_at``: only events recorded by then ("as known at" a time; timezone-aware).
With both left out (or both now), each function returns exactly what the live selector
of ``consortium.projections.selectors`` returns once the projections have caught up.

``upto_position``: only events at or below that ledger position (what the ledger held
when its head was there). A report computes every figure at one position so that two
projections at different checkpoints never mix; with a date or a time as well, the view is
the one that position's ledger gave.

``overdue`` figures are derived for ``today``, which defaults to ``effective_on`` when
given (what was overdue on that date), else to the current date.

Cost: a view that covers every event of the stream (no date, or a date on or after the
stream's latest effective date, and no time or a time after its last recording, which
includes "now") is the stream's current fold, served by ``ledger.states`` (the
per-thread cache and the stored snapshot): it does not grow with history. Any other view
folds the stream's events from the start, since a back-dated event recorded last may be
the one that falls inside it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone

from consortium.domain.events import consortium_stream_id
from consortium.domain.state import (
    STATE_CODE_VERSION,
    CallState,
    ConsortiumState,
    fold_asset,
    is_visible,
)
from consortium.projections.figures import (
    TRACKER_CODE_VERSION,
    CapitalCall,
    ConsortiumTracker,
    FacilityRow,
    Ownership,
    PartnerPosition,
    PeriodCalendarRow,
    Progress,
    call_rows,
    consortium_holders,
    facility_rows,
    ownership_of,
    period_rows,
    position_rows,
    progress_of,
    read_calls,
    read_positions,
    signed_equity_of,
)
from consortium.streams import (
    asset_history,
    consortium_history,
    has_events_after,
    latest_effective_on,
    registered_assets,
    to_dated,
)
from ledger import states
from ledger.store import RecordedEvent, read_all, read_stream

_TRACKER_CODE = f"consortium-tracker-{STATE_CODE_VERSION}.{TRACKER_CODE_VERSION}"


def _fold_tracker(tracker: ConsortiumTracker, event: RecordedEvent) -> None:
    tracker.apply(to_dated(event), event.position)


def _tracker(
    slug: str,
    effective_on: dt.date | None,
    known_at: dt.datetime | None,
    upto_position: int | None = None,
) -> ConsortiumTracker:
    """The consortium's tracker in the view: the current fold when the view covers every
    event (read-only: it is the reader copy's own), else a fold from the start."""
    current = _current(slug, upto_position)
    if current is None:
        return _folded(slug, effective_on, known_at, upto_position)
    latest, recorded = current.state.last_effective_on, current.last_recorded_at
    if (effective_on is None or latest is None or latest <= effective_on) and (
        known_at is None or recorded is None or recorded <= known_at
    ):
        return current
    return _folded(slug, effective_on, known_at, upto_position)


def _current(slug: str, upto_position: int | None) -> ConsortiumTracker | None:
    """The stream's current fold (read-only), None when ``upto_position`` leaves out some
    of its events."""
    stream = consortium_stream_id(slug)
    if upto_position is not None and has_events_after(stream, upto_position):
        return None
    return states.load(
        stream,
        code_version=_TRACKER_CODE,
        initial=ConsortiumTracker,
        apply=_fold_tracker,
    ).state


def _folded(
    slug: str,
    effective_on: dt.date | None,
    known_at: dt.datetime | None,
    upto_position: int | None,
) -> ConsortiumTracker:
    tracker = ConsortiumTracker()
    for dated in consortium_history(slug, upto_position=upto_position):
        if is_visible(dated, as_of=effective_on, known_at=known_at):
            tracker.apply(dated)
    return tracker


def _today(today: dt.date | None, effective_on: dt.date | None) -> dt.date:
    if today is not None:
        return today
    return effective_on if effective_on is not None else timezone.now().date()


def consortium_as_of(
    slug: str,
    *,
    effective_on: dt.date | None = None,
    known_at: dt.datetime | None = None,
    upto_position: int | None = None,
) -> ConsortiumState:
    """The consortium's state folded from its stream as of a date / as known at a time.

    Read-only: when the view covers the whole stream it is the reader copy's state."""
    return _tracker(slug, effective_on, known_at, upto_position).state


def progress_as_of(
    slug: str,
    *,
    effective_on: dt.date | None = None,
    known_at: dt.datetime | None = None,
    upto_position: int | None = None,
) -> Progress | None:
    """Fundraising progress as of a date / as known at a time (None if not formed then)."""
    return progress_of(_tracker(slug, effective_on, known_at, upto_position))


def positions_as_of(
    slug: str,
    *,
    effective_on: dt.date | None = None,
    known_at: dt.datetime | None = None,
    today: dt.date | None = None,
    upto_position: int | None = None,
) -> list[PartnerPosition]:
    """Partner positions as of a date / as known at a time."""
    state = consortium_as_of(
        slug, effective_on=effective_on, known_at=known_at, upto_position=upto_position
    )
    return _positions(state, _today(today, effective_on))


def _positions(state: ConsortiumState, today: dt.date) -> list[PartnerPosition]:
    if state.slug is None:
        return []
    # Only an issued call with money owed can make anything overdue: the rest (settled,
    # drafts, cancelled) are skipped, so a long history of settled calls costs nothing.
    allocations = [
        a for call in state.calls.values() if _owed(call) for a in call_rows(state, call)[1]
    ]
    return read_positions(position_rows(state), allocations, today)


def _owed(call: CallState) -> bool:
    return call.status == "issued" and sum(call.contributed.values()) < call.amount_minor


def calls_as_of(
    slug: str,
    *,
    effective_on: dt.date | None = None,
    known_at: dt.datetime | None = None,
    today: dt.date | None = None,
    upto_position: int | None = None,
) -> list[CapitalCall]:
    """Capital calls and allocations as of a date / as known at a time."""
    state = consortium_as_of(
        slug, effective_on=effective_on, known_at=known_at, upto_position=upto_position
    )
    return _calls(state, _today(today, effective_on))


def _calls(state: ConsortiumState, today: dt.date) -> list[CapitalCall]:
    calls, allocations = [], []
    for call in state.calls.values():
        row, parts = call_rows(state, call)
        calls.append(row)
        allocations.extend(parts)
    return read_calls(calls, allocations, today)


@dataclass(frozen=True)
class ConsortiumAsOf:
    """What a consortium's dashboard shows, computed from one fold of its stream.

    ``open_calls``: the calls not settled or cancelled (draft, approved, issued or partly
    paid), as ``selectors.open_capital_calls`` reads them live. ``state``: the fold
    itself (read-only), for views that need more of it."""

    progress: Progress | None
    positions: list[PartnerPosition]
    open_calls: list[CapitalCall]
    facilities: list[FacilityRow]
    state: ConsortiumState


def consortium_view_as_of(
    slug: str,
    *,
    effective_on: dt.date | None = None,
    known_at: dt.datetime | None = None,
    today: dt.date | None = None,
    upto_position: int | None = None,
) -> ConsortiumAsOf:
    """Progress, positions, calls and facilities as of a date / as known at a time, from
    ONE fold (each ``*_as_of`` function folds anew; these equal theirs)."""
    tracker = _tracker(slug, effective_on, known_at, upto_position)
    return _view(tracker, _today(today, effective_on))


def consortium_views_as_of(
    slug: str,
    dates: Sequence[dt.date],
    *,
    upto_position: int | None = None,
    recorded: Sequence[RecordedEvent] | None = None,
    open_calls: bool = True,
) -> list[ConsortiumAsOf]:
    """``consortium_view_as_of(slug, effective_on=d, today=d, upto_position=...)`` for
    each date ``d``, from ONE read of the stream: each event is decoded once and folded
    into every view whose date it falls on or before (a date the current fold covers is
    served by it, as in ``consortium_view_as_of``). ``recorded``: the stream's events
    (at or below ``upto_position``), when the caller has read them already.
    ``open_calls=False`` leaves every view's ``open_calls`` empty, for a caller that does
    not read them (they cost a row per allocation of every unsettled call).

    For reports that need a consortium at several dates of one ledger position (a
    statement's opening and closing figures): the cost is one read and one decode of the
    history however many dates, and one fold per date."""
    # The current fold serves a date on or after the stream's latest effective date; it is
    # not loaded (a fold of the whole stream when no copy is kept) when none is.
    latest = latest_effective_on(consortium_stream_id(slug))
    served = latest is None or any(day >= latest for day in dates)
    current = _current(slug, upto_position) if served else None
    trackers: list[ConsortiumTracker | None] = [
        current if current is not None and _covers(current, day) else None for day in dates
    ]
    folds = {i: ConsortiumTracker() for i, tracker in enumerate(trackers) if tracker is None}
    if folds:
        if recorded is None:
            recorded = read_stream(consortium_stream_id(slug), upto_position=upto_position)
        for event in recorded:
            if upto_position is not None and event.position > upto_position:
                break
            dated = to_dated(event)
            for i, fold in folds.items():
                if dated.effective_on <= dates[i]:
                    fold.apply(dated, event.position)
    ready = [folds[i] if tracker is None else tracker for i, tracker in enumerate(trackers)]
    return [
        _view(tracker, day, open_calls=open_calls)
        for day, tracker in zip(dates, ready, strict=True)
    ]


def _covers(current: ConsortiumTracker, day: dt.date) -> bool:
    """Whether the current fold is the view as of ``day`` (nothing takes effect after it)."""
    latest = current.state.last_effective_on
    return latest is None or latest <= day


def _view(tracker: ConsortiumTracker, day: dt.date, *, open_calls: bool = True) -> ConsortiumAsOf:
    state = tracker.state
    open_ = ConsortiumState(
        slug=state.slug,
        base_currency=state.base_currency,
        calls={k: c for k, c in state.calls.items() if _open(c)} if open_calls else {},
    )
    return ConsortiumAsOf(
        progress=progress_of(tracker),
        positions=_positions(state, day),
        open_calls=_calls(open_, day),
        facilities=facility_rows(state) if state.slug is not None else [],
        state=state,
    )


def _open(call: CallState) -> bool:
    """Draft, approved, or issued and not settled."""
    return call.status in ("draft", "approved") or _owed(call)


def ownership_as_of(
    asset_id: str,
    *,
    effective_on: dt.date | None = None,
    known_at: dt.datetime | None = None,
    upto_position: int | None = None,
) -> Ownership | None:
    """Stakes and look-through as of a date / as known at a time (signed equity of each
    consortium holder taken in the same view)."""
    history = asset_history(asset_id, upto_position=upto_position)
    asset = fold_asset(history, as_of=effective_on, known_at=known_at)
    signed = {
        slug: signed_equity_of(
            consortium_as_of(
                slug, effective_on=effective_on, known_at=known_at, upto_position=upto_position
            )
        )
        for slug in consortium_holders(asset)
    }
    return ownership_of(asset, signed)


def facilities_as_of(
    slug: str,
    *,
    effective_on: dt.date | None = None,
    known_at: dt.datetime | None = None,
    upto_position: int | None = None,
) -> list[FacilityRow]:
    """Debt facilities (by facility id) as of a date / as known at a time."""
    state = consortium_as_of(
        slug, effective_on=effective_on, known_at=known_at, upto_position=upto_position
    )
    return facility_rows(state) if state.slug is not None else []


def consortium_assets_as_of(
    slug: str,
    *,
    effective_on: dt.date | None = None,
    known_at: dt.datetime | None = None,
    state: ConsortiumState | None = None,
    upto_position: int | None = None,
) -> list[Ownership]:
    """Ownership of every asset the consortium sponsored or held a stake in, in the view
    (by asset id). Every registered asset is folded in the view, and each consortium
    holding a stake once (``state``: this consortium's fold in the same view, if the
    caller has it): the cost grows with the assets and their events, as every as-of
    view's does."""
    signed: dict[str, dict[str, int]] = {}
    if state is not None and state.slug is not None:
        signed[state.slug] = signed_equity_of(state)
    found = []
    for asset_id in sorted(registered_assets(upto_position=upto_position)):
        history = asset_history(asset_id, upto_position=upto_position)
        asset = fold_asset(history, as_of=effective_on, known_at=known_at)
        for holder in consortium_holders(asset):
            if holder not in signed:
                held = consortium_as_of(
                    holder,
                    effective_on=effective_on,
                    known_at=known_at,
                    upto_position=upto_position,
                )
                signed[holder] = signed_equity_of(held)
        owned = ownership_of(asset, {h: signed[h] for h in consortium_holders(asset)})
        if owned is None:
            continue
        holders = {s.holder_id for s in owned.stakes if s.holder_kind == "consortium"}
        if owned.asset.sponsor == slug or slug in holders:
            found.append(owned)
    return found


def recorded_at_position(position: int) -> dt.datetime | None:
    """When the event at ``position`` was recorded (None beyond the ledger's head): "as
    known at position N" is the view as known at that moment. An append records its
    events at one moment, so the view includes the whole append N belongs to."""
    if position < 1:
        return None
    found = read_all(after=position - 1, limit=1)
    return found[0].recorded_at if found and found[0].position == position else None


# --- sealed periods ---


def period_calendar_as_of(
    slug: str, *, known_at: dt.datetime | None = None, upto_position: int | None = None
) -> list[PeriodCalendarRow]:
    """The period calendar as known at a time / at a position (closes are decisions, not
    dated business facts: the view is by what was recorded, never by effective date)."""
    state = consortium_as_of(slug, known_at=known_at, upto_position=upto_position)
    rows = period_rows(state)
    return sorted(rows, key=lambda r: (r.kind == "proposal", r.closing_date))
