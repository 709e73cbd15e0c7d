"""Capital call notices: one per partner allocated, every one from one fold per call.

The fields are those of the ILPA capital call notice template: the call and its purpose,
the notice date (the day the call was issued), the due date, the partner's commitment and
pro-rata share of signed equity, the call's total and this partner's amount, cumulative
called and contributed before this call and after it (after: assuming this call is paid
in full), unfunded after the call, and where to pay.

"Before this call" counts the calls issued before it (by issue date, then call id) and
what the partner contributed to them by the report date; later calls are left out, so a
notice regenerated after further calls still describes this call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from consortium.domain.state import CallState, ConsortiumState
from consortium.projections.figures import PositionRow
from consortium.reports.builders.common import (
    amount,
    anchor_note,
    consortium_view,
    file_part,
    percent,
)
from consortium.reports.document import Anchor, Column, Document, Fact, Section, Table
from consortium.reports.errors import ReportError

NO_INSTRUCTIONS = "Payment instructions to follow"


@dataclass(frozen=True, slots=True)
class PaymentDetails:
    """The consortium's payment instruction in force (``PaymentInstruction``), as printed."""

    instruction_id: int
    beneficiary: str
    bank: str
    account: str
    bic: str
    reference: str


def build_notices(
    consortium: str,
    call_id: str,
    partners: Sequence[str] | None,
    anchor: Anchor,
    report_date: dt.date,
    payment: PaymentDetails | None,
) -> list[Document]:
    """One notice per partner allocated (``partners``; None: all of them, by id)."""
    view = consortium_view(consortium, anchor, report_date)
    state = view.state
    call = state.calls.get(call_id)
    if call is None:
        raise ReportError(
            f"{consortium!r} has no capital call {call_id!r} by {report_date.isoformat()} "
            f"(ledger position {anchor.position})."
        )
    if call.issued_on is None:
        raise ReportError(
            f"Capital call {call_id!r} is {call.status}, not issued: a notice is made once a "
            "call is issued and its allocations are fixed."
        )
    wanted = sorted(call.allocations) if partners is None else list(partners)
    unknown = [org for org in wanted if org not in call.allocations]
    if unknown:
        raise ReportError(
            f"Capital call {call_id!r} allocates nothing to "
            f"{', '.join(repr(org) for org in unknown)}."
        )
    before = _before(state, call)
    positions = {p.figures.organisation_id: p.figures for p in view.positions}
    return [
        _notice(
            state, call, org, positions[org], before.get(org, (0, 0)), anchor, report_date, payment
        )
        for org in wanted
    ]


def _before(state: ConsortiumState, call: CallState) -> dict[str, tuple[int, int]]:
    """By partner: (called, contributed) on the calls issued before ``call``."""
    assert call.issued_on is not None
    this = (call.issued_on, call.call_id)
    found: dict[str, tuple[int, int]] = {}
    for other in state.calls.values():
        if (
            other.issued_on is None
            or other.status != "issued"
            or (other.issued_on, other.call_id) >= this
        ):
            continue
        for org, allocated in other.allocations.items():
            called, contributed = found.get(org, (0, 0))
            found[org] = (called + allocated, contributed + other.contributed.get(org, 0))
    return found


def _notice(
    state: ConsortiumState,
    call: CallState,
    org: str,
    position: PositionRow,
    before: tuple[int, int],
    anchor: Anchor,
    report_date: dt.date,
    payment: PaymentDetails | None,
) -> Document:
    c = state.base_currency
    partner = state.partners[org]
    commitment, share = position.equity_signed_minor, position.equity_share_percent
    due = call.allocations[org]
    paid = call.contributed.get(org, 0)
    called_before, contributed_before = before
    called_after, contributed_after = called_before + due, contributed_before + due
    assert call.issued_on is not None
    notice = Section(
        "Capital call notice",
        "Notice",
        facts=(
            Fact("Call", call.call_id),
            Fact("Purpose", call.purpose),
            Fact("Notice date", call.issued_on),
            Fact("Due date", call.due_on),
            Fact("Partner", f"{partner.name} ({org})"),
            Fact("Total amount of this call", amount(call.amount_minor, c)),
            Fact("Your amount due", amount(due, c)),
            Fact(f"Paid on this call by {report_date.isoformat()}", amount(paid, c)),
            Fact(f"Still owed on this call at {report_date.isoformat()}", amount(due - paid, c)),
        ),
    )
    commitment_section = Section(
        "Your commitment",
        "Commitment",
        facts=(
            Fact("Equity commitment (signed)", amount(commitment, c)),
            Fact("Pro-rata share (of signed equity)", percent(share)),
        ),
        paragraphs=(
            "A call is allocated pro rata to the partners' signed equity commitments, each "
            "capped at that partner's unfunded commitment.",
        ),
    )
    cumulative = Section(
        "Cumulative called and contributed",
        "Cumulative",
        table=Table(
            columns=(
                Column(""),
                Column("Before this call", "amount"),
                Column("This call", "amount"),
                Column("After this call (assuming it is paid in full)", "amount"),
            ),
            rows=(
                ("Called", amount(called_before, c), amount(due, c), amount(called_after, c)),
                (
                    "Contributed",
                    amount(contributed_before, c),
                    amount(due, c),
                    amount(contributed_after, c),
                ),
                (
                    "Unfunded commitment",
                    amount(commitment - called_before, c),
                    amount(-due, c),
                    amount(commitment - called_after, c),
                ),
            ),
        ),
    )
    return Document(
        kind="notice",
        name=f"notice-{state.slug}-{file_part(call.call_id)}-{org}",
        title=f"Capital call notice {call.call_id}: {partner.name}",
        subtitle=f"{state.name}, due {call.due_on.isoformat()}, amounts in {c}",
        consortium=state.slug or "",
        report_date=report_date,
        anchor=anchor,
        parameters=(
            Fact("Consortium", f"{state.name} ({state.slug})"),
            Fact("Capital call", call.call_id),
            Fact("Partner", f"{partner.name} ({org})"),
            Fact("Payment instruction", str(payment.instruction_id) if payment else "none"),
        ),
        sections=(notice, commitment_section, cumulative, _payment(call, payment)),
        organisation_id=org,
        notes=(anchor_note(anchor, report_date),),
    )


def _payment(call: CallState, payment: PaymentDetails | None) -> Section:
    if payment is None:
        return Section(
            "Payment instructions",
            "Payment",
            facts=(Fact("Payment instructions", NO_INSTRUCTIONS),),
        )
    reference = f"{payment.reference} {call.call_id}".strip()
    return Section(
        "Payment instructions",
        "Payment",
        facts=(
            Fact("Beneficiary", payment.beneficiary),
            Fact("Bank", payment.bank),
            Fact("Account (IBAN)", payment.account),
            Fact("SWIFT/BIC", payment.bic),
            Fact("Reference to quote", reference),
        ),
    )
