"""The dashboards' figures shaped for their templates: plain dicts of minor units, dates
and percentages (the templates format them with the ``workspace`` filters), computed from
the selectors' or the as-of views' rows alike, so a live and a historical page show the
same things the same way. Nothing here reads the database.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from html import escape
from typing import Any
from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils.safestring import SafeString, mark_safe

from consortium import formatting
from consortium.domain.money import MINOR_UNITS
from consortium.projections.asof import recorded_at_position
from consortium.projections.figures import (
    CapitalCall,
    FacilityRow,
    Ownership,
    PartnerPosition,
    PeriodCalendarRow,
    Progress,
    ProgressRow,
    in_tranche,
    percent_of,
)
from ledger.projections.runner import Status

INSTRUMENT_LABELS = {
    "equity": "Equity",
    "asset_contribution": "Asset contributions",
    "corporate_partnership": "Corporate partnerships",
    "debt": "Debt",
    "total": "Total",
}
ROLE_LABELS = {
    "founding_member": "Founding member",
    "member": "Member",
    "technical_advisor": "Technical advisor",
    "lender": "Lender",
    "corporate_partner": "Corporate partner",
}
STATUS_LABELS = {
    "draft": "Draft: awaiting approval",
    "approved": "Approved: not issued",
    "issued": "Issued: unpaid",
    "partly_paid": "Partly paid",
    "settled": "Settled",
    "cancelled": "Cancelled",
}
_BILLION = Decimal(10) ** 9


def url(name: str, *args: Any, query: Mapping[str, str] | None = None) -> str | None:
    """The URL of a named page, or None while that page does not exist (another room
    may not be built yet): the caller shows no link then."""
    try:
        found = reverse(name, args=args)
    except NoReverseMatch:
        return None
    return f"{found}?{urlencode(query)}" if query else found


# --- "as of" ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AsOf:
    """A historical view: effective date ``on`` and/or what was known at ``known_at``
    (``position`` when it was asked for as a ledger position)."""

    on: dt.date | None
    known_at: dt.datetime | None
    position: int | None = None

    @property
    def label(self) -> str:
        """ "As of 2025-06-30, as known at position 1234" (what the banner says)."""
        parts = []
        if self.on is not None:
            parts.append(f"As of {self.on.isoformat()}")
        if self.position is not None:
            parts.append(f"as known at position {self.position:,}")
        elif self.known_at is not None:
            moment = self.known_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            parts.append(f"as known at {moment}")
        text = ", ".join(parts)
        return text[:1].upper() + text[1:]


def parse_as_of(
    query: Mapping[str, str], *, head: Callable[[], int]
) -> tuple[AsOf | None, list[str]]:
    """The view a dashboard's GET parameters ask for (None: live) and what is wrong with
    them, in words. ``on``: an ISO date. ``known_at``: a ledger position (1 to the head)
    or an ISO datetime (without a zone: UTC; a date alone: the end of that day, UTC)."""
    errors: list[str] = []
    on: dt.date | None = None
    known_at: dt.datetime | None = None
    position: int | None = None
    raw_on = (query.get("on") or "").strip()
    raw_known = (query.get("known_at") or "").strip()
    if raw_on:
        try:
            on = dt.date.fromisoformat(raw_on)
        except ValueError:
            errors.append(f"“{raw_on[:40]}” is not a date: write it as YYYY-MM-DD.")
    if raw_known.isdigit():
        position = int(raw_known)
        last = head()
        known_at = recorded_at_position(position) if 1 <= position <= last else None
        if known_at is None:
            errors.append(f"Position {position:,} is not in the ledger (1 to {last:,}).")
    elif raw_known:
        known_at = _moment(raw_known)
        if known_at is None:
            errors.append(
                f"“{raw_known[:40]}” is neither a ledger position nor a date and time: "
                "write a position (1234) or YYYY-MM-DDTHH:MM (UTC unless a zone is given)."
            )
    if errors or (on is None and known_at is None):
        return None, errors
    return AsOf(on, known_at, position), errors


def _moment(text: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if len(text) == 10:  # a date alone: everything recorded that day
        moment = moment.replace(hour=23, minute=59, second=59, microsecond=999_999)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


# --- what a dashboard shows -----------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """Everything a consortium's dashboard shows, live or as of."""

    progress: Progress
    positions: list[PartnerPosition]
    calls: list[CapitalCall]
    facilities: list[FacilityRow]
    assets: list[Ownership]
    periods: list[PeriodCalendarRow] = field(default_factory=list)  # sealed periods


def bar(percent: Decimal | None) -> str:
    """A progress bar's width in percent (0 to 100), as CSS wants it."""
    if percent is None or percent <= 0:
        return "0"
    return str(min(percent, Decimal(100)).quantize(Decimal("0.01"), ROUND_HALF_UP))


def target_card(row: ProgressRow) -> dict[str, Any]:
    """One target: its amount and deadline, signed / called / contributed against it."""
    target = row.target_minor
    called_percent = percent_of(row.called_minor, target)
    return {
        "instrument": row.instrument,
        "label": INSTRUMENT_LABELS[row.instrument],
        "currency": row.currency,
        "target_minor": target,
        "deadline": row.deadline,
        "bars": [
            _bar("Signed", row.signed_minor, row.signed_percent),
            _bar("Called", row.called_minor, called_percent),
            _bar("Contributed", row.contributed_minor, row.contributed_percent),
        ],
        "pipeline_minor": row.indicated_minor + row.soft_circled_minor,
    }


def _bar(label: str, minor: int, percent: Decimal | None) -> dict[str, Any]:
    return {"label": label, "minor": minor, "percent": percent, "width": bar(percent)}


def landing_card(progress: Progress) -> dict[str, Any]:
    """A consortium on the landing page: each target with signed and contributed."""
    targets = []
    for row in progress.instruments:
        if row.target_minor is None:
            continue
        card = target_card(row)
        card["bars"] = [card["bars"][0], card["bars"][2]]  # signed and contributed
        targets.append(card)
    total = progress.instrument("total")
    return {
        "slug": progress.slug,
        "name": progress.name,
        "currency": progress.currency,
        "targets": targets,
        "signed_minor": total.signed_minor,
        "contributed_minor": total.contributed_minor,
        "url": url("admin:workspace-consortium", progress.slug),
    }


def tranche_rows(progress: Progress) -> list[dict[str, Any]]:
    """Each tranche with signed, called and contributed filling the tranches in date
    order (the waterfall of ``figures.tranche_rows``)."""
    by_instrument: dict[str, ProgressRow] = {row.instrument: row for row in progress.instruments}
    result = []
    for t in progress.tranches:
        before = t.cumulative_minor - t.amount_minor
        called = by_instrument[t.instrument].called_minor if t.instrument in by_instrument else 0
        called_minor = in_tranche(called, before, t.amount_minor)
        signed_percent = percent_of(t.signed_minor, t.amount_minor)
        result.append(
            {
                "label": f"Tranche {t.number}",
                "instrument": INSTRUMENT_LABELS.get(t.instrument, t.instrument),
                "number": t.number,
                "currency": t.currency,
                "amount_minor": t.amount_minor,
                "available_from": t.available_from,
                "cumulative_minor": t.cumulative_minor,
                "signed_minor": t.signed_minor,
                "called_minor": called_minor,
                "contributed_minor": t.contributed_minor,
                "signed_percent": signed_percent,
                "width": bar(signed_percent),
            }
        )
    return result


def pipeline_rows(progress: Progress) -> list[dict[str, Any]]:
    """Per instrument (and the total): indicated, soft-circled, signed (debt: arranged)."""
    return [
        {
            "label": INSTRUMENT_LABELS[row.instrument],
            "total": row.instrument == "total",
            "currency": row.currency,
            "indicated_minor": row.indicated_minor,
            "soft_circled_minor": row.soft_circled_minor,
            "signed_minor": row.signed_minor,
        }
        for row in progress.instruments
    ]


def chart(progress: Progress, *, until: dt.date) -> str:
    """Chart.js data (as unfold's ``chart/line.html`` takes it): cumulative signed and
    contributed at each month end, in billions of the base currency, carried forward to
    the month of ``until`` (today, or the as-of date) so a quiet consortium's line still
    reaches the present. Values are decimal strings (Chart.js reads them as numbers); the
    exact figures are in the tables."""
    months = [(m.month, m.signed_minor, m.contributed_minor) for m in progress.months]
    last = until.replace(day=1)
    while months and months[-1][0] < last:
        month, signed, contributed = months[-1]
        following = dt.date(month.year + (month.month == 12), month.month % 12 + 1, 1)
        months.append((following, signed, contributed))
    labels = [month.strftime("%Y-%m") for month, _, _ in months]

    def series(values: Iterable[int]) -> list[str]:
        return [str((Decimal(v) / 100 / _BILLION).quantize(Decimal("0.001"))) for v in values]

    data = {
        "labels": labels,
        "datasets": [
            {
                "label": f"Signed ({progress.currency} bn)",
                "data": series(signed for _, signed, _ in months),
                "borderColor": "var(--color-primary-600)",
                "backgroundColor": "var(--color-primary-600)",
            },
            {
                "label": f"Contributed ({progress.currency} bn)",
                "data": series(contributed for _, _, contributed in months),
                "borderColor": "rgb(22, 163, 74)",
                "backgroundColor": "rgb(22, 163, 74)",
            },
        ],
    }
    return json.dumps(data)


CHART_OPTIONS = json.dumps(
    {
        "animation": False,
        "responsive": True,
        "maintainAspectRatio": False,
        "datasets": {"line": {"borderWidth": 2, "pointRadius": 2}},
        "plugins": {
            "legend": {"display": True, "align": "end", "labels": {"boxWidth": 10}},
            "tooltip": {"enabled": True},
        },
        "scales": {
            "x": {"grid": {"display": False}},
            "y": {"beginAtZero": True, "title": {"display": True, "text": "bn"}},
        },
    }
)


def figure(minor: int, currency: str) -> str:
    """An exact amount without its currency code, for a column whose header names it:
    ``formatting.exact`` less its ``"USD "`` (a test holds them equal), written straight
    from the minor units, as a table of hundreds of rows needs it written thousands of
    times."""
    digits = MINOR_UNITS[currency]
    return f"{Decimal(minor).scaleb(-digits):,.{digits}f}"


_PARTNER_SUMS = (
    "commitment_minor",
    "other_minor",
    "called_minor",
    "contributed_minor",
    "unfunded_minor",
    "outstanding_minor",
    "overdue_minor",
    "late_interest_minor",  # --- interest and equalisation ---
)


def partner_rows(
    positions: list[PartnerPosition], currency: str
) -> tuple[list[dict[str, Any]], dict[str, str], int]:
    """Each partner's position, its figures already written (a table of hundreds of rows
    renders in a fraction of the time filters would take), the column totals, and the
    total overdue in minor units."""
    result, sums = [], dict.fromkeys(_PARTNER_SUMS, 0)
    for p in positions:
        f = p.figures
        minor = {
            "commitment_minor": f.equity_signed_minor,
            "other_minor": f.asset_contribution_signed_minor + f.corporate_partnership_signed_minor,
            "called_minor": f.called_minor,
            "contributed_minor": f.contributed_minor,
            "unfunded_minor": f.unfunded_minor,
            "outstanding_minor": f.outstanding_minor,
            "overdue_minor": p.overdue_minor,
            "late_interest_minor": f.late_interest_owed_minor,  # interest and equalisation
        }
        for name, value in minor.items():
            sums[name] += value
        row: dict[str, Any] = {
            name.removesuffix("_minor"): figure(value, f.currency) for name, value in minor.items()
        }
        row.update(
            organisation_id=f.organisation_id,
            name=f.name,
            role=ROLE_LABELS.get(f.role, f.role),
            is_active=f.is_active,
            overdue_minor=p.overdue_minor,
            other=formatting.summary_minor(minor["other_minor"], f.currency)
            if minor["other_minor"]
            else "",
            share=formatting.percent(f.equity_share_percent),
        )
        result.append(row)
    totals = {name.removesuffix("_minor"): figure(v, currency) for name, v in sums.items()}
    return result, totals, sums["overdue_minor"]


def partner_table_body(rows: list[dict[str, Any]]) -> SafeString:
    """The partners' table rows as HTML, every value escaped: written here rather than by
    the template language, which takes many times longer for hundreds of rows."""
    lines = []
    for p in rows:
        name = escape(p["name"])
        if p.get("history_url"):
            name = f'<a class="ws-link" href="{escape(p["history_url"])}">{name}</a>'
        if not p["is_active"]:
            name += ' <span class="ws-tag">withdrawn</span>'
        note = escape(p["role"])
        if p["other"]:
            note += f" · also {escape(p['other'])} in kind or corporate"
        figures = "".join(
            f'<td class="ws-figure">{escape(p[key])}</td>'
            for key in ("commitment", "called", "contributed", "unfunded", "outstanding")
        )
        if p["overdue_minor"]:
            overdue = f'<td class="ws-figure ws-overdue">{escape(p["overdue"])}</td>'
        else:
            overdue = f'<td class="ws-figure">{formatting.MISSING}</td>'
        highlight = ' class="ws-overdue-row"' if p["overdue_minor"] else ""
        lines.append(
            f"<tr{highlight}"
            f' data-partner="{escape(p["organisation_id"])}">'
            f'<td>{name}<div class="ws-muted">{note}</div></td>{figures}{overdue}'
            f'<td class="ws-figure">{escape(p["share"])}</td>'
            f'<td class="ws-figure">{escape(p["late_interest"])}</td></tr>'
        )
    return mark_safe("\n".join(lines))  # noqa: S308 (every value above is escaped)


def open_call_rows(calls: list[CapitalCall]) -> list[dict[str, Any]]:
    """Calls not settled or cancelled (as the live and as-of readers give them), by due
    date: state, amounts, overdue."""
    found = sorted(calls, key=lambda c: (c.figures.due_on, c.figures.call_id))
    return [
        {
            "call_id": c.figures.call_id,
            "purpose": c.figures.purpose,
            "status": STATUS_LABELS.get(c.figures.status, c.figures.status),
            "currency": c.figures.currency,
            "amount_minor": c.figures.amount_minor,
            "contributed_minor": c.figures.contributed_minor,
            "outstanding_minor": c.figures.outstanding_minor,
            "due_on": c.figures.due_on,
            "overdue": c.overdue,
            "prepared_by": c.figures.prepared_by,
            "approved_by": c.figures.approved_by,
        }
        for c in found
    ]


def facility_rows(facilities: list[FacilityRow], names: Mapping[str, str]) -> list[Any]:
    """Each facility with its lender's name."""
    return [{"f": f, "lender_name": names.get(f.lender, f.lender)} for f in facilities]


def asset_rows(assets: list[Ownership], names: Mapping[str, str]) -> list[dict[str, Any]]:
    """Each asset with its direct stakes and look-through ownership, holders named."""
    result = []
    for owned in assets:
        a = owned.asset
        largest = sorted(owned.look_through, key=lambda r: (-r.total_percent, r.organisation_id))
        result.append(
            {
                "asset": a,
                "kind": a.kind.replace("_", " ").capitalize(),
                "stakes": [
                    {
                        "holder": names.get(s.holder_id, s.holder_id),
                        "kind": "Consortium" if s.holder_kind == "consortium" else "Direct",
                        "percent": s.percent,
                        "held_since": s.held_since,
                    }
                    for s in owned.stakes
                ],
                "look_through": [
                    {
                        "name": names.get(r.organisation_id, r.organisation_id),
                        "direct": r.direct_percent,
                        "indirect": r.indirect_percent,
                        "total": r.total_percent,
                    }
                    for r in largest[:LOOK_THROUGH_SHOWN]
                ],
                "others": len(largest[LOOK_THROUGH_SHOWN:]),
                "others_percent": sum(
                    (r.total_percent for r in largest[LOOK_THROUGH_SHOWN:]), Decimal(0)
                ),
            }
        )
    return result


# --- distributions ---


def distribution_rows(positions: list[PartnerPosition], progress: Progress) -> dict[str, Any]:
    """The distributions section: each partner that was paid a distribution or holds
    recallable capital (distributed, of it capital, recallable not yet recalled, net
    invested capital, DPI), and the consortium's totals from the equity progress row."""
    equity = progress.instrument("equity")
    currency = progress.currency
    rows = [
        {
            "organisation_id": f.organisation_id,
            "name": f.name,
            "distributed": figure(f.distributed_minor, currency),
            "capital": figure(f.distributed_capital_minor, currency),
            "recallable": figure(f.recallable_minor, currency),
            "net_invested": figure(f.net_invested_minor, currency),
            "dpi": formatting.MISSING if f.dpi is None else f"{f.dpi}x",
        }
        for f in (p.figures for p in positions)
        if f.distributed_minor or f.recallable_minor
    ]
    recallable = sum(p.figures.recallable_minor for p in positions)
    capital = sum(p.figures.distributed_capital_minor for p in positions)
    return {
        "rows": rows,
        "distributed": figure(equity.distributed_minor, currency),
        "capital": figure(capital, currency),
        "recallable": figure(recallable, currency),
        "net_invested": figure(equity.net_invested_minor, currency),
        "dpi": formatting.MISSING if equity.dpi is None else f"{equity.dpi}x",
    }


# An asset held by a consortium of hundreds of partners has as many look-through owners:
# the largest are listed, the rest summed in one line (the ownership API lists them all).
LOOK_THROUGH_SHOWN = 12


def dashboard(figures: Figures, *, today: dt.date) -> dict[str, Any]:
    """The template context of a consortium's dashboard (figures as plain values)."""
    progress = figures.progress
    names = {p.figures.organisation_id: p.figures.name for p in figures.positions}
    names[progress.slug] = progress.name
    partners, totals, overdue = partner_rows(figures.positions, progress.currency)
    total = progress.instrument("total")
    return {
        "progress": progress,
        "currency": progress.currency,
        "total": total,
        "targets": [target_card(r) for r in progress.instruments if r.target_minor is not None],
        "tranches": tranche_rows(progress),
        "pipeline": pipeline_rows(progress),
        "chart_data": chart(progress, until=today) if progress.months else "",
        "chart_options": CHART_OPTIONS,
        "partners": partners,
        "partner_totals": totals,
        "overdue_minor": overdue,
        "open_calls": open_call_rows(figures.calls),
        "facilities": facility_rows(figures.facilities, names),
        "assets": asset_rows(figures.assets, names),
        "today": today,
        "periods": period_calendar(figures.periods),  # sealed periods
        "distributions": distribution_rows(figures.positions, progress),  # --- distributions
    }


# --- sealed periods ---


def period_calendar(rows: list[PeriodCalendarRow]) -> dict[str, Any]:
    """The period calendar: each closed period (from the day after the previous close;
    the first from the start) with its seal, the open period from the day after the
    latest close, and a pending proposal to reopen."""
    closed = []
    start: dt.date | None = None
    for row in (r for r in rows if r.kind == "closed"):
        closed.append({"start": start, "row": row})
        start = row.closing_date + dt.timedelta(days=1)
    proposal = next((r for r in rows if r.kind == "proposal"), None)
    return {"closed": closed, "open_from": start, "proposal": proposal}


# --- the projections' lag -------------------------------------------------------------------


def lag_warnings(statuses: Iterable[Status]) -> list[dict[str, Any]]:
    """One warning per projection that is stopped on an error, rebuilding, or behind the
    ledger's head; none when every projection has applied the head."""
    warnings = []
    for s in statuses:
        if s.error_position is not None:
            text = (
                f"The {s.name} projection is stopped at position {s.error_position:,}: "
                f"{s.last_error or 'an error'}. Its figures are as of position "
                f"{s.checkpoint:,} of {s.head:,}."
            )
            warnings.append({"name": s.name, "stopped": True, "text": text})
        elif s.lag_events > 0:
            text = (
                f"The {s.name} projection is {s.lag_events:,} events behind the ledger "
                f"(position {s.checkpoint:,} of {s.head:,}, {s.lag_seconds:.1f} s): figures "
                "may not show the newest events yet."
            )
            warnings.append({"name": s.name, "stopped": False, "text": text})
    return warnings
