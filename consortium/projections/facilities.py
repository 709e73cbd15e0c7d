"""Debt-facility rows of the ``consortium`` projection (per consortium and facility)."""

from __future__ import annotations

from typing import Any

from consortium.models import DebtFacilityRow
from consortium.projections.cache import Entry
from consortium.projections.common import row_values, slug_of
from consortium.projections.figures import ConsortiumTracker, facility_row
from ledger.projections.base import Keys, Replacement


def rows(touched: dict[str, Entry[Any]], generation: int, after: int) -> Replacement:
    """The rows of the facilities the batch changed, to replace theirs. As with capital
    calls, only the facilities an event of the batch arranged, drew on or repaid are
    rewritten, each reflecting the last event that changed it (``position``)."""
    keys: list[tuple[str, str]] = []
    found: list[dict[str, Any]] = []
    for stream, entry in touched.items():
        tracker: ConsortiumTracker = entry.tracker
        changed = sorted(f for f, pos in tracker.facility_positions.items() if pos > after)
        if not changed:
            continue
        slug = slug_of(stream)
        state = tracker.state
        for facility_id in changed:
            keys.append((slug, facility_id))
            found.append(
                row_values(
                    facility_row(state, state.facilities[facility_id]),
                    generation=generation,
                    position=tracker.facility_positions[facility_id],
                    consortium=slug,
                )
            )
    if not found:
        return Replacement()
    return Replacement(
        (Keys(DebtFacilityRow, ("consortium", "facility_id"), keys),),
        ((DebtFacilityRow, found),),
    )
