"""Late-payment interest: dated rates, interest charged with a late contribution (simple,
actual/365, rounded once half up), and a waiver that takes two people."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from consortium.domain.commands import (
    AdmitPartner,
    ApproveCapitalCall,
    ApproveEqualisationCall,
    ApproveLateInterestWaiver,
    FormConsortium,
    IssueCapitalCall,
    PrepareCapitalCall,
    PrepareEqualisationCall,
    ProposeLateInterestWaiver,
    ReceiveContribution,
    RecordCommitment,
    ReverseContribution,
    SetInterestRate,
)
from consortium.domain.errors import (
    AlreadyExists,
    DateBeforeDependency,
    InvalidAmount,
    InvalidInput,
    InvalidTransition,
    NotAPerson,
    NotFound,
    SamePersonCannotApprove,
)
from consortium.domain.events import (
    ContributionReceived,
    EqualisationCallApproved,
    EqualisationCallPrepared,
    LatePaymentInterestCharged,
)
from consortium.domain.interest import late_interest_minor
from consortium.domain.money import Money
from consortium.domain.state import ConsortiumState, fold_consortium
from consortium.domain.values import Allocation
from tests.consortium.domain.conftest import Stream

DUE = date(2025, 5, 1)  # conftest's calls are due on 1 May 2025


def default_rate(rate: str, on: date = date(2025, 1, 1)) -> SetInterestRate:
    return SetInterestRate("default", Decimal(rate), on)


def test_the_rate_in_force_is_the_latest_set_on_or_before_the_day(aip) -> None:
    aip.given(default_rate("8", date(2025, 1, 1)), default_rate("6.5", date(2025, 6, 1)))
    aip.given(default_rate("7", date(2025, 3, 1)))  # set later, dated between the two
    state = aip.state
    assert state.interest_rate_on("default", date(2024, 12, 31)) == 0
    assert state.interest_rate_on("default", date(2025, 2, 28)) == Decimal(8)
    assert state.interest_rate_on("default", date(2025, 3, 1)) == Decimal(7)
    assert state.interest_rate_on("default", date(2025, 6, 1)) == Decimal("6.5")
    assert state.interest_rate_on("equalisation", date(2025, 6, 1)) == 0


def test_a_late_contribution_owes_interest_in_the_same_decision(aip, make) -> None:
    """Hand-computed: USD 200,000,000 paid 30 days late at 8 %:
    200,000,000 x 8 % x 30 / 365 = 1,315,068.4931... -> USD 1,315,068.49."""
    aip.given(default_rate("8"), *make.called("call-1", "800000000"))
    assert aip.state.calls["call-1"].allocations["mgx"] == 20_000_000_000
    paid_on = date(2025, 5, 31)
    events = aip.when(make.pay("p-1", "call-1", "mgx", "200000000", on=paid_on))
    assert events == [
        ContributionReceived("p-1", "call-1", "mgx", make.usd("200000000"), paid_on, "REF-p-1"),
        LatePaymentInterestCharged(
            "p-1", "call-1", "mgx", make.usd("1315068.49"), Decimal(8), DUE, paid_on
        ),
    ]
    assert aip.state.partners["mgx"].late_interest_minor == 131_506_849
    # never capital: called and contributed are unchanged by the interest
    assert aip.state.partners["mgx"].called_minor == 20_000_000_000
    assert aip.state.partners["mgx"].contributed_minor == 20_000_000_000


def test_interest_is_rounded_once_half_up() -> None:
    # USD 182.50 one day late at 1 %: exactly half a cent, which rounds up.
    assert late_interest_minor(18_250, Decimal(1), 1) == 1
    assert late_interest_minor(18_249, Decimal(1), 1) == 0
    # 365 days at 8 % on USD 25.00 is USD 2.00 exactly; 122 days is 0.6684... -> 0.67.
    assert late_interest_minor(2_500, Decimal(8), 365) == 200
    assert late_interest_minor(2_500, Decimal(8), 122) == 67


def test_no_interest_on_a_payment_on_or_before_the_due_date(aip, make) -> None:
    aip.given(default_rate("8"), *make.called("call-1", "800000000"))
    on_due = aip.when(make.pay("p-1", "call-1", "mgx", "100000000", on=DUE))
    early = aip.when(make.pay("p-2", "call-1", "mgx", "100000000", on=date(2025, 4, 20)))
    assert [type(e) for e in on_due + early] == [ContributionReceived, ContributionReceived]
    assert aip.state.late_interest == {}


def test_no_interest_without_a_default_rate_or_at_zero(aip, make) -> None:
    aip.given(*make.called("call-1", "800000000"))
    late = aip.when(make.pay("p-1", "call-1", "mgx", "100000000", on=date(2025, 6, 1)))
    assert [type(e) for e in late] == [ContributionReceived]
    aip.given(default_rate("0", date(2025, 2, 1)))
    late = aip.when(make.pay("p-2", "call-1", "mgx", "100000000", on=date(2025, 6, 1)))
    assert [type(e) for e in late] == [ContributionReceived]


def test_the_rate_is_the_one_in_force_on_the_due_date(aip, make) -> None:
    aip.given(default_rate("8"), default_rate("20", date(2025, 5, 2)))
    aip.given(*make.called("call-1", "800000000"))
    events = aip.when(make.pay("p-1", "call-1", "mgx", "36500", on=date(2025, 5, 11)))
    charged = events[1]
    assert isinstance(charged, LatePaymentInterestCharged)
    assert charged.rate == Decimal(8)
    assert charged.amount == make.usd("80.00")  # 36,500 x 8 % x 10 / 365


@pytest.mark.parametrize(
    ("rate", "match"),
    [
        (Decimal("-1"), "cannot be negative"),
        (Decimal("800"), "more than 100 %"),
        (Decimal("8.00001"), "at most 4 decimal places"),
        (Decimal("NaN"), "exact decimal percent"),
        (8.0, "exact decimal percent"),
    ],
)
def test_negative_or_absurd_rates_are_refused(aip, rate, match) -> None:
    aip.refuses(SetInterestRate("default", rate, date(2025, 1, 1)), InvalidAmount, match)


def test_a_rate_kind_must_be_known_and_a_date_set_once(aip) -> None:
    aip.refuses(
        SetInterestRate("penalty", Decimal(8), date(2025, 1, 1)), InvalidInput, "one of default"
    )
    aip.given(default_rate("8"))
    aip.refuses(default_rate("9"), AlreadyExists, "already set")
    aip.given(SetInterestRate("equalisation", Decimal(8), date(2025, 1, 1)))  # another kind


@pytest.fixture
def charged(aip, make):
    """MGX paid USD 200 m thirty days late at 8 %: USD 1,315,068.49 of interest owed."""
    aip.given(default_rate("8"), *make.called("call-1", "800000000"))
    aip.given(make.pay("p-1", "call-1", "mgx", "200000000", on=date(2025, 5, 31)))
    return aip


def propose(by: str = "alice", on: date = date(2025, 6, 2)) -> ProposeLateInterestWaiver:
    return ProposeLateInterestWaiver("p-1", by, "The bank delayed the transfer", on)


def approve(by: str = "bob", on: date = date(2025, 6, 3)) -> ApproveLateInterestWaiver:
    return ApproveLateInterestWaiver("p-1", by, on)


def test_a_waiver_proposed_and_approved_by_two_people_waives_the_interest(charged) -> None:
    charged.given(propose())
    assert charged.state.partners["mgx"].late_interest_minor == 131_506_849  # not yet
    charged.given(approve())
    mgx = charged.state.partners["mgx"]
    assert (mgx.late_interest_minor, mgx.late_interest_waived_minor) == (0, 131_506_849)
    # as of the day before the approval, it was still owed
    before = charged.as_of(date(2025, 6, 2))
    assert before.partners["mgx"].late_interest_minor == 131_506_849


def test_waiving_alone_is_refused(charged) -> None:
    charged.refuses(approve("alice"), InvalidInput, "Nobody has proposed waiving")
    charged.given(propose("alice"))
    charged.refuses(approve("alice"), SamePersonCannotApprove, "second person")
    charged.refuses(approve(" ALICE "), SamePersonCannotApprove, "second person")
    charged.refuses(approve(""), NotAPerson, "named person")
    charged.refuses(propose("carol"), AlreadyExists, "already proposed")


def test_a_waiver_needs_interest_that_is_still_owed(charged, make) -> None:
    charged.refuses(
        ProposeLateInterestWaiver("p-9", "alice", "x", date(2025, 6, 2)), NotFound, "No late"
    )
    charged.refuses(propose(on=date(2025, 5, 30)), DateBeforeDependency, "interest was charged")
    charged.given(propose(), approve())
    charged.refuses(approve("carol"), InvalidTransition, "already waived")


def test_reversing_the_contribution_cancels_its_interest(charged) -> None:
    charged.given(ReverseContribution("p-1", "Returned by the bank", date(2025, 6, 5)))
    mgx = charged.state.partners["mgx"]
    assert (mgx.late_interest_minor, mgx.late_interest_waived_minor) == (0, 0)
    charged.refuses(propose(on=date(2025, 6, 6)), InvalidTransition, "was reversed")


def test_the_fold_of_the_history_equals_the_running_state(charged) -> None:
    charged.given(propose(), approve())
    refolded = fold_consortium(charged.history)
    assert refolded.late_interest == charged.state.late_interest
    assert refolded.partners == charged.state.partners


# --- equalisation -----------------------------------------------------------------------


def domain_example():
    """DOMAIN.md: commitments A 60, B 40, called 50 % (A 30, B 20) due 1 March; C commits
    50 and is equalised on 1 July at 8 %."""

    def usd(amount: object) -> Money:
        return Money.of(amount, "USD")  # type: ignore[arg-type]

    jan = date(2025, 1, 2)
    stream = Stream(ConsortiumState()).given(
        FormConsortium("Example", "example", "USD", jan),
        SetInterestRate("equalisation", Decimal(8), jan),
        AdmitPartner("a", "A", "member", jan),
        AdmitPartner("b", "B", "member", jan),
        RecordCommitment("c-a", "a", "equity", usd(60), "signed", jan),
        RecordCommitment("c-b", "b", "equity", usd(40), "signed", jan),
        PrepareCapitalCall("call-1", usd(50), date(2025, 3, 1), "Land", "alice", date(2025, 2, 1)),
        ApproveCapitalCall("call-1", "bob", date(2025, 2, 2)),
        IssueCapitalCall("call-1", date(2025, 2, 3)),
        ReceiveContribution("k-a", "call-1", "a", usd(30), "A-1", date(2025, 3, 1)),
        ReceiveContribution("k-b", "call-1", "b", usd(20), "B-1", date(2025, 3, 1)),
        AdmitPartner("c", "C", "member", date(2025, 5, 1)),
        RecordCommitment("c-c", "c", "equity", usd(50), "signed", date(2025, 5, 1)),
    )
    return stream, usd


def equalise(by: str = "alice") -> PrepareEqualisationCall:

    return PrepareEqualisationCall("eq-c", "c", date(2025, 7, 1), by, date(2025, 6, 1))


def approve_equalisation(by: str = "bob", on: date = date(2025, 6, 2)) -> ApproveEqualisationCall:

    return ApproveEqualisationCall("eq-c", by, on)


def test_the_domain_example_exactly() -> None:
    """C owes 25 plus 25 x 8 % x 122 / 365 = 0.6684... -> 0.67, paid 0.40 to A and 0.27
    to B (pro rata 30 : 20 = 0.402 : 0.268, largest remainder)."""

    stream, usd = domain_example()
    [prepared] = stream.when(equalise())
    assert prepared == EqualisationCallPrepared(
        "eq-c",
        "c",
        usd("25.00"),
        date(2025, 7, 1),
        Decimal(8),
        usd("0.67"),
        ("call-1",),
        (Allocation("a", usd("0.40")), Allocation("b", usd("0.27"))),
        "alice",
    )
    assert stream.state.partners["c"].called_minor == 0  # a draft calls nothing yet
    assert stream.when(approve_equalisation()) == [EqualisationCallApproved("eq-c", "bob")]
    a, b, c = (stream.state.partners[org] for org in "abc")
    assert (c.called_minor, c.equalisation_called_minor) == (2500, 2500)  # 50 % of 50
    assert c.equalisation_interest_paid_minor == 67  # never capital
    assert (a.equalisation_interest_received_minor, b.equalisation_interest_received_minor) == (
        40,
        27,
    )
    assert (a.called_minor, b.called_minor) == (3000, 2000)
    # C pays its equalisation call like any call

    stream.when(ReceiveContribution("k-c", "eq-c", "c", usd(25), "C-1", date(2025, 7, 1)))
    assert stream.state.calls["eq-c"].owed_minor("c") == 0
    assert fold_consortium(stream.history).partners == stream.state.partners


def test_equalisation_takes_two_people_and_is_issued_once() -> None:
    stream, _ = domain_example()
    stream.given(equalise())
    stream.refuses(approve_equalisation("alice"), SamePersonCannotApprove, "second person")
    stream.given(approve_equalisation())
    stream.refuses(approve_equalisation("carol"), InvalidTransition, "already approved")

    again = PrepareEqualisationCall("eq-c2", "c", date(2025, 7, 1), "alice", date(2025, 6, 3))
    stream.refuses(again, InvalidTransition, "nothing to equalise")


def test_a_partner_admitted_before_any_call_has_nothing_to_equalise() -> None:

    stream, _ = domain_example()
    for org in ("a", "b"):
        stream.refuses(
            PrepareEqualisationCall("eq-x", org, date(2025, 7, 1), "alice", date(2025, 6, 1)),
            InvalidTransition,
            "nothing to equalise",
        )


def test_approval_refuses_figures_that_changed_since_preparation() -> None:

    stream, _ = domain_example()
    stream.given(equalise())
    stream.given(ReverseContribution("k-b", "Returned", date(2025, 6, 1)))  # weights change
    stream.refuses(approve_equalisation(), InvalidTransition, "prepare a new one")


def test_no_interest_receivers_is_refused_plainly() -> None:

    stream, _ = domain_example()
    stream.given(
        ReverseContribution("k-a", "Returned", date(2025, 5, 2)),
        ReverseContribution("k-b", "Returned", date(2025, 5, 2)),
    )
    stream.refuses(equalise(), InvalidTransition, "contributed nothing")
