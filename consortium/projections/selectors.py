"""Reading the live projections: plain dataclasses, the same shapes as ``asof``.

Each selector reads the live generation of its projection. ``overdue`` figures depend on
``today`` (default: the current date) and are derived here, never stored. Positions take
their overdue amounts from the ``capital_calls`` projection, which may be a few events
ahead of or behind ``positions``; use ``ledger.projections.runner.wait_for`` for
read-your-writes.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from consortium.models import (
    AssetLookThrough,
    AssetOwnership,
    AssetStake,
    CapitalCallAllocationRow,
    CapitalCallRow,
    FundraisingMonth,
    FundraisingProgress,
    FundraisingTranche,
    PartnerPositionRow,
)
from consortium.projections.common import read_rows
from consortium.projections.figures import (
    PROGRESS_INSTRUMENTS,
    AllocationRow,
    AssetRow,
    CallRow,
    CapitalCall,
    LookThroughRow,
    MonthRow,
    Ownership,
    PartnerPosition,
    PositionRow,
    Progress,
    ProgressRow,
    StakeRow,
    TrancheRow,
    read_calls,
    read_positions,
)
from ledger.projections.runner import live_generation


def _today(today: dt.date | None) -> dt.date:
    return today if today is not None else timezone.now().date()


def consortia() -> list[str]:
    """Slugs of the consortia the consortium projection knows, sorted."""
    query = FundraisingProgress.objects.filter(
        generation=live_generation("consortium"), instrument="total"
    )
    return sorted(query.values_list("consortium", flat=True))


def assets() -> list[str]:
    """Ids of the assets the ownership projection knows, sorted."""
    query = AssetOwnership.objects.filter(generation=live_generation("ownership"))
    return sorted(query.values_list("asset_id", flat=True))


def organisations() -> dict[str, str]:
    """Every organisation that is a partner of some consortium: id to name, by id."""
    query = PartnerPositionRow.objects.filter(generation=live_generation("consortium"))
    return dict(sorted(query.values_list("organisation_id", "name").distinct()))


def progress(slug: str, *, generation: int | None = None) -> Progress | None:
    """Fundraising progress of one consortium (None if the projection does not know it),
    from the live generation or the one given."""
    generation = generation or live_generation("consortium")
    rows = read_rows(FundraisingProgress, ProgressRow, generation, consortium=slug)
    if not rows:
        return None
    order = {name: index for index, name in enumerate(PROGRESS_INSTRUMENTS)}
    rows.sort(key=lambda pair: order[pair[0].instrument])
    name = FundraisingProgress.objects.filter(generation=generation, consortium=slug).values_list(
        "name", flat=True
    )[0]
    tranches = read_rows(FundraisingTranche, TrancheRow, generation, consortium=slug)
    months = read_rows(FundraisingMonth, MonthRow, generation, consortium=slug)
    return Progress(
        slug=slug,
        name=name,
        currency=rows[0][0].currency,
        instruments=tuple(row for row, _ in rows),
        tranches=tuple(
            sorted((row for row, _ in tranches), key=lambda t: (t.instrument, t.number))
        ),
        months=tuple(sorted((row for row, _ in months), key=lambda m: m.month)),
        position=max(values["position"] for _, values in rows),
    )


def _allocations(slug: str) -> list[AllocationRow]:
    generation = live_generation("consortium")
    return [
        row
        for row, _ in read_rows(
            CapitalCallAllocationRow, AllocationRow, generation, consortium=slug
        )
    ]


def positions(slug: str, *, today: dt.date | None = None) -> list[PartnerPosition]:
    """Every partner of the consortium (by organisation id), with what is overdue today."""
    generation = live_generation("consortium")
    rows = [
        row for row, _ in read_rows(PartnerPositionRow, PositionRow, generation, consortium=slug)
    ]
    return read_positions(rows, _allocations(slug), _today(today))


def capital_calls(slug: str, *, today: dt.date | None = None) -> list[CapitalCall]:
    """Every capital call of the consortium (by call id) with its allocations."""
    generation = live_generation("consortium")
    calls = [row for row, _ in read_rows(CapitalCallRow, CallRow, generation, consortium=slug)]
    return read_calls(calls, _allocations(slug), _today(today))


def ownership(asset_id: str, *, generation: int | None = None) -> Ownership | None:
    """Direct stakes and look-through ownership of one asset (None if unknown), from the
    live generation or the one given."""
    generation = generation or live_generation("ownership")
    found = read_rows(AssetOwnership, AssetRow, generation, asset_id=asset_id)
    if not found:
        return None
    asset, values = found[0]
    stakes = read_rows(AssetStake, StakeRow, generation, asset_id=asset_id)
    look = read_rows(AssetLookThrough, LookThroughRow, generation, asset_id=asset_id)
    return Ownership(
        asset=asset,
        stakes=tuple(
            sorted((row for row, _ in stakes), key=lambda s: (s.holder_kind, s.holder_id))
        ),
        look_through=tuple(sorted((row for row, _ in look), key=lambda r: r.organisation_id)),
        position=int(values["position"]),
    )
