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
from ledger.projections.base import Keys, replace_rows


def write(touched: dict[str, Entry[Any]], generation: int, after: int) -> None:
    """Rows of a consortium reflect its stream's last event (``position``).

    What a partner owes past a due date depends on today, so it is not stored: the
    selector derives it from the capital call allocations.
    """
    slugs: list[str] = []
    rows: list[dict[str, Any]] = []
    for stream, entry in touched.items():
        slug = slug_of(stream)
        slugs.append(slug)
        tracker: ConsortiumTracker = entry.tracker
        state = tracker.state
        if state.slug is None:
            continue
        rows.extend(
            row_values(
                row,
                generation=generation,
                position=entry.position,
                consortium=slug,
            )
            for row in position_rows(state, tracker.signed)
        )
    replace_rows(
        generation,
        [Keys(PartnerPositionRow, ("consortium",), [(slug,) for slug in slugs])],
        [(PartnerPositionRow, rows)],
    )
