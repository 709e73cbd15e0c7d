"""Period-calendar rows of the ``consortium`` projection (sealed periods): per consortium,
the closes in force and a pending proposal to reopen, rewritten whenever a batch holds
an event that changes them (``ConsortiumTracker.period_position``)."""

from __future__ import annotations

from typing import Any

from consortium.models import PeriodRow
from consortium.projections.cache import Entry
from consortium.projections.common import row_values, slug_of
from consortium.projections.figures import ConsortiumTracker, period_rows
from ledger.projections.base import Keys, Replacement


def rows(touched: dict[str, Entry[Any]], generation: int, after: int) -> Replacement:
    """The calendars the batch changed, each reflecting its last period event."""
    keys: list[tuple[str, ...]] = []
    found: list[dict[str, Any]] = []
    for stream, entry in touched.items():
        tracker: ConsortiumTracker = entry.tracker
        if tracker.period_position <= after:
            continue
        slug = slug_of(stream)
        keys.append((slug,))
        found.extend(
            row_values(
                row, generation=generation, position=tracker.period_position, consortium=slug
            )
            for row in period_rows(tracker.state)
        )
    if not keys:
        return Replacement()
    return Replacement((Keys(PeriodRow, ("consortium",), keys),), ((PeriodRow, found),))
