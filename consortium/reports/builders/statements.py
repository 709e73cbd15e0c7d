"""Partner statements for a period [start, end]: every partner's from the same two folds.

A run for N partners reads the consortium's stream once (up to the anchor's position)
and folds it twice in that one pass (``asof.consortium_views_as_of``: as of the day
before ``start`` for the opening figures, as of ``end`` for the closing ones), takes the
consortium's assets once and the period's events in words from the same read, then cuts
each partner's statement out of those: the cost grows with the events and the partners,
never with their product.

Closing figures are the API's ``positions`` as of ``end`` (overdue judged on ``end``),
so a statement reconciles with ``GET /api/v1/consortia/<slug>/positions/?as_of=<end>``:
opening called + calls in the period = closing called, and opening contributed + net
contributions in the period = closing contributed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from consortium.domain import events as e
from consortium.domain.events import asset_stream_id, consortium_stream_id
from consortium.domain.state import ConsortiumState, ContributionState
from consortium.domain.vocabulary import label
from consortium.narration import describe
from consortium.projections import asof
from consortium.projections.figures import (
    AllocationRow,
    CallRow,
    Ownership,
    PartnerPosition,
    PositionRow,
    call_rows,
    is_overdue,
)
from consortium.reports.builders.common import (
    ONE_DAY,
    amount,
    anchor_note,
    percent,
    seal_notes,
    total,
)
from consortium.reports.document import Anchor, Cell, Column, Document, Fact, Section, Table
from consortium.reports.errors import ReportError
from consortium.streams import to_dated
from ledger.store import RecordedEvent, read_stream

# The signed commitment figures of a position row, in the statement's order.
_COMMITMENTS = (
    ("Equity", "equity_signed_minor"),
    ("Asset contribution", "asset_contribution_signed_minor"),
    ("Corporate partnership", "corporate_partnership_signed_minor"),
    ("Debt facilities arranged (as lender)", "debt_signed_minor"),
)


@dataclass(frozen=True, slots=True)
class _CallPart:
    call: CallRow
    allocation: AllocationRow
    overdue: bool


@dataclass(frozen=True, slots=True)
class _Run:
    """What every statement of one run is cut from."""

    slug: str
    name: str
    currency: str
    start: dt.date
    end: dt.date
    anchor: Anchor
    report_date: dt.date
    opening: dict[str, PartnerPosition]
    closing: dict[str, PartnerPosition]
    calls: dict[str, list[_CallPart]]
    state: ConsortiumState
    contributions: dict[str, list[ContributionState]]
    assets: list[Ownership]
    events: dict[str, list[tuple[dt.date, str]]]
    seal: tuple[str, ...]  # the seal of the closed period the end falls in, if any


def build_statements(
    consortium: str,
    partners: Sequence[str] | None,
    start: dt.date,
    end: dt.date,
    anchor: Anchor,
    report_date: dt.date,
) -> list[Document]:
    """One statement per partner (``partners``; None: every partner at the period's end,
    withdrawn ones included), in the order asked."""
    if end < start:
        raise ReportError(
            f"The period ends on {end.isoformat()}, before it starts on {start.isoformat()}."
        )
    recorded = read_stream(consortium_stream_id(consortium), upto_position=anchor.position)
    opening, closing = asof.consortium_views_as_of(
        consortium,
        [start - ONE_DAY, end],
        upto_position=anchor.position,
        recorded=recorded,
        open_calls=False,  # a statement lists the period's calls from the closing state
    )
    state = closing.state
    if state.slug is None:
        raise ReportError(
            f"No consortium {consortium!r} was formed by {end.isoformat()} in the ledger up "
            f"to position {anchor.position}: check the slug and the dates."
        )
    wanted = sorted(state.partners) if partners is None else list(partners)
    unknown = [org for org in wanted if org not in state.partners]
    if unknown:
        raise ReportError(
            f"{', '.join(repr(org) for org in unknown)} "
            f"{'is not a partner' if len(unknown) == 1 else 'are not partners'} of "
            f"{consortium!r} by {end.isoformat()} (ledger position {anchor.position})."
        )
    assets = asof.consortium_assets_as_of(
        consortium, effective_on=end, state=state, upto_position=anchor.position
    )
    run = _Run(
        slug=consortium,
        name=state.name,
        currency=state.base_currency,
        start=start,
        end=end,
        anchor=anchor,
        report_date=report_date,
        opening={p.figures.organisation_id: p for p in opening.positions},
        closing={p.figures.organisation_id: p for p in closing.positions},
        calls=_calls_in_period(state, start, end),
        state=state,
        contributions=_by_partner(state),
        assets=assets,
        events=_events_in_period(consortium, state, assets, start, end, recorded, anchor.position),
        seal=seal_notes(consortium, anchor, end),
    )
    return [_statement(run, org) for org in wanted]


def _by_partner(state: ConsortiumState) -> dict[str, list[ContributionState]]:
    found: dict[str, list[ContributionState]] = {}
    for contribution in state.contributions.values():
        found.setdefault(contribution.organisation_id, []).append(contribution)
    return found


def _calls_in_period(
    state: ConsortiumState, start: dt.date, end: dt.date
) -> dict[str, list[_CallPart]]:
    """By partner, its allocations of the calls issued in the period (by issue date)."""
    found: dict[str, list[_CallPart]] = {}
    issued = [
        c for c in state.calls.values() if c.issued_on is not None and start <= c.issued_on <= end
    ]
    for call in sorted(issued, key=lambda c: (c.issued_on, c.call_id)):
        row, parts = call_rows(state, call)
        for part in parts:
            overdue = is_overdue(part.status, part.due_on, part.outstanding_minor, end)
            found.setdefault(part.organisation_id, []).append(_CallPart(row, part, overdue))
    return found


def _concerned(state: ConsortiumState, event: e.Event) -> set[str]:
    """The organisations an event of the consortium's stream concerns."""
    if isinstance(
        event, e.PartnerAdmitted | e.PartnerRoleChanged | e.PartnerWithdrew | e.CommitmentRecorded
    ):
        return {event.organisation_id}
    if isinstance(event, e.ContributionReceived):
        return {event.organisation_id}
    if isinstance(event, e.CommitmentStageAdvanced | e.CommitmentAmended):
        commitment = state.commitments.get(event.commitment_id)
        return {commitment.organisation_id} if commitment else set()
    if isinstance(event, e.ContributionReversed):
        contribution = state.contributions.get(event.contribution_id)
        return {contribution.organisation_id} if contribution else set()
    if isinstance(event, e.CapitalCallIssued):
        return {a.organisation_id for a in event.allocations}
    if isinstance(event, e.DebtFacilityArranged):
        return {event.lender}
    if isinstance(event, e.DebtFacilityDrawn | e.DebtFacilityRepaid):
        facility = state.facilities.get(event.facility_id)
        return {facility.lender} if facility else set()
    return _interest_concerned(state, event)


# --- interest and equalisation ---------------------------------------------------------


def _interest_concerned(state: ConsortiumState, event: e.Event) -> set[str]:
    """The organisations an interest or equalisation event concerns."""
    if isinstance(event, e.LatePaymentInterestCharged):
        return {event.organisation_id}
    if isinstance(event, e.LatePaymentInterestWaiverProposed | e.LatePaymentInterestWaived):
        charge = state.late_interest.get(event.contribution_id)
        return {charge.organisation_id} if charge else set()
    if isinstance(event, e.EqualisationCallPrepared):
        return {event.organisation_id} | {a.organisation_id for a in event.interest_shares}
    if isinstance(event, e.EqualisationCallApproved):
        equalisation = state.equalisations.get(event.call_id)
        if equalisation is None:
            return set()
        return {equalisation.organisation_id} | set(equalisation.interest_shares)
    # --- distributions: the partners with a share ---
    if isinstance(event, e.DistributionPrepared):
        return {share.organisation_id for share in event.shares}
    if isinstance(event, e.DistributionApproved | e.DistributionPaid):
        distribution = state.distributions.get(event.distribution_id)
        return set(distribution.shares) if distribution else set()
    return set()


def _interest(run: _Run, org: str) -> Section:
    """Late-payment interest charged, waived or cancelled in the period, and equalisation
    (capital called and interest paid by a late joiner, interest received by an earlier
    partner) issued in it. Interest is never capital: it is not in called or contributed."""
    c, title = run.currency, "Interest and equalisation in the period"
    rows: list[tuple[tuple[dt.date, str, int], tuple[Cell, ...]]] = []
    for charge in run.state.late_interest.values():
        if charge.organisation_id != org:
            continue
        cid, minor = charge.contribution_id, charge.amount_minor
        lines = [
            (charge.charged_on, "Late-payment interest charged", minor),
            (charge.waived_on, f"Late-payment interest waived (by {charge.waived_by})", -minor),
            (charge.cancelled_on, "Late-payment interest cancelled (payment reversed)", -minor),
        ]
        for n, (on, what, figure) in enumerate(lines):
            if on is not None and run.start <= on <= run.end:
                rows.append(((on, cid, n), (on, cid, what, amount(figure, c))))
    for q in run.state.equalisations.values():
        on = q.approved_on
        if on is None or not run.start <= on <= run.end:
            continue
        if q.organisation_id == org:
            rows.append(
                (
                    (on, q.call_id, 0),
                    (on, q.call_id, "Equalisation call (capital)", amount(q.amount_minor, c)),
                )
            )
            rows.append(
                (
                    (on, q.call_id, 1),
                    (on, q.call_id, "Equalisation interest to pay", amount(q.interest_minor, c)),
                )
            )
        if q.interest_shares.get(org):
            share = q.interest_shares[org]
            rows.append(
                (
                    (on, q.call_id, 2),
                    (on, q.call_id, "Equalisation interest received", amount(share, c)),
                )
            )
    owed = run.closing[org].figures.late_interest_owed_minor
    facts = (Fact("Late-payment interest owed at the period's end", amount(owed, c)),)
    if not rows:
        return Section(title, "Interest", paragraphs=("None.",), facts=facts)
    rows.sort(key=lambda row: row[0])
    table = Table(
        columns=(
            Column("Date", "date"),
            Column("Reference"),
            Column("What"),
            Column("Amount", "amount"),
        ),
        rows=tuple(row[1] for row in rows),
    )
    words = (
        "Late-payment interest is simple, actual/365, at the default rate in force on the "
        "call's due date, rounded once to the cent half up; equalisation interest runs from "
        "each earlier call's due date to the equalisation due date. Neither is capital.",
    )
    return Section(title, "Interest", paragraphs=words, table=table, facts=facts)


def _events_in_period(
    slug: str,
    state: ConsortiumState,
    assets: list[Ownership],
    start: dt.date,
    end: dt.date,
    recorded: Sequence[RecordedEvent],
    position: int,
) -> dict[str, list[tuple[dt.date, str]]]:
    """By partner, the period's events (by effective date) concerning it, in words: from
    the consortium's stream (read once for every partner) and its assets' streams (a stake
    the partner holds directly, or the consortium holds for all its partners)."""
    names = {slug: state.name}
    names.update({org: p.name for org, p in state.partners.items()})
    names.update({o.asset.asset_id: o.asset.name for o in assets})
    streams = [
        (event, _concerned(state, to_dated(event).event))
        for event in recorded
        if _in(event, start, end)
    ]
    everyone = set(state.partners)
    for owned in assets:
        for event in read_stream(asset_stream_id(owned.asset.asset_id), upto_position=position):
            if _in(event, start, end):
                streams.append((event, _stake_holders(slug, everyone, to_dated(event).event)))
    found: dict[str, list[tuple[dt.date, str]]] = {}
    for event, concerned in streams:
        on = event.effective_on
        assert on is not None
        if concerned:
            sentence = describe(event, names)
            for org in concerned:
                found.setdefault(org, []).append((on, sentence))
    for lines in found.values():
        lines.sort(key=lambda line: line[0])  # stable: ledger order within a day
    return found


def _in(event: RecordedEvent, start: dt.date, end: dt.date) -> bool:
    return event.effective_on is not None and start <= event.effective_on <= end


def _stake_holders(slug: str, partners: set[str], event: e.Event) -> set[str]:
    """The partners a stake event concerns: an organisation holding directly, every
    partner when the consortium itself is a party (their look-through changes)."""
    if isinstance(event, e.StakeAcquired | e.StakeSold):
        holders = [event.holder]
    elif isinstance(event, e.StakeTransferred):
        holders = [event.from_holder, event.to_holder]
    else:
        return set()
    if any(h.kind == "consortium" and h.id == slug for h in holders):
        return set(partners)
    return {h.id for h in holders if h.kind == "organisation" and h.id in partners}


def _statement(run: _Run, org: str) -> Document:
    partner = run.state.partners[org]
    closing = run.closing[org].figures
    opening_position = run.opening.get(org)
    opening = opening_position.figures if opening_position else None
    period = f"{run.start.isoformat()} to {run.end.isoformat()}"
    sections = (
        _summary(run, org, opening, closing),
        _commitments(run, opening, closing),
        _calls(run, org),
        _contributions(run, org),
        _interest(run, org),  # --- interest and equalisation ---
        _distributions(run, org, closing),  # --- distributions ---
        _ownership(run, org),
        _events(run, org),
    )
    return Document(
        kind="statement",
        name=f"statement-{run.slug}-{org}-{run.start.isoformat()}-{run.end.isoformat()}",
        title=f"Partner statement: {partner.name}",
        subtitle=f"{run.name}, {period}, figures in {run.currency}",
        consortium=run.slug,
        report_date=run.report_date,
        anchor=run.anchor,
        parameters=(
            Fact("Consortium", f"{run.name} ({run.slug})"),
            Fact("Partner", f"{partner.name} ({org})"),
            Fact("Period start", run.start),
            Fact("Period end", run.end),
        ),
        sections=sections,
        organisation_id=org,
        notes=(
            anchor_note(run.anchor, run.report_date),
            *run.seal,
        ),
    )


def _minor(row: PositionRow | None, key: str) -> int:
    return getattr(row, key) if row is not None else 0


def _summary(run: _Run, org: str, opening: PositionRow | None, closing: PositionRow) -> Section:
    c = run.currency
    called_in_period = total(p.allocation.amount_minor for p in run.calls.get(org, []))
    contributed_in_period = closing.contributed_minor - _minor(opening, "contributed_minor")
    facts = (
        Fact("Role", label(closing.role) + ("" if closing.is_active else " (withdrawn)")),
        Fact("Equity commitment at the end", amount(closing.equity_signed_minor, c)),
        Fact("Share of signed equity at the end", percent(closing.equity_share_percent)),
        Fact("Called at the start", amount(_minor(opening, "called_minor"), c)),
        Fact("Called in the period", amount(called_in_period, c)),
        Fact("Called at the end", amount(closing.called_minor, c)),
        Fact("Contributed at the start", amount(_minor(opening, "contributed_minor"), c)),
        Fact("Contributed in the period (net of reversals)", amount(contributed_in_period, c)),
        Fact("Contributed at the end", amount(closing.contributed_minor, c)),
        Fact("Unfunded at the end", amount(closing.unfunded_minor, c)),
        Fact("Outstanding at the end", amount(closing.outstanding_minor, c)),
        Fact(
            f"Overdue at the end (due before {run.end.isoformat()})",
            amount(run.closing[org].overdue_minor, c),
        ),
    )
    words = (
        "Unfunded is the signed equity commitment less what was called, plus recallable "
        "capital not yet recalled; outstanding is what "
        "was called less what was contributed; overdue is the part of outstanding whose due "
        "date had passed at the period's end.",
    )
    return Section("Summary", "Summary", paragraphs=words, facts=facts)


def _commitments(run: _Run, opening: PositionRow | None, closing: PositionRow) -> Section:
    c = run.currency
    rows = []
    for title, key in _COMMITMENTS:
        before, after = _minor(opening, key), _minor(closing, key)
        rows.append((title, amount(before, c), amount(after, c), amount(after - before, c)))
    opening_on = (run.start - ONE_DAY).isoformat()
    table = Table(
        columns=(
            Column("Instrument"),
            Column(f"Opening ({opening_on})", "amount"),
            Column(f"Closing ({run.end.isoformat()})", "amount"),
            Column("Change", "amount"),
        ),
        rows=tuple(rows),
    )
    words = (
        "Signed commitments; asset contributions, corporate partnerships and facilities in "
        f"other currencies at their {c} value at the rate in force on their date.",
    )
    return Section("Commitments", "Commitments", paragraphs=words, table=table)


def _calls(run: _Run, org: str) -> Section:
    c = run.currency
    parts = run.calls.get(org, [])
    if not parts:
        return Section("Capital calls in the period", "Calls", paragraphs=("None.",))
    rows: list[tuple[Cell, ...]] = [
        (
            p.call.call_id,
            p.call.purpose,
            p.call.issued_on,
            p.allocation.due_on,
            amount(p.allocation.amount_minor, c),
            amount(p.allocation.contributed_minor, c),
            amount(p.allocation.outstanding_minor, c),
            label(p.allocation.status) + (", overdue" if p.overdue else ""),
        )
        for p in parts
    ]
    table = Table(
        columns=(
            Column("Call"),
            Column("Purpose"),
            Column("Issued on", "date"),
            Column("Due on", "date"),
            Column("Your allocation", "amount"),
            Column(f"Contributed by {run.end.isoformat()}", "amount"),
            Column("Outstanding", "amount"),
            Column("Status"),
        ),
        rows=tuple(rows),
        total=(
            "Total",
            None,
            None,
            None,
            amount(total(p.allocation.amount_minor for p in parts), c),
            amount(total(p.allocation.contributed_minor for p in parts), c),
            amount(total(p.allocation.outstanding_minor for p in parts), c),
            None,
        ),
    )
    return Section("Capital calls in the period", "Calls", table=table)


def _contributions(run: _Run, org: str) -> Section:
    c = run.currency
    # (date, contribution id, 0 received / 1 reversed): the order of the lines.
    entries: list[tuple[tuple[dt.date, str, int], tuple[Cell, ...], int]] = []
    for contribution in run.contributions.get(org, []):
        cid, reversed_on = contribution.contribution_id, contribution.reversed_on
        if run.start <= contribution.received_on <= run.end:
            note = f"reversed on {reversed_on.isoformat()}" if reversed_on else ""
            cells: tuple[Cell, ...] = (
                contribution.received_on,
                contribution.call_id,
                cid,
                contribution.bank_reference,
                amount(contribution.amount_minor, c),
                note,
            )
            entries.append(((contribution.received_on, cid, 0), cells, contribution.amount_minor))
        if reversed_on is not None and run.start <= reversed_on <= run.end:
            reason = contribution.reversal_reason
            cells = (
                reversed_on,
                contribution.call_id,
                cid,
                contribution.bank_reference,
                amount(-contribution.amount_minor, c),
                f"reversal{': ' + reason if reason else ''}",
            )
            entries.append(((reversed_on, cid, 1), cells, -contribution.amount_minor))
    if not entries:
        return Section("Contributions in the period", "Contributions", paragraphs=("None.",))
    entries.sort(key=lambda entry: entry[0])
    table = Table(
        columns=(
            Column("Date", "date"),
            Column("Call"),
            Column("Contribution"),
            Column("Bank reference"),
            Column("Amount", "amount"),
            Column("Note"),
        ),
        rows=tuple(entry[1] for entry in entries),
        total=(
            "Net in the period",
            None,
            None,
            None,
            amount(total(entry[2] for entry in entries), c),
            None,
        ),
    )
    words = (
        "Cash received on the date the bank received it; a reversal (a payment recorded in "
        "error or returned by the bank) is shown as a negative line on its own date.",
    )
    return Section("Contributions in the period", "Contributions", paragraphs=words, table=table)


# --- distributions ---


def _distributions(run: _Run, org: str, closing: PositionRow) -> Section:
    """The distributions paid to the partner in the period (its share, and the part of it
    that is recallable), then its distribution figures at the end of the period."""
    c = run.currency
    paid = sorted(
        (
            d
            for d in run.state.distributions.values()
            if d.paid_on is not None and run.start <= d.paid_on <= run.end and org in d.shares
        ),
        key=lambda d: (d.paid_on or run.end, d.distribution_id),
    )
    facts = (
        Fact("Distributed at the end (all periods)", amount(closing.distributed_minor, c)),
        Fact("Of it, return of capital", amount(closing.distributed_capital_minor, c)),
        Fact(
            "Recallable at the end (not yet recalled; counted in unfunded)",
            amount(closing.recallable_minor, c),
        ),
        Fact("Net invested capital at the end", amount(closing.net_invested_minor, c)),
        Fact(
            "DPI at the end (distributions / contributions)",
            "none" if closing.dpi is None else f"{closing.dpi}x",
        ),
    )
    words = (
        "A distribution is shared pro rata to contributed capital (or to commitment, where it "
        "says so) to the cent. A recallable part adds back to your unfunded commitment and "
        "may be called again.",
    )
    title = "Distributions in the period"
    if not paid:
        return Section(title, "Distributions", paragraphs=("None.", *words), facts=facts)
    table = Table(
        columns=(
            Column("Paid on", "date"),
            Column("Distribution"),
            Column("Kind"),
            Column("Your share", "amount"),
            Column("Of it recallable", "amount"),
        ),
        rows=tuple(
            (
                d.paid_on or run.end,
                d.distribution_id,
                "return of capital" if d.kind == "capital" else "income",
                amount(d.shares[org], c),
                amount(d.recallable.get(org, 0), c),
            )
            for d in paid
        ),
        total=(
            "In the period",
            None,
            None,
            amount(total(d.shares[org] for d in paid), c),
            amount(total(d.recallable.get(org, 0) for d in paid), c),
        ),
    )
    return Section(title, "Distributions", paragraphs=words, facts=facts, table=table)


def _ownership(run: _Run, org: str) -> Section:
    rows = []
    for owned in run.assets:
        for line in owned.look_through:
            if line.organisation_id == org:
                rows.append(
                    (
                        owned.asset.asset_id,
                        owned.asset.name,
                        label(owned.asset.kind),
                        percent(line.direct_percent),
                        percent(line.indirect_percent),
                        percent(line.total_percent),
                    )
                )
    title = f"Ownership of assets at {run.end.isoformat()}"
    if not rows:
        return Section(title, "Ownership", paragraphs=("No stake, direct or look-through.",))
    table = Table(
        columns=(
            Column("Asset"),
            Column("Name"),
            Column("Kind"),
            Column("Direct", "percent"),
            Column("Look-through (via consortia)", "percent"),
            Column("Effective share", "percent"),
        ),
        rows=tuple(rows),
    )
    words = (
        "Look-through: for each consortium holding a stake, your share of its signed equity "
        "times its stake; effective share = direct + look-through.",
    )
    return Section(title, "Ownership", paragraphs=words, table=table)


def _events(run: _Run, org: str) -> Section:
    lines = run.events.get(org, [])
    if not lines:
        return Section("Events in the period", "Events", paragraphs=("None.",))
    table = Table(
        columns=(Column("Effective on", "date"), Column("Event")),
        rows=tuple((on, sentence) for on, sentence in lines),
    )
    return Section("Events in the period", "Events", table=table)
