"""``fundraising``: progress per consortium and instrument, tranches, monthly series."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import Q

from consortium.models import FundraisingMonth, FundraisingProgress, FundraisingTranche
from consortium.projections.cache import Entry
from consortium.projections.common import (
    ConsortiumStreamProjection,
    replace_rows,
    slug_of,
    to_model,
)
from consortium.projections.figures import ProgressTracker, progress_of
from ledger.projections.base import ProjectionRow


class FundraisingProjection(ConsortiumStreamProjection):
    """Rows of a consortium reflect its stream's last event (``position``)."""

    name: ClassVar[str] = "fundraising"
    models: ClassVar[tuple[type[ProjectionRow], ...]] = (
        FundraisingProgress,
        FundraisingTranche,
        FundraisingMonth,
    )
    tracker = ProgressTracker

    def write(self, touched: dict[str, Entry[Any]], generation: int, after: int) -> None:
        slugs: list[str] = []
        progress: list[ProjectionRow] = []
        tranches: list[ProjectionRow] = []
        months: list[ProjectionRow] = []
        for stream, entry in touched.items():
            slug = slug_of(stream)
            slugs.append(slug)
            result = progress_of(entry.tracker)
            if result is None:
                continue
            common = {"generation": generation, "position": entry.position, "consortium": slug}
            progress.extend(
                to_model(FundraisingProgress, row, name=result.name, **common)
                for row in result.instruments
            )
            tranches.extend(to_model(FundraisingTranche, row, **common) for row in result.tranches)
            months.extend(to_model(FundraisingMonth, row, **common) for row in result.months)
        where = Q(consortium__in=slugs)
        replace_rows(
            generation,
            [(FundraisingProgress, where), (FundraisingTranche, where), (FundraisingMonth, where)],
            [
                (FundraisingProgress, progress),
                (FundraisingTranche, tranches),
                (FundraisingMonth, months),
            ],
        )
