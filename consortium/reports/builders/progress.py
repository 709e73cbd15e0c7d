"""The fundraising progress pack of one consortium, at one ledger position.

Every figure comes from one fold (``asof.consortium_view_as_of`` bounded by the anchor's
position, as of the report date): the same rows the API's ``progress`` and
``positions`` answer with, so the pack and the API reconcile by construction.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from consortium.domain.vocabulary import label
from consortium.projections.figures import (
    PROGRESS_INSTRUMENTS,
    FacilityRow,
    PartnerPosition,
    Progress,
    ProgressRow,
)
from consortium.reports.builders.common import (
    amount,
    anchor_note,
    consortium_view,
    optional_amount,
    percent,
    seal_notes,
    total,
)
from consortium.reports.document import (
    Anchor,
    Cell,
    Chart,
    Column,
    Document,
    Fact,
    Section,
    Series,
    Table,
)

_PIPELINE_INSTRUMENTS = PROGRESS_INSTRUMENTS[:3]


def build_progress(consortium: str, anchor: Anchor, report_date: dt.date) -> Document:
    """The progress pack of ``consortium`` as of ``report_date`` at ``anchor``."""
    view = consortium_view(consortium, anchor, report_date)
    progress = view.progress
    assert progress is not None  # consortium_view refuses a consortium not formed
    sections = (
        _targets(progress),
        _tranches(progress),
        _pipeline(progress),
        _instruments(progress),
        _partner_commitments(progress.currency, view.positions),
        _partner_capital(progress.currency, view.positions),
        _distributions(progress, view.positions),  # --- distributions ---
        _interest(progress.currency, view.positions),  # --- interest and equalisation ---
        _facilities(progress.currency, view.facilities),
        _months(progress),
    )
    return Document(
        kind="progress",
        name=f"progress-{consortium}-{report_date.isoformat()}",
        title=f"Fundraising progress: {progress.name}",
        subtitle=f"As of {report_date.isoformat()}, figures in {progress.currency}",
        consortium=consortium,
        report_date=report_date,
        anchor=anchor,
        parameters=(Fact("Consortium", f"{progress.name} ({consortium})"),),
        sections=sections,
        notes=(anchor_note(anchor, report_date), *seal_notes(consortium, anchor, report_date)),
    )


def _targets(progress: Progress) -> Section:
    c = progress.currency
    rows = tuple(
        (
            label(row.instrument),
            optional_amount(row.target_minor, c),
            row.deadline,
            amount(row.signed_minor, c),
            percent(row.signed_percent),
            amount(row.contributed_minor, c),
            percent(row.contributed_percent),
        )
        for row in progress.instruments
        if row.target_minor is not None
    )
    table = Table(
        columns=(
            Column("Target"),
            Column("Amount", "amount"),
            Column("Deadline", "date"),
            Column("Signed", "amount"),
            Column("Signed % of target", "percent"),
            Column("Contributed", "amount"),
            Column("Contributed % of target", "percent"),
        ),
        rows=rows,
    )
    words = () if rows else ("No fundraising target is set.",)
    return Section("Targets", "Targets", paragraphs=words, table=table if rows else None)


def _tranches(progress: Progress) -> Section:
    c = progress.currency
    rows = tuple(
        (
            label(t.instrument),
            t.number,
            t.available_from,
            amount(t.amount_minor, c),
            amount(t.cumulative_minor, c),
            amount(t.signed_minor, c),
            amount(t.contributed_minor, c),
        )
        for t in progress.tranches
    )
    if not rows:
        return Section("Tranches", "Tranches", paragraphs=("No target has tranches.",))
    table = Table(
        columns=(
            Column("Target"),
            Column("Tranche", "integer"),
            Column("Available from", "date"),
            Column("Amount", "amount"),
            Column("Cumulative", "amount"),
            Column("Signed in tranche", "amount"),
            Column("Contributed in tranche", "amount"),
        ),
        rows=rows,
    )
    words = (
        "Signed and contributed money fills the tranches in date order: each tranche shows "
        "the part of the instrument's figure that falls within it.",
    )
    return Section("Tranches", "Tranches", paragraphs=words, table=table)


def _pipeline(progress: Progress) -> Section:
    c = progress.currency
    rows: list[tuple[Cell, ...]] = []
    sums = [0, 0, 0, 0]
    for instrument in _PIPELINE_INSTRUMENTS:
        row = progress.instrument(instrument)
        figures = (
            row.indicated_minor,
            row.soft_circled_minor,
            row.signed_minor,
            row.indicated_minor + row.soft_circled_minor + row.signed_minor,
        )
        sums = [a + b for a, b in zip(sums, figures, strict=True)]
        rows.append((label(instrument), *(amount(v, c) for v in figures)))
    table = Table(
        columns=(
            Column("Instrument"),
            Column("Indicated", "amount"),
            Column("Soft-circled", "amount"),
            Column("Signed", "amount"),
            Column("All stages", "amount"),
        ),
        rows=tuple(rows),
        total=("Total", *(amount(v, c) for v in sums)),
    )
    words = (
        "Commitments by stage at their base-currency amounts; only signed commitments count "
        "as committed. Debt comes through facilities (below), not commitments.",
    )
    return Section("Pipeline by stage", "Pipeline", paragraphs=words, table=table)


def _instruments(progress: Progress) -> Section:
    c = progress.currency

    def cells(name: str, r: ProgressRow) -> tuple[Cell, ...]:
        return (
            name,
            amount(r.signed_minor, c),
            amount(r.called_minor, c),
            amount(r.contributed_minor, c),
            amount(r.unfunded_minor, c),
            amount(r.outstanding_minor, c),
        )

    rows = tuple(
        cells(label(r.instrument), r) for r in progress.instruments if r.instrument != "total"
    )
    table = Table(
        columns=(
            Column("Instrument"),
            Column("Signed", "amount"),
            Column("Called", "amount"),
            Column("Contributed", "amount"),
            Column("Unfunded", "amount"),
            Column("Outstanding", "amount"),
        ),
        rows=rows,
        total=cells("Total", progress.instrument("total")),
    )
    words = (
        "Equity is called by capital calls; for debt, called and contributed are the "
        "amounts drawn and unfunded is what may still be drawn. Asset contributions and "
        "corporate partnerships are never called.",
    )
    return Section("By instrument", "Instruments", paragraphs=words, table=table)


def _partner_table(
    currency: str,
    positions: list[PartnerPosition],
    figures: tuple[tuple[str, str], ...],
    overdue: bool = False,
) -> Table:
    """One row per partner (withdrawn ones marked) with ``figures`` (column title,
    ``PositionRow`` field), the overdue amount if asked, and their totals."""
    c = currency
    rows: list[tuple[Cell, ...]] = []
    for p in positions:
        f = p.figures
        role = label(f.role) + ("" if f.is_active else " (withdrawn)")
        cells: list[Cell] = [f.name, role, *(amount(getattr(f, key), c) for _, key in figures)]
        if overdue:
            cells.append(amount(p.overdue_minor, c))
        rows.append(tuple(cells))
    sums: list[Cell] = [
        amount(total(getattr(p.figures, key) for p in positions), c) for _, key in figures
    ]
    if overdue:
        sums.append(amount(total(p.overdue_minor for p in positions), c))
    columns = [Column("Partner"), Column("Role"), *(Column(t, "amount") for t, _ in figures)]
    if overdue:
        columns.append(Column("Overdue", "amount"))
    return Table(columns=tuple(columns), rows=tuple(rows), total=("Total", None, *sums))


def _partner_commitments(currency: str, positions: list[PartnerPosition]) -> Section:
    table = _partner_table(
        currency,
        positions,
        (
            ("Equity signed", "equity_signed_minor"),
            ("Asset contribution signed", "asset_contribution_signed_minor"),
            ("Corporate partnership signed", "corporate_partnership_signed_minor"),
            ("Debt arranged (as lender)", "debt_signed_minor"),
            ("Debt drawn (as lender)", "debt_drawn_minor"),
        ),
    )
    shares = tuple(percent(p.figures.equity_share_percent) for p in positions)
    table = Table(
        columns=(*table.columns, Column("Share of signed equity", "percent")),
        rows=tuple((*row, share) for row, share in zip(table.rows, shares, strict=True)),
        total=(*(table.total or ()), None),
    )
    return Section("Commitments by partner", "Partners", table=table)


def _partner_capital(currency: str, positions: list[PartnerPosition]) -> Section:
    table = _partner_table(
        currency,
        positions,
        (
            ("Called", "called_minor"),
            ("Contributed", "contributed_minor"),
            ("Unfunded", "unfunded_minor"),
            ("Outstanding", "outstanding_minor"),
        ),
        overdue=True,
    )
    words = (
        "Equity: unfunded is the signed equity commitment less what was called (plus "
        "recallable capital not yet recalled), "
        "outstanding what was called less what was contributed, overdue the part of "
        "outstanding past its due date at the report date.",
    )
    return Section("Called and contributed by partner", "Capital", paragraphs=words, table=table)


# --- distributions ---


def _dpi(value: Decimal | None) -> str:
    return "none" if value is None else f"{value}x"


def _distributions(progress: Progress, positions: list[PartnerPosition]) -> Section:
    """Distributions paid, recallable capital, net invested capital and DPI, by partner
    and for the consortium (the equity progress row)."""
    c = progress.currency
    table = _partner_table(
        c,
        positions,
        (
            ("Contributed", "contributed_minor"),
            ("Distributed", "distributed_minor"),
            ("Of it capital", "distributed_capital_minor"),
            ("Recallable, not recalled", "recallable_minor"),
            ("Net invested capital", "net_invested_minor"),
        ),
    )
    equity = progress.instrument("equity")
    table = Table(
        columns=(*table.columns, Column("DPI")),
        rows=tuple(
            (*row, _dpi(p.figures.dpi)) for row, p in zip(table.rows, positions, strict=True)
        ),
        total=(*(table.total or ()), _dpi(equity.dpi)),
    )
    words = (
        "Net invested capital is what was contributed less the distributions that return "
        "capital; DPI is all distributions divided by contributions, as a ratio rounded half "
        "up to two places. Recallable capital not yet recalled counts in unfunded.",
    )
    return Section(
        "Distributions, net invested capital and DPI",
        "Distributions",
        paragraphs=words,
        table=table,
    )


# --- interest and equalisation ---


def _interest(currency: str, positions: list[PartnerPosition]) -> Section:
    """Late-payment interest and equalisation of late joiners, by partner."""
    table = _partner_table(
        currency,
        positions,
        (
            ("Late interest owed", "late_interest_owed_minor"),
            ("Late interest waived", "late_interest_waived_minor"),
            ("Equalisation called", "equalisation_called_minor"),
            ("Equalisation owed", "equalisation_owed_minor"),
            ("Equalisation interest paid", "equalisation_interest_paid_minor"),
            ("Equalisation interest received", "equalisation_interest_received_minor"),
        ),
    )
    words = (
        "Late interest: simple interest at the consortium's default rate, actual/365, on "
        "contributions received after their call's due date, less what two people waived. "
        "Equalisation: a late joiner is called the fraction of its commitment the earlier "
        "partners were called (part of called capital) and pays interest on it, which the "
        "earlier partners receive; interest is never called capital.",
    )
    return Section("Interest and equalisation", "Interest", paragraphs=words, table=table)


def _facilities(currency: str, facilities: list[FacilityRow]) -> Section:
    if not facilities:
        return Section("Debt facilities", "Debt", paragraphs=("No debt facility is arranged.",))
    # In the base currency only, the facilities add up as they are; in another currency,
    # they add up at their historical rates (two more columns, and only those totalled).
    foreign = any(f.currency != currency for f in facilities)
    rows = []
    for f in facilities:
        cells: list[Cell] = [
            f.facility_id,
            f.lender,
            "revolving" if f.revolving else "term",
            f.maturity_on,
            *(
                amount(v, f.currency)
                for v in (
                    f.amount_minor,
                    f.drawn_minor,
                    f.repaid_minor,
                    f.outstanding_minor,
                    f.available_minor,
                )
            ),
        ]
        if foreign:
            cells += [amount(f.amount_base_minor, currency), amount(f.drawn_base_minor, currency)]
        rows.append(tuple(cells))
    columns = [
        Column("Facility"),
        Column("Lender"),
        Column("Kind"),
        Column("Maturity", "date"),
        *(
            Column(title, "amount")
            for title in ("Arranged", "Drawn", "Repaid", "Outstanding", "Available")
        ),
    ]
    totals: list[Cell]
    words: tuple[str, ...] = ()
    if foreign:
        columns += [
            Column(f"Arranged ({currency} at historical rates)", "amount"),
            Column(f"Drawn ({currency} at historical rates)", "amount"),
        ]
        totals = [None, None, None, None, None]
        totals += [
            amount(total(f.amount_base_minor for f in facilities), currency),
            amount(total(f.drawn_base_minor for f in facilities), currency),
        ]
        words = (
            "Amounts in each facility's own currency; the last two columns in the "
            f"consortium's base currency ({currency}) at the rates in force when arranged "
            "and drawn, as they count toward the targets.",
        )
    else:
        totals = [
            amount(total(getattr(f, key) for f in facilities), currency)
            for key in (
                "amount_minor",
                "drawn_minor",
                "repaid_minor",
                "outstanding_minor",
                "available_minor",
            )
        ]
    table = Table(
        columns=tuple(columns), rows=tuple(rows), total=("Total", None, None, None, *totals)
    )
    return Section("Debt facilities", "Debt", paragraphs=words, table=table)


def _months(progress: Progress) -> Section:
    c = progress.currency
    title = f"Signed and contributed, cumulative at each month end ({c})"
    if not progress.months:
        return Section(title, "By month", paragraphs=("Nothing signed or contributed yet.",))
    months = progress.months
    chart = Chart(
        title=title,
        categories=tuple(m.month for m in months),
        series=(
            Series("Signed", tuple(amount(m.signed_minor, c).value for m in months)),
            Series("Contributed", tuple(amount(m.contributed_minor, c).value for m in months)),
        ),
        currency=c,
        style="line",
    )
    table = Table(
        columns=(
            Column("Month", "date"),
            Column("Signed (cumulative)", "amount"),
            Column("Contributed (cumulative)", "amount"),
        ),
        rows=tuple(
            (m.month, amount(m.signed_minor, c), amount(m.contributed_minor, c)) for m in months
        ),
    )
    words = (
        "All instruments together, by effective date: signed counts signed commitments and "
        "facilities arranged; contributed counts equity contributions (net of reversals) "
        "and debt drawn.",
    )
    return Section(title, "By month", paragraphs=words, table=table, chart=chart)
