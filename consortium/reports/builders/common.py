"""What every builder shares: cells from the read side's minor units, the anchor's
words, and the fold of one consortium at one position.

Money in the read side is integer minor units (``consortium.projections.figures``); a
cell is an exact ``Amount`` made from them here, and every total is added up in minor
units before it becomes a cell, so nothing is rounded twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from consortium.domain.money import Money
from consortium.projections import asof
from consortium.reports.document import Amount, Anchor, Percent
from consortium.reports.errors import ReportError

ONE_DAY = dt.timedelta(days=1)


def amount(minor: int, currency: str) -> Amount:
    """Minor units as an exact amount cell (``Money`` checks the currency's digits)."""
    return Amount(Money.from_minor(minor, currency).amount, currency)


def optional_amount(minor: int | None, currency: str) -> Amount | None:
    return None if minor is None else amount(minor, currency)


def percent(value: Decimal | None) -> Percent | None:
    return None if value is None else Percent(value)


def file_part(identifier: str) -> str:
    """An id as part of a file name (ids may hold ':', which some storages refuse)."""
    return identifier.replace(":", "-")


def total(values: Iterable[int]) -> int:
    return sum(values, 0)


def anchor_note(anchor: Anchor, report_date: dt.date) -> str:
    return (
        f"Figures as of {report_date.isoformat()} at ledger position {anchor.position} "
        f"(chain hash {anchor.hash}); to check it: "
        f"manage.py verify_ledger --expect {anchor}"
    )


def consortium_view(
    slug: str, anchor: Anchor, on: dt.date, *, today: dt.date | None = None
) -> asof.ConsortiumAsOf:
    """The consortium as of ``on`` at the anchor's position, from ONE fold (overdue judged
    on ``today``, by default ``on``); ``ReportError`` if it was not formed by then."""
    view = asof.consortium_view_as_of(
        slug, effective_on=on, today=today or on, upto_position=anchor.position
    )
    if view.progress is None:
        raise ReportError(
            f"No consortium {slug!r} was formed by {on.isoformat()} in the ledger up to "
            f"position {anchor.position}: check the slug and the dates."
        )
    return view


# --- sealed periods ---


def seal_notes(slug: str, anchor: Anchor, end: dt.date) -> tuple[str, ...]:
    """The seal of the closed period ``end`` falls in, as the ledger up to the anchor's
    position holds it (the close in force with the earliest closing date on or after
    ``end``): a report of a closed period prints its closing date, position and hash.
    Nothing while ``end`` is in an open period."""
    state = asof.consortium_as_of(slug, upto_position=anchor.position)
    covering = [seal for seal in state.seals if seal.closing_date >= end]
    if not covering:
        return ()
    seal = min(covering, key=lambda seal: seal.closing_date)
    return (
        f"Closed period: {state.name}'s books are sealed up to "
        f"{seal.closing_date.isoformat()} (closed by {seal.closed_by} on "
        f"{seal.closed_on.isoformat()}), at ledger position {seal.position} (chain hash "
        f"{seal.chain_hash}); manage.py verify_ledger checks the seal still matches.",
    )
