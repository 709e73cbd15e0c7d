"""Capital calls: rule 4 (never above unfunded, exact allocation) and rule 7 (two people)."""

from __future__ import annotations

from datetime import date

from consortium.domain.commands import (
    AdvanceCommitmentStage,
    ApproveCapitalCall,
    CancelCapitalCall,
    PrepareCapitalCall,
)
from consortium.domain.errors import (
    AlreadyExists,
    CallExceedsUnfunded,
    DateBeforeDependency,
    InvalidDate,
    InvalidTransition,
    NotAPerson,
    NotFound,
    SamePersonCannotApprove,
)
from consortium.domain.events import CapitalCallIssued
from consortium.domain.positions import partner_position, total_position
from consortium.domain.values import Allocation


def test_an_issued_call_is_allocated_pro_rata_to_signed_equity(aip, make) -> None:
    aip.given(make.prepare("call-1", "800000000"), make.approve("call-1"))
    events = aip.when(make.issue("call-1"))
    assert events == [
        CapitalCallIssued(
            "call-1",
            (
                Allocation("blackrock", make.usd("300000000")),
                Allocation("mgx", make.usd("200000000")),
                Allocation("microsoft", make.usd("300000000")),
            ),
        )
    ]
    call = aip.state.calls["call-1"]
    assert call.status == "issued"
    assert call.issued_on == date(2025, 4, 3)
    assert total_position(aip.state).called == make.usd("800000000")
    assert total_position(aip.state).unfunded == make.usd("7200000000")


def test_a_partner_capped_at_its_unfunded_passes_the_rest_to_the_others(aip, make) -> None:
    # A first call lands on MGX alone: 1.9 bn of its 3.9 bn signed is called.
    aip.given(
        make.commit("c-mgx-a", "mgx", "1900000000", on=date(2024, 10, 1)),
        make.prepare("call-1", "1900000000", on=date(2025, 4, 1)),
    )
    aip.given(
        AdvanceCommitmentStage("c-blackrock", "withdrawn", date(2025, 4, 1)),
        AdvanceCommitmentStage("c-microsoft", "withdrawn", date(2025, 4, 1)),
        make.approve("call-1", on=date(2025, 4, 1)),
        make.issue("call-1", on=date(2025, 4, 1)),
        make.commit("c-blackrock-2", "blackrock", "3000000000", on=date(2025, 4, 2)),
        make.commit("c-microsoft-2", "microsoft", "3000000000", on=date(2025, 4, 2)),
    )
    assert partner_position(aip.state, "mgx").equity.unfunded == make.usd("2000000000")
    aip.given(*make.called("call-2", "6000000000", on=date(2025, 4, 3)))
    allocations = aip.state.calls["call-2"].allocations
    # Pro rata on 9.9 bn signed MGX would take 2.36 bn; capped at its 2.0 bn unfunded.
    assert allocations == {
        "blackrock": 200_000_000_000,
        "microsoft": 200_000_000_000,
        "mgx": 200_000_000_000,
    }
    assert sum(allocations.values()) == 600_000_000_000


def test_a_call_never_exceeds_total_unfunded_equity(aip, make) -> None:
    aip.refuses(
        make.prepare("call-1", "8000000000.01"),
        CallExceedsUnfunded,
        "The total unfunded equity is USD 8,000,000,000.00; a call of USD 8,000,000,000.01 "
        "exceeds it.",
    )


def test_two_drafts_within_unfunded_cannot_both_be_issued(aip, make) -> None:
    aip.given(
        make.prepare("call-1", "5000000000"),
        make.prepare("call-2", "5000000000"),
        make.approve("call-1"),
        make.approve("call-2"),
        make.issue("call-1"),
    )
    aip.refuses(make.issue("call-2"), CallExceedsUnfunded, "USD 3,000,000,000.00")


def test_the_preparer_cannot_approve_their_own_call(aip, make) -> None:
    aip.given(make.prepare("call-1", "100", by="alice"))
    aip.refuses(
        make.approve("call-1", by=" Alice "),
        SamePersonCannotApprove,
        "Alice prepared capital call 'call-1'; a second person must approve it",
    )
    assert aip.state.calls["call-1"].status == "draft"


def test_approver_and_preparer_are_named_people(aip, make) -> None:
    aip.refuses(make.prepare("call-1", "100", by=""), NotAPerson, "preparer must be a named")
    aip.refuses(make.prepare("call-1", "100", by="system:api"), NotAPerson, "not the system")
    aip.given(make.prepare("call-1", "100"))
    aip.refuses(make.approve("call-1", by="   "), NotAPerson, "approver must be a named")
    aip.refuses(make.approve("call-1", by="apikey:finance"), NotAPerson, "system account")


def test_the_lifecycle_is_draft_approved_issued(aip, make) -> None:
    aip.given(make.prepare("call-1", "100"))
    aip.refuses(make.issue("call-1"), InvalidTransition, "is draft; it can be issued only")
    aip.given(make.approve("call-1"))
    aip.refuses(make.approve("call-1", by="carol"), InvalidTransition, "is approved")
    aip.given(make.issue("call-1"))
    aip.refuses(make.issue("call-1"), InvalidTransition, "is issued")


def test_a_call_is_cancelled_only_while_draft_or_approved(aip, make) -> None:
    aip.given(make.prepare("call-1", "100"), make.prepare("call-2", "100"))
    aip.when(CancelCapitalCall("call-1", "Sites delayed", date(2025, 4, 1)))
    aip.given(make.approve("call-2"))
    aip.when(CancelCapitalCall("call-2", "Superseded", date(2025, 4, 2)))
    assert aip.state.calls["call-2"].status == "cancelled"
    aip.refuses(make.issue("call-2"), InvalidTransition, "is cancelled")
    aip.given(*make.called("call-3", "100"))
    aip.refuses(
        CancelCapitalCall("call-3", "Too late", date(2025, 4, 5)),
        InvalidTransition,
        "can be cancelled only while draft or approved",
    )


def test_calls_have_unique_ids_a_purpose_and_a_due_date_after_the_call(aip, make) -> None:
    aip.given(make.prepare("call-1", "100"))
    aip.refuses(make.prepare("call-1", "100"), AlreadyExists, "Capital call 'call-1'")
    late = PrepareCapitalCall(
        "call-2", make.usd("1"), date(2025, 3, 1), "Sites", "alice", date(2025, 4, 1)
    )
    aip.refuses(late, DateBeforeDependency, "2025-03-01 is before the call's own date")
    aip.refuses(ApproveCapitalCall("call-9", "bob", date(2025, 4, 2)), NotFound, "call-9")


def test_a_call_is_not_issued_after_it_falls_due(aip, make) -> None:
    aip.given(make.prepare("call-1", "100"), make.approve("call-1"))
    aip.refuses(make.issue("call-1", on=date(2025, 5, 2)), InvalidDate, "is due on 2025-05-01")
