"""The ``consortium`` projection: one fold of each consortium stream feeds its read models.

Fundraising progress, partner positions, capital calls and debt facilities are all
functions of the same folded consortium state, so they are one projection with one
checkpoint: each event is decoded and folded once (a rebuild's cost is dominated by that),
and the four groups of tables always reflect the same ledger position. Each group's rows
are written by its own module (``fundraising``, ``positions``, ``capital_calls``,
``facilities``), and they are written together.
"""

from typing import Any, ClassVar

from consortium.models import (
    CapitalCallAllocationRow,
    CapitalCallRow,
    DebtFacilityRow,
    FundraisingMonth,
    FundraisingProgress,
    FundraisingTranche,
    PartnerPositionRow,
    PeriodRow,
)
from consortium.projections import capital_calls, facilities, fundraising, periods, positions
from consortium.projections.cache import Entry
from consortium.projections.common import ConsortiumStreamProjection
from consortium.projections.figures import ConsortiumTracker
from ledger.projections.base import ProjectionRow, replace_rows


class ConsortiumProjection(ConsortiumStreamProjection):
    """Fundraising progress, partner positions, capital calls and debt facilities of every
    consortium."""

    name: ClassVar[str] = "consortium"
    models: ClassVar[tuple[type[ProjectionRow], ...]] = (
        FundraisingProgress,
        FundraisingTranche,
        FundraisingMonth,
        PartnerPositionRow,
        CapitalCallRow,
        CapitalCallAllocationRow,
        DebtFacilityRow,
        PeriodRow,  # sealed periods
    )
    tracker = ConsortiumTracker

    def write(self, touched: dict[str, Entry[Any]], generation: int, after: int) -> None:
        """The four groups' rows in one ``replace_rows`` (one pipeline on PostgreSQL)."""
        replacement = (
            fundraising.rows(touched, generation, after)
            + positions.rows(touched, generation, after)
            + capital_calls.rows(touched, generation, after)
            + facilities.rows(touched, generation, after)
            + periods.rows(touched, generation, after)  # sealed periods
        )
        replace_rows(generation, replacement.deletions, replacement.creations)
