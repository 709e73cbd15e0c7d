"""``capital_calls``: per call and per partner allocation; ``overdue`` is derived on read."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import Q

from consortium.models import CapitalCallAllocationRow, CapitalCallRow
from consortium.projections.cache import Entry
from consortium.projections.common import (
    ConsortiumStreamProjection,
    replace_rows,
    slug_of,
    to_model,
)
from consortium.projections.figures import CallsTracker, call_rows
from ledger.projections.base import ProjectionRow


class CapitalCallsProjection(ConsortiumStreamProjection):
    """Only the calls that an event of the batch changed are rewritten (a consortium's
    history of calls grows without bound); each call's rows reflect the last event that
    changed that call (``position``), whatever the batch boundaries."""

    name: ClassVar[str] = "capital_calls"
    models: ClassVar[tuple[type[ProjectionRow], ...]] = (
        CapitalCallRow,
        CapitalCallAllocationRow,
    )
    tracker = CallsTracker

    def write(self, touched: dict[str, Entry[Any]], generation: int, after: int) -> None:
        where = Q(pk__in=[])
        calls: list[ProjectionRow] = []
        allocations: list[ProjectionRow] = []
        for stream, entry in touched.items():
            tracker: CallsTracker = entry.tracker
            changed = sorted(cid for cid, pos in tracker.call_positions.items() if pos > after)
            if not changed:
                continue
            slug = slug_of(stream)
            where |= Q(consortium=slug, call_id__in=changed)
            for call_id in changed:
                call, parts = call_rows(tracker.state, tracker.state.calls[call_id])
                common = {
                    "generation": generation,
                    "position": tracker.call_positions[call_id],
                    "consortium": slug,
                }
                calls.append(to_model(CapitalCallRow, call, **common))
                allocations.extend(to_model(CapitalCallAllocationRow, a, **common) for a in parts)
        if not calls:
            return
        replace_rows(
            generation,
            [(CapitalCallRow, where), (CapitalCallAllocationRow, where)],
            [(CapitalCallRow, calls), (CapitalCallAllocationRow, allocations)],
        )
