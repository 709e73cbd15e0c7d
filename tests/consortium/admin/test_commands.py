"""Every command form records exactly its event, through the service, as the signed-in
user with ``source`` admin, and redirects to the consortium's dashboard saying what it
recorded (see ``world`` in conftest for the consortium the forms act on)."""

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from consortium.admin.commands.catalogue import FORMS
from consortium.domain import events as e
from consortium.domain.events import event_from_stored
from consortium.domain.money import Money, Percent
from consortium.domain.values import Allocation, DistributionShare, Holder, Tranche
from tests.consortium.admin.commands_support import eur
from tests.consortium.conftest import usd

MAY = dt.date(2025, 5, 1)
ME = "deal_team-1"  # the browser's user (the first one browser_for makes)

# (command, asset, fields, the event expected; the acting user is ME)
VALID: list[tuple[str, str | None, dict[str, Any], e.Event]] = [
    (
        "consortium-set-target",
        None,
        {
            "instrument": "total",
            "amount": "5,000.00",
            "deadline": "2029-12-31",
            "tranche_1_amount": "1000",
            "tranche_1_from": "2025-05-01",
            "tranche_2_amount": "4,000.00",
            "tranche_2_from": "2026-05-01",
            "effective_on": MAY,
        },
        e.FundraisingTargetSet(
            "total",
            usd("5000.00"),
            dt.date(2029, 12, 31),
            (Tranche(usd("1000.00"), MAY), Tranche(usd("4000.00"), dt.date(2026, 5, 1))),
        ),
    ),
    (
        "partner-admit",
        None,
        {"organisation_id": "xai", "name": "xAI", "role": "member", "effective_on": MAY},
        e.PartnerAdmitted("xai", "xAI", "member"),
    ),
    (
        "partner-change-role",
        None,
        {"organisation_id": "nvidia", "role": "member", "effective_on": MAY},
        e.PartnerRoleChanged("nvidia", "member"),
    ),
    (
        "partner-withdraw",
        None,
        {"organisation_id": "nvidia", "reason": "Advice given", "effective_on": MAY},
        e.PartnerWithdrew("nvidia", "Advice given"),
    ),
    (
        "commitment-record",
        None,
        {
            "commitment_id": "aip-cp-mgx",
            "organisation_id": "mgx",
            "instrument": "corporate_partnership",
            "amount": "200",
            "currency": "EUR",
            "stage": "indicated",
            "effective_on": MAY,
        },
        e.CommitmentRecorded(
            "aip-cp-mgx",
            "mgx",
            "corporate_partnership",
            eur("200.00"),
            "indicated",
            usd("220.00"),
            Decimal("1.1"),
        ),
    ),
    (
        "commitment-advance-stage",
        None,
        {"commitment_id": "aip-mgx-2", "stage": "signed", "effective_on": MAY},
        e.CommitmentStageAdvanced("aip-mgx-2", "signed"),
    ),
    (
        "commitment-amend",
        None,
        {"commitment_id": "aip-mgx", "amount": "700", "effective_on": MAY},
        e.CommitmentAmended("aip-mgx", usd("700.00"), usd("700.00"), None),
    ),
    (
        "capital-call-prepare",
        None,
        {
            "call_id": "call-4",
            "amount": "100.00",
            "due_on": "2025-06-30",
            "purpose": "Turbines",
            "effective_on": MAY,
        },
        e.CapitalCallPrepared("call-4", usd("100.00"), dt.date(2025, 6, 30), "Turbines", ME),
    ),
    (
        "capital-call-approve",
        None,
        {"call_id": "call-2", "effective_on": MAY},
        e.CapitalCallApproved("call-2", ME),
    ),
    (
        "capital-call-issue",
        None,
        {"call_id": "call-3", "effective_on": MAY},
        e.CapitalCallIssued(
            "call-3", (Allocation("mgx", usd("30.00")), Allocation("microsoft", usd("20.00")))
        ),
    ),
    (
        "capital-call-cancel",
        None,
        {"call_id": "call-2", "reason": "Not needed", "effective_on": MAY},
        e.CapitalCallCancelled("call-2", "Not needed"),
    ),
    (
        "contribution-receive",
        None,
        {
            "contribution_id": "c-2",
            "call_id": "call-1",
            "organisation_id": "microsoft",
            "amount": "200",
            "bank_reference": "MSFT-1",
            "received_on": "2025-02-20",
        },
        e.ContributionReceived(
            "c-2", "call-1", "microsoft", usd("200.00"), dt.date(2025, 2, 20), "MSFT-1"
        ),
    ),
    (
        "contribution-reverse",
        None,
        {"contribution_id": "c-1", "reason": "Returned by the bank", "effective_on": MAY},
        e.ContributionReversed("c-1", "Returned by the bank"),
    ),
    (
        "facility-arrange",
        None,
        {
            "facility_id": "f-2",
            "lender": "banks",
            "amount": "500",
            "currency": "EUR",
            "maturity_on": "2031-01-01",
            "revolving": True,
            "effective_on": MAY,
        },
        e.DebtFacilityArranged(
            "f-2", "banks", eur("500.00"), dt.date(2031, 1, 1), True, usd("550.00"), Decimal("1.1")
        ),
    ),
    (
        "facility-draw",
        None,
        {"facility_id": "f-1", "draw_id": "d-2", "amount": "100", "effective_on": MAY},
        e.DebtFacilityDrawn("f-1", "d-2", usd("100.00"), usd("100.00"), None),
    ),
    (
        "facility-repay",
        None,
        {"facility_id": "f-1", "repayment_id": "r-1", "amount": "50", "effective_on": MAY},
        e.DebtFacilityRepaid("f-1", "r-1", usd("50.00"), usd("50.00"), None),
    ),
    (
        "fx-rate-record",
        None,
        {"currency": "GBP", "rate": "1.27", "effective_on": MAY},
        e.FxRateRecorded("GBP", Decimal("1.27"), MAY),
    ),
    (
        "asset-register",
        None,
        {
            "asset_id": "dc-2",
            "kind": "energy_facility",
            "name": "Plant",
            "location": "Permian Basin, TX",
            "capacity_mw": "250.5",
            "estimated_cost": "300",
            "currency": "EUR",
            "effective_on": MAY,
        },
        e.AssetRegistered(
            "dc-2",
            "aip",
            "energy_facility",
            "Plant",
            "Permian Basin, TX",
            Decimal("250.5"),
            eur("300.00"),
            usd("330.00"),
            Decimal("1.1"),
        ),
    ),
    (
        "stake-acquire",
        "dc-1",
        {"holder": "organisation:mgx", "percent": "10", "effective_on": MAY},
        e.StakeAcquired("dc-1", Holder.organisation("mgx"), Percent.of("10")),
    ),
    (
        "stake-transfer",
        "dc-1",
        {
            "from_holder": "consortium:aip",
            "to_holder": "consortium:sg",
            "percent": "15",
            "effective_on": MAY,
        },
        e.StakeTransferred(
            "dc-1", Holder.consortium("aip"), Holder.consortium("sg"), Percent.of("15")
        ),
    ),
    (
        "stake-sell",
        "dc-1",
        {"holder": "organisation:microsoft", "percent": "5", "effective_on": MAY},
        e.StakeSold("dc-1", Holder.organisation("microsoft"), Percent.of("5")),
    ),
    # --- interest and equalisation ---
    (
        "interest-rate-set",
        None,
        {"kind": "default", "rate": "8.25", "effective_on": MAY},
        e.InterestRateSet("default", Decimal("8.25"), MAY),
    ),
    # --- distributions ---
    (
        "proceeds-record",
        None,
        {
            "proceeds_id": "p-9",
            "asset_id": "dc-1",
            "kind": "sale",
            "amount": "50",
            "received_on": MAY,
        },
        e.ProceedsReceived("p-9", "dc-1", "sale", usd("50.00"), MAY),
    ),
    (
        "distribution-prepare",
        None,
        {
            "distribution_id": "dist-9",
            "amount": "30",
            "kind": "capital",
            "basis": "contributed",
            "recallable_1_partner": "mgx",
            "recallable_1_amount": "10",
            "purpose": "Sale",
            "effective_on": MAY,
        },
        e.DistributionPrepared(
            "dist-9",
            usd("30.00"),
            "capital",
            "contributed",
            (DistributionShare("mgx", usd("30.00"), usd("10.00")),),
            "Sale",
            ME,
        ),
    ),
    (
        "distribution-approve",
        None,
        {"distribution_id": "dist-1", "effective_on": MAY},
        e.DistributionApproved("dist-1", ME),
    ),
    (
        "distribution-pay",
        None,
        {"distribution_id": "dist-2", "effective_on": MAY},
        e.DistributionPaid("dist-2"),
    ),
]
# Forms whose valid case needs interest charged first: tests/consortium/admin/test_interest_forms.py
VALID_ELSEWHERE = {
    "late-interest-waiver-propose",
    "late-interest-waiver-approve",
    "equalisation-call-prepare",  # needs a late joiner: test_interest_forms.py
    "equalisation-call-approve",
}


# Sealed periods: their forms record events that depend on the ledger's head (a seal) or
# on an earlier close; tests/consortium/admin/test_periods_forms.py records each.
PERIOD_FORMS = {"period-close", "period-propose-reopening", "period-approve-reopening"}


def test_every_form_has_a_valid_case():
    elsewhere = PERIOD_FORMS | VALID_ELSEWHERE
    assert {command for command, *_ in VALID} | {"consortium-form"} | elsewhere == set(FORMS) | {
        "consortium-form"
    }
    # with consortium-form: one per service (+ sealed periods, interest, distributions)
    assert len(FORMS) == 21 + 3 + 5 + 4


@pytest.mark.parametrize(
    ("command", "asset", "fields", "expected"), VALID, ids=[v[0] for v in VALID]
)
def test_a_form_records_exactly_its_event(
    world, browser_for, submit, command, asset, fields, expected
):
    browser = browser_for("deal_team")
    assert browser.user.username == ME

    response, appended = submit(browser, command, asset=asset, **fields)

    assert response.status_code == 302, response.context and response.context["form"].errors
    assert response.url == reverse("admin:workspace-consortium", args=["aip"])
    [event] = appended
    assert event.type == expected.TYPE
    assert event_from_stored(event.type, event.data) == expected
    assert event.metadata["source"] == "admin"
    assert event.metadata["actor"] == ME
    effective = fields.get("effective_on") or fields.get("received_on")
    assert event.effective_on == dt.date.fromisoformat(str(effective))
    streams = {"asset-register": "asset-dc-2"}
    assert event.stream == streams.get(command, f"asset-{asset}" if asset else "consortium-aip")
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert reverse("admin:workspace-event", args=[event.position]) in message
    assert message.startswith("Recorded: ")


def test_forming_a_consortium_needs_a_global_grant_and_records_it(db, browser_for, submit):
    browser = browser_for("deal_team")
    fields = {
        "name": "Project Atlas",
        "slug": "atlas",
        "base_currency": "EUR",
        "formed_on": "2025-05-01",
    }

    response, [event] = submit(browser, "consortium-form", where=None, **fields)

    assert response.status_code == 302
    assert response.url == reverse("admin:workspace-consortium", args=["atlas"])
    assert event_from_stored(event.type, event.data) == e.ConsortiumFormed(
        "Project Atlas", "atlas", "EUR", MAY
    )
    assert event.metadata["source"] == "admin"
    local = browser_for("deal_team", "atlas")
    assert local.get(reverse("admin:workspace-consortium-form")).status_code == 403


def test_effective_date_defaults_to_today(world, browser_for, submit):
    browser = browser_for("deal_team")
    response, [event] = submit(
        browser, "partner-admit", organisation_id="xai", name="xAI", role="member", effective_on=""
    )
    assert response.status_code == 302
    assert event.effective_on == dt.date.today()


def test_money_is_exact_whatever_the_separators(world, browser_for, submit):
    browser = browser_for("deal_team")
    response, [event] = submit(
        browser,
        "commitment-amend",
        commitment_id="aip-mgx",
        amount=" 1,000,000.01 ",
        effective_on=MAY,
    )
    assert response.status_code == 302
    amended = Money.of("1000000.01", "USD")
    assert event_from_stored(event.type, event.data) == e.CommitmentAmended(
        "aip-mgx", amended, amended, None
    )
