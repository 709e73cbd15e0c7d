"""The services resolve what a caller may leave out: an amount's currency defaults to the
consortium's base currency, a facility's own currency for its draws and repayments, and a
commitment's own currency for its amendments. Callers (the API, forms) pass what they
were sent (``commands.Amount``)."""

import datetime as dt
from decimal import Decimal

import pytest

from consortium import services as s
from consortium.domain import errors
from consortium.domain.commands import Amount
from consortium.domain.money import Money
from consortium.streams import load_consortium
from ledger.store import head
from tests.consortium.conftest import FORMED

pytestmark = pytest.mark.django_db
ON = dt.date(2025, 1, 15)


def test_an_amount_without_a_currency_is_in_the_base_currency(formed, alice):
    formed()
    result = s.commitment_record(
        actor=alice,
        slug="aip",
        commitment_id="c-new",
        organisation_id="mgx",
        instrument="equity",
        amount=Amount("25.5"),
        stage="indicated",
        effective_on=ON,
    )
    assert result.command.amount == Money.of("25.50", "USD")
    assert load_consortium("aip").state.commitments["c-new"].currency == "USD"


def test_a_draw_and_a_repayment_default_to_the_facilitys_currency(formed, alice):
    formed()
    s.partner_admit(
        actor=alice, slug="aip", organisation_id="bank", name="Bank", role="member", effective_on=ON
    )
    s.fx_rate_record(
        actor=alice, slug="aip", currency="EUR", rate=Decimal("1.1"), effective_on=FORMED
    )
    s.facility_arrange(
        actor=alice,
        slug="aip",
        facility_id="f-eur",
        lender="bank",
        amount=Amount("1000", "EUR"),
        maturity_on=dt.date(2030, 1, 1),
        revolving=True,
        effective_on=ON,
    )
    draw = s.facility_draw(
        actor=alice, slug="aip", facility_id="f-eur", draw_id="d-1", amount=Amount("100")
    )
    assert draw.command.amount == Money.of("100", "EUR")
    repay = s.facility_repay(
        actor=alice, slug="aip", facility_id="f-eur", repayment_id="r-1", amount=Amount("40")
    )
    assert repay.command.amount == Money.of("40", "EUR")


def test_an_amendment_defaults_to_the_commitments_currency(formed, alice):
    formed()
    result = s.commitment_amend(
        actor=alice, slug="aip", commitment_id="aip-mgx", amount=Amount("700"), effective_on=ON
    )
    assert result.command.amount == Money.of("700.00", "USD")


def test_tranches_default_to_the_targets_currency(formed, alice):
    formed()
    result = s.consortium_set_target(
        actor=alice,
        slug="aip",
        instrument="equity",
        amount=Amount("1000"),
        tranches=[(Amount("400"), FORMED), (Amount("600"), ON)],
        effective_on=ON,
    )
    assert [t.amount for t in result.command.tranches] == [
        Money.of("400", "USD"),
        Money.of("600", "USD"),
    ]


def test_an_amount_finer_than_its_default_currency_is_malformed_and_names_the_field(formed, alice):
    formed()
    before = head()
    with pytest.raises(errors.MalformedAmount, match="at most 2 decimal places") as refused:
        s.consortium_set_target(
            actor=alice,
            slug="aip",
            instrument="equity",
            amount=Amount("1000"),
            tranches=[(Amount("1000.001"), FORMED)],
            effective_on=ON,
        )
    assert refused.value.field == "tranches.0.amount"
    assert head() == before


def test_a_default_currency_of_an_unknown_consortium_is_unknown_consortium(db, alice):
    with pytest.raises(errors.UnknownConsortium):
        s.capital_call_prepare(
            actor=alice,
            slug="nowhere",
            call_id="call-1",
            amount=Amount("1"),
            due_on=ON,
            purpose="Land",
        )
    assert head() == 0


def test_a_currency_the_caller_names_is_kept_and_the_rule_decides(formed, alice):
    formed()
    with pytest.raises(errors.CurrencyMismatch):
        s.capital_call_prepare(
            actor=alice,
            slug="aip",
            call_id="call-1",
            amount=Amount("1", "EUR"),
            due_on=ON,
            purpose="Land",
            effective_on=ON,
        )
