"""Effective dates: never before formation or a dependency; back-dating shows in as-of views."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from consortium.domain.commands import AdvanceCommitmentStage, SetFundraisingTarget
from consortium.domain.decisions import decide
from consortium.domain.errors import (
    DateBeforeDependency,
    DateBeforeFormation,
    DateInFuture,
    InvalidDate,
)
from consortium.domain.positions import partner_position, total_position


def test_nothing_takes_effect_before_the_consortium_was_formed(aip, make) -> None:
    aip.refuses(
        make.admit("oracle", "Oracle", on=date(2024, 9, 16)),
        DateBeforeFormation,
        "The effective date 2024-09-16 is before AI Infrastructure Partnership's formation on "
        "2024-09-17",
    )
    aip.refuses(make.rate("EUR", "1.1", date(2024, 1, 1)), DateBeforeFormation, "formation")


def test_a_commitment_is_not_dated_before_its_partner_was_admitted(aip, make) -> None:
    aip.refuses(
        make.commit("c-xai", "xai", "1", on=date(2025, 3, 18)),
        DateBeforeDependency,
        "before xAI's admission on 2025-03-19",
    )


def test_a_contribution_is_not_dated_before_its_call_was_issued(aip, make) -> None:
    aip.given(*make.called("call-1", "800000000", on=date(2025, 4, 3)))
    aip.refuses(
        make.pay("p-1", "call-1", "mgx", "1", on=date(2025, 4, 2)),
        DateBeforeDependency,
        "The date 2025-04-02 is before capital call 'call-1' was issued on 2025-04-03",
    )


def test_a_call_step_is_not_dated_before_the_previous_step(aip, make) -> None:
    aip.given(make.prepare("call-1", "100", on=date(2025, 4, 5)))
    aip.refuses(make.approve("call-1", on=date(2025, 4, 4)), DateBeforeDependency, "was prepared")
    aip.given(make.approve("call-1", on=date(2025, 4, 5)))
    aip.refuses(make.issue("call-1", on=date(2025, 4, 4)), DateBeforeDependency, "was approved")


def test_a_call_is_not_issued_before_the_signed_equity_it_allocates(aip, make) -> None:
    aip.given(
        make.prepare("call-1", "100", on=date(2025, 4, 1)),
        make.approve("call-1", on=date(2025, 4, 1)),
        make.commit("c-xai", "xai", "1000", on=date(2025, 4, 2)),
    )
    aip.refuses(
        make.issue("call-1", on=date(2025, 4, 1)),
        DateBeforeDependency,
        "before the last change to signed equity on 2025-04-02",
    )


def test_a_stage_change_is_not_dated_before_the_current_stage(aip, make) -> None:
    aip.refuses(
        AdvanceCommitmentStage("c-mgx", "withdrawn", date(2024, 9, 30)),
        DateBeforeDependency,
        "reached its stage on 2024-10-01",
    )


def test_a_deadline_is_not_before_the_target_is_set(aip, make) -> None:
    aip.refuses(
        SetFundraisingTarget(
            "equity", make.usd("30000000000"), date(2025, 1, 1), deadline=date(2024, 12, 31)
        ),
        DateBeforeDependency,
        "before the date the target is set",
    )


def test_a_back_dated_commitment_is_accepted_and_shows_as_of_its_date(aip, make) -> None:
    # Given events recorded up to March 2025 (xAI admitted on 2025-03-19)
    aip.given(make.admit("gip", "Global Infrastructure Partners", on=date(2024, 10, 1)))
    # When a commitment signed on 2024-12-01 is only entered now
    aip.when(make.commit("c-gip", "gip", "1000000000", on=date(2024, 12, 1)))
    # Then it counts from its effective date on, and not before
    assert partner_position(aip.as_of(date(2024, 12, 1)), "gip").equity.signed_equity == (
        make.usd("1000000000")
    )
    assert "c-gip" not in aip.as_of(date(2024, 11, 30)).commitments
    before = total_position(aip.as_of(date(2024, 11, 30))).signed_equity
    assert before == make.usd("8000000000")
    assert "xai" not in aip.as_of(date(2024, 12, 31)).partners


def test_effective_dates_in_the_future_are_refused_when_today_is_given(aip, make) -> None:
    command = make.commit("c-xai", "xai", "1", on=date(2025, 6, 2))
    with pytest.raises(DateInFuture, match="after today"):
        decide(aip.state, command, today=date(2025, 6, 1))
    assert decide(aip.state, command, today=date(2025, 6, 2))


def test_an_effective_date_is_a_calendar_date(aip, make) -> None:
    stamp = datetime(2025, 6, 1, 12, tzinfo=UTC)
    aip.refuses(make.commit("c-xai", "xai", "1", on=stamp), InvalidDate, "calendar date")
