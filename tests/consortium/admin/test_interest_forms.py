"""The interest forms: a late contribution recorded in the form also records its interest;
waiving it takes two people, each through their own form; a lone waiver is refused beside
the field and appends nothing; the dashboard shows the interest owed."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from consortium import services as s
from consortium.domain import events as e
from consortium.domain.events import event_from_stored
from ledger.projections import runner
from tests.consortium.conftest import usd

pytestmark = pytest.mark.django_db

JUNE = dt.date(2025, 6, 1)


@pytest.fixture
def late(world, bob):
    """'aip' with a default rate of 10 % from its formation; mgx pays 200.00 (the rest of
    its 300.00 on call-1, due 1 March) on 31 March, 30 days late:
    200.00 x 10 % x 30 / 365 = 1.6438... -> USD 1.64 owed."""
    s.interest_rate_set(
        actor=bob, slug="aip", kind="default", rate=Decimal(10), effective_on=dt.date(2025, 1, 6)
    )
    s.contribution_receive(
        actor=bob,
        slug="aip",
        contribution_id="c-late",
        call_id="call-1",
        organisation_id="mgx",
        amount=usd("200.00"),
        bank_reference="LATE-1",
        received_on=dt.date(2025, 3, 31),
    )
    return "aip"


def test_a_late_contribution_in_the_form_records_its_interest(world, browser_for, submit):
    finance = browser_for("finance")
    submit(finance, "interest-rate-set", kind="default", rate="10", effective_on="2025-01-06")
    response, appended = submit(
        finance,
        "contribution-receive",
        contribution_id="c-2",
        call_id="call-1",
        organisation_id="microsoft",
        amount="200",
        bank_reference="MS-1",
        received_on="2025-03-11",
    )
    assert response.status_code == 302
    assert [r.type for r in appended] == ["ContributionReceived", "LatePaymentInterestCharged"]
    charged = event_from_stored(appended[1].type, appended[1].data)
    # 200.00 x 10 % x 10 / 365 = 0.5479... -> USD 0.55
    assert charged == e.LatePaymentInterestCharged(
        "c-2", "call-1", "microsoft", usd("0.55"), Decimal(10), dt.date(2025, 3, 1),
        dt.date(2025, 3, 11),
    )  # fmt: skip


def test_waiving_takes_two_people_each_in_their_own_form(late, browser_for, submit):
    carol = browser_for("finance", username="carol")
    dave = browser_for("finance", username="dave")
    response, [proposed] = submit(
        carol,
        "late-interest-waiver-propose",
        contribution_id="c-late",
        reason="The bank held the wire",
        effective_on=JUNE,
    )
    assert response.status_code == 302
    assert event_from_stored(proposed.type, proposed.data) == (
        e.LatePaymentInterestWaiverProposed("c-late", "carol", "The bank held the wire")
    )
    response, appended = submit(
        carol, "late-interest-waiver-approve", contribution_id="c-late", effective_on=JUNE
    )
    assert appended == []
    form = response.context["form"]
    assert "carol proposed this waiver; a second person must approve it." in " ".join(
        form.errors["contribution_id"]
    )
    response, [waived] = submit(
        dave, "late-interest-waiver-approve", contribution_id="c-late", effective_on=JUNE
    )
    assert response.status_code == 302
    assert event_from_stored(waived.type, waived.data) == e.LatePaymentInterestWaived(
        "c-late", "dave"
    )


def test_the_pickers_offer_what_each_step_can_act_on(late, browser_for, bob):
    deal = browser_for("deal_team")
    propose = deal.get(
        reverse("admin:workspace-command", args=["aip", "late-interest-waiver-propose"])
    )
    offered = dict(propose.context["form"].fields["contribution_id"].choices)
    assert "c-late" in offered and "USD 1.64" in offered["c-late"]
    s.late_interest_waiver_propose(
        actor=bob, slug="aip", contribution_id="c-late", reason="x", effective_on=JUNE
    )
    approve = deal.get(
        reverse("admin:workspace-command", args=["aip", "late-interest-waiver-approve"])
    )
    offered = dict(approve.context["form"].fields["contribution_id"].choices)
    assert "waiver proposed by bob" in offered["c-late"]


def test_the_dashboard_shows_late_interest_owed(late, browser_for):
    runner.catch_up_all()
    page = browser_for("deal_team").get(reverse("admin:workspace-consortium", args=["aip"]))
    html = page.content.decode()
    assert "Late interest" in html
    row = html[html.index('data-partner="mgx"') :]
    row = row[: row.index("</tr>")]
    assert '<td class="ws-figure">1.64</td></tr>' in row + "</tr>"


@pytest.fixture
def joiner(world, alice, bob):
    """'aip' as in ``world`` (call-1 of 500.00 due 1 March: mgx 300 paid 100 as c-1,
    microsoft 200) with an equalisation rate of 8 %; xai admitted on 1 May, signed 500.00;
    microsoft pays its 200 on 1 March."""
    s.interest_rate_set(
        actor=bob,
        slug="aip",
        kind="equalisation",
        rate=Decimal(8),
        effective_on=dt.date(2025, 1, 6),
    )
    s.contribution_receive(
        actor=bob,
        slug="aip",
        contribution_id="c-ms",
        call_id="call-1",
        organisation_id="microsoft",
        amount=usd("200.00"),
        bank_reference="MS",
        received_on=dt.date(2025, 3, 1),
    )
    s.partner_admit(
        actor=alice,
        slug="aip",
        organisation_id="xai",
        name="xAI",
        role="member",
        effective_on=dt.date(2025, 5, 1),
    )
    s.commitment_record(
        actor=alice,
        slug="aip",
        commitment_id="aip-xai",
        organisation_id="xai",
        instrument="equity",
        amount=usd("500.00"),
        stage="signed",
        effective_on=dt.date(2025, 5, 1),
    )
    return "aip"


def test_an_equalisation_call_is_prepared_and_approved_by_two_people(joiner, browser_for, submit):
    """Hand-computed: call-1 called 500 of 1,000 signed (50 %), so xAI (500) is called 250.00;
    interest 250 x 8 % x 122 / 365 (1 March to 1 July) = 6.6849... -> 6.68, shared pro rata
    to contributions mgx 100 : microsoft 200 -> 2.2266... : 4.4533... -> 2.23 and 4.45."""
    carol = browser_for("deal_team", username="carol")
    dave = browser_for("deal_team", username="dave")
    response, [prepared] = submit(
        carol,
        "equalisation-call-prepare",
        call_id="eq-xai",
        organisation_id="xai",
        due_on="2025-07-01",
        effective_on="2025-06-01",
    )
    assert response.status_code == 302
    event = event_from_stored(prepared.type, prepared.data)
    assert isinstance(event, e.EqualisationCallPrepared)
    assert (event.amount, event.interest) == (usd("250.00"), usd("6.68"))
    assert {a.organisation_id: a.amount for a in event.interest_shares} == {
        "mgx": usd("2.23"),
        "microsoft": usd("4.45"),
    }
    response, appended = submit(
        carol, "equalisation-call-approve", call_id="eq-xai", effective_on="2025-06-02"
    )
    assert appended == []
    assert "a second person must approve it" in " ".join(response.context["form"].errors["call_id"])
    response, [approved] = submit(
        dave, "equalisation-call-approve", call_id="eq-xai", effective_on="2025-06-02"
    )
    assert response.status_code == 302
    assert approved.type == "EqualisationCallApproved"
