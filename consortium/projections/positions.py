"""Partner-position rows of the ``consortium`` projection: signed by instrument, equity figures."""

from __future__ import annotations

from typing import Any

from consortium.models import PartnerPositionRow
from consortium.projections.cache import Entry
from consortium.projections.common import (
    row_values,
    slug_of,
)
from consortium.projections.figures import ConsortiumTracker, position_rows
from ledger.projections.base import Keys, Replacement


def rows(touched: dict[str, Entry[Any]], generation: int, after: int) -> Replacement:
    """The touched consortia's partner-position rows, to replace theirs. Rows of a
    consortium reflect its stream's last event (``position``).

    What a partner owes past a due date depends on today, so it is not stored: the
    selector derives it from the capital call allocations.
    """
    slugs: list[str] = []
    found: list[dict[str, Any]] = []
    for stream, entry in touched.items():
        slug = slug_of(stream)
        slugs.append(slug)
        tracker: ConsortiumTracker = entry.tracker
        state = tracker.state
        if state.slug is None:
            continue
        found.extend(
            row_values(
                row,
                generation=generation,
                position=entry.position,
                consortium=slug,
            )
            for row in position_rows(state, tracker.signed)
        )
    return Replacement(
        (Keys(PartnerPositionRow, ("consortium",), [(slug,) for slug in slugs]),),
        ((PartnerPositionRow, found),),
    )
