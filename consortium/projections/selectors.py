"""Reading the live projections: plain dataclasses, the same shapes as ``asof``.

Each selector reads the live generation of its projection. ``overdue`` figures depend on
``today`` (default: the current date) and are derived here, never stored. Positions take
their overdue amounts from the ``capital_calls`` projection, which may be a few events
ahead of or behind ``positions``; use ``ledger.projections.runner.wait_for`` for
read-your-writes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from django.db.models import Sum
from django.utils import timezone

from consortium.models import (
    AssetLookThrough,
    AssetOwnership,
    AssetStake,
    CapitalCallAllocationRow,
    CapitalCallRow,
    DebtFacilityRow,
    FundraisingMonth,
    FundraisingProgress,
    FundraisingTranche,
    PartnerPositionRow,
    PeriodRow,
)
from consortium.projections.common import read_rows
from consortium.projections.figures import (
    OPEN_CALL_STATUSES,
    PROGRESS_INSTRUMENTS,
    UNSETTLED_CALL_STATUSES,
    AllocationRow,
    AssetRow,
    CallRow,
    CapitalCall,
    FacilityRow,
    LookThroughRow,
    MonthRow,
    Ownership,
    PartnerPosition,
    PeriodCalendarRow,
    PositionRow,
    Progress,
    ProgressRow,
    StakeRow,
    TrancheRow,
    read_calls,
)
from ledger.projections.runner import live_generation

R = TypeVar("R")


def _today(today: dt.date | None) -> dt.date:
    return today if today is not None else timezone.now().date()


def consortia() -> list[str]:
    """Slugs of the consortia the consortium projection knows, sorted."""
    return sorted(consortium_names())


def consortium_names() -> dict[str, str]:
    """The consortia the consortium projection knows: slug -> name."""
    query = FundraisingProgress.objects.filter(
        generation=live_generation("consortium"), instrument="total"
    )
    return dict(query.values_list("consortium", "name"))


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
    name = FundraisingProgress.objects.filter(generation=generation, consortium=slug).values_list(
        "name", flat=True
    )[0]
    tranches = read_rows(FundraisingTranche, TrancheRow, generation, consortium=slug)
    months = read_rows(FundraisingMonth, MonthRow, generation, consortium=slug)
    return _progress(slug, name, rows, [t for t, _ in tranches], [m for m, _ in months])


def _progress(
    slug: str,
    name: str,
    rows: list[tuple[ProgressRow, dict[str, Any]]],
    tranches: list[TrancheRow],
    months: list[MonthRow],
) -> Progress:
    order = {instrument: index for index, instrument in enumerate(PROGRESS_INSTRUMENTS)}
    rows.sort(key=lambda pair: order[pair[0].instrument])
    return Progress(
        slug=slug,
        name=name,
        currency=rows[0][0].currency,
        instruments=tuple(row for row, _ in rows),
        tranches=tuple(sorted(tranches, key=lambda t: (t.instrument, t.number))),
        months=tuple(sorted(months, key=lambda m: m.month)),
        position=max(int(values["position"]) for _, values in rows),
    )


def progress_many(slugs: list[str]) -> dict[str, Progress]:
    """Fundraising progress of several consortia (those the projection knows) in a fixed
    number of queries, whatever their number: the instruments' rows only, tranches and
    the monthly series left empty (the landing page shows neither)."""
    generation = live_generation("consortium")
    rows: dict[str, list[tuple[ProgressRow, dict[str, Any]]]] = {}
    names: dict[str, str] = {}
    for row, values in read_rows(
        FundraisingProgress, ProgressRow, generation, consortium__in=slugs
    ):
        rows.setdefault(str(values["consortium"]), []).append((row, values))
    for slug, name in FundraisingProgress.objects.filter(
        generation=generation, instrument="total", consortium__in=slugs
    ).values_list("consortium", "name"):
        names[slug] = name
    return {
        slug: _progress(slug, names.get(slug, slug), rows[slug], [], [])
        for slug in slugs
        if slug in rows
    }


def _allocations(slug: str) -> list[AllocationRow]:
    generation = live_generation("consortium")
    return [
        row
        for row, _ in read_rows(
            CapitalCallAllocationRow, AllocationRow, generation, consortium=slug
        )
    ]


def positions(
    slug: str, *, today: dt.date | None = None, generation: int | None = None
) -> list[PartnerPosition]:
    """Every partner of the consortium (by organisation id), with what is overdue today,
    from the live generation or the one given.

    The overdue amounts are summed by the database over the open allocations only (an
    index on their status), so the cost follows the partners, not the history of calls.
    """
    generation = generation or live_generation("consortium")
    rows = [
        row for row, _ in read_rows(PartnerPositionRow, PositionRow, generation, consortium=slug)
    ]
    overdue = (
        CapitalCallAllocationRow.objects.filter(
            generation=generation,
            consortium=slug,
            status__in=sorted(OPEN_CALL_STATUSES),
            due_on__lt=_today(today),
            outstanding_minor__gt=0,
        )
        .values_list("organisation_id")
        .annotate(total=Sum("outstanding_minor"))
    )
    owed = {org: int(total) for org, total in overdue}
    ordered = sorted(rows, key=lambda r: r.organisation_id)
    return [PartnerPosition(row, owed.get(row.organisation_id, 0)) for row in ordered]


def capital_calls(slug: str, *, today: dt.date | None = None) -> list[CapitalCall]:
    """Every capital call of the consortium (by call id) with its allocations."""
    generation = live_generation("consortium")
    calls = [row for row, _ in read_rows(CapitalCallRow, CallRow, generation, consortium=slug)]
    return read_calls(calls, _allocations(slug), _today(today))


def open_capital_calls(
    slug: str,
    *,
    today: dt.date | None = None,
    generation: int | None = None,
    allocations: bool = True,
) -> list[CapitalCall]:
    """The calls not settled or cancelled (draft, approved, issued, partly paid), by call
    id, with their allocations (none read without ``allocations``): what the dashboard
    lists, read through an index on the status, so a long history of settled calls
    costs nothing."""
    generation = generation or live_generation("consortium")
    open_ = sorted(UNSETTLED_CALL_STATUSES)
    calls = [
        row
        for row, _ in read_rows(
            CapitalCallRow, CallRow, generation, consortium=slug, status__in=open_
        )
    ]
    parts = (
        [
            row
            for row, _ in read_rows(
                CapitalCallAllocationRow,
                AllocationRow,
                generation,
                consortium=slug,
                call_id__in=[c.call_id for c in calls],
            )
        ]
        if allocations and calls
        else []
    )
    return read_calls(calls, parts, _today(today))


def facilities(slug: str, *, generation: int | None = None) -> list[FacilityRow]:
    """Every debt facility of the consortium, by facility id."""
    generation = generation or live_generation("consortium")
    found = read_rows(DebtFacilityRow, FacilityRow, generation, consortium=slug)
    return sorted((row for row, _ in found), key=lambda f: f.facility_id)


# --- sealed periods ---


def period_calendar(slug: str, *, generation: int | None = None) -> list[PeriodCalendarRow]:
    """The consortium's closes in force by closing date, then a pending reopen proposal."""
    generation = generation or live_generation("consortium")
    found = [row for row, _ in read_rows(PeriodRow, PeriodCalendarRow, generation, consortium=slug)]
    return sorted(found, key=lambda r: (r.kind == "proposal", r.closing_date))


def consortium_assets(slug: str) -> list[Ownership]:
    """Ownership of every asset the consortium sponsors or holds a stake in, by asset id,
    in a fixed number of queries whatever the number of assets."""
    generation = live_generation("ownership")
    held = AssetStake.objects.filter(
        generation=generation, holder_kind="consortium", holder_id=slug
    ).values_list("asset_id", flat=True)
    sponsored = AssetOwnership.objects.filter(generation=generation, sponsor=slug).values_list(
        "asset_id", flat=True
    )
    ids = sorted(set(held) | set(sponsored))
    if not ids:
        return []
    stakes: dict[str, list[StakeRow]] = {}
    for stake, values in read_rows(AssetStake, StakeRow, generation, asset_id__in=ids):
        stakes.setdefault(str(values["asset_id"]), []).append(stake)
    look: dict[str, list[LookThroughRow]] = {}
    for row, values in read_rows(AssetLookThrough, LookThroughRow, generation, asset_id__in=ids):
        look.setdefault(str(values["asset_id"]), []).append(row)
    result = []
    for asset, values in sorted(
        read_rows(AssetOwnership, AssetRow, generation, asset_id__in=ids),
        key=lambda p: p[0].asset_id,
    ):
        result.append(
            Ownership(
                asset=asset,
                stakes=tuple(
                    sorted(
                        stakes.get(asset.asset_id, []), key=lambda s: (s.holder_kind, s.holder_id)
                    )
                ),
                look_through=tuple(
                    sorted(look.get(asset.asset_id, []), key=lambda r: r.organisation_id)
                ),
                position=int(values["position"]),
            )
        )
    return result


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
