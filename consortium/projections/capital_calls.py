"""Capital-call rows of the ``consortium`` projection (per call and allocation).

``overdue`` is derived on read, never stored.
"""

from __future__ import annotations

from typing import Any

from consortium.models import CapitalCallAllocationRow, CapitalCallRow
from consortium.projections.cache import Entry
from consortium.projections.common import (
    row_values,
    slug_of,
)
from consortium.projections.figures import ConsortiumTracker, call_rows
from ledger.projections.base import Keys, Replacement


def rows(touched: dict[str, Entry[Any]], generation: int, after: int) -> Replacement:
    """The rows of the calls the batch changed, to replace theirs. Only the calls that an
    event of the batch changed are rewritten (a consortium's history of calls grows
    without bound); each call's rows reflect the last event that changed that call
    (``position``), whatever the batch boundaries."""
    keys: list[tuple[str, str]] = []
    calls: list[dict[str, Any]] = []
    allocations: list[dict[str, Any]] = []
    for stream, entry in touched.items():
        tracker: ConsortiumTracker = entry.tracker
        changed = sorted(cid for cid, pos in tracker.call_positions.items() if pos > after)
        if not changed:
            continue
        slug = slug_of(stream)
        keys.extend((slug, call_id) for call_id in changed)
        for call_id in changed:
            call, parts = call_rows(tracker.state, tracker.state.calls[call_id])
            common = {
                "generation": generation,
                "position": tracker.call_positions[call_id],
                "consortium": slug,
            }
            calls.append(row_values(call, **common))
            allocations.extend(row_values(a, **common) for a in parts)
    if not calls:
        return Replacement()
    return Replacement(
        (
            Keys(CapitalCallRow, ("consortium", "call_id"), keys),
            Keys(CapitalCallAllocationRow, ("consortium", "call_id"), keys),
        ),
        ((CapitalCallRow, calls), (CapitalCallAllocationRow, allocations)),
    )
