"""Fundraising rows of the ``consortium`` projection: per instrument, tranches, monthly series."""

from __future__ import annotations

from typing import Any

from consortium.models import FundraisingMonth, FundraisingProgress, FundraisingTranche
from consortium.projections.cache import Entry
from consortium.projections.common import (
    row_values,
    slug_of,
)
from consortium.projections.figures import progress_of
from ledger.projections.base import Keys, Replacement


def rows(touched: dict[str, Entry[Any]], generation: int, after: int) -> Replacement:
    """The touched consortia's fundraising rows, to replace theirs. Rows of a consortium
    reflect its stream's last event (``position``)."""
    slugs: list[str] = []
    progress: list[dict[str, Any]] = []
    tranches: list[dict[str, Any]] = []
    months: list[dict[str, Any]] = []
    for stream, entry in touched.items():
        slug = slug_of(stream)
        slugs.append(slug)
        result = progress_of(entry.tracker)
        if result is None:
            continue
        common = {"generation": generation, "position": entry.position, "consortium": slug}
        progress.extend(row_values(row, name=result.name, **common) for row in result.instruments)
        tranches.extend(row_values(row, **common) for row in result.tranches)
        months.extend(row_values(row, **common) for row in result.months)
    keys = [(slug,) for slug in slugs]
    return Replacement(
        (
            Keys(FundraisingProgress, ("consortium",), keys),
            Keys(FundraisingTranche, ("consortium",), keys),
            Keys(FundraisingMonth, ("consortium",), keys),
        ),
        (
            (FundraisingProgress, progress),
            (FundraisingTranche, tranches),
            (FundraisingMonth, months),
        ),
    )
