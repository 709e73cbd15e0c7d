"""``positions``: per consortium and partner, signed by instrument and equity figures."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import Q

from consortium.models import PartnerPositionRow
from consortium.projections.cache import Entry
from consortium.projections.common import (
    ConsortiumStreamProjection,
    replace_rows,
    slug_of,
    to_model,
)
from consortium.projections.figures import StateTracker, position_rows
from ledger.projections.base import ProjectionRow


class PositionsProjection(ConsortiumStreamProjection):
    """Rows of a consortium reflect its stream's last event (``position``).

    What a partner owes past a due date depends on today, so it is not stored: the
    selector derives it from the capital call allocations.
    """

    name: ClassVar[str] = "positions"
    models: ClassVar[tuple[type[ProjectionRow], ...]] = (PartnerPositionRow,)
    tracker = StateTracker

    def write(self, touched: dict[str, Entry[Any]], generation: int, after: int) -> None:
        slugs: list[str] = []
        rows: list[ProjectionRow] = []
        for stream, entry in touched.items():
            slug = slug_of(stream)
            slugs.append(slug)
            state = entry.tracker.state
            if state.slug is None:
                continue
            rows.extend(
                to_model(
                    PartnerPositionRow,
                    row,
                    generation=generation,
                    position=entry.position,
                    consortium=slug,
                )
                for row in position_rows(state)
            )
        replace_rows(
            generation,
            [(PartnerPositionRow, Q(consortium__in=slugs))],
            [(PartnerPositionRow, rows)],
        )
