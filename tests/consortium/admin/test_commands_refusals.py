"""Every rule a form can hit is refused in the service's words, beside the field it
concerns (or at the top), and appends nothing; bad input is an ordinary form error."""

import pytest

from consortium import services as s
from tests.consortium.admin.commands_support import form_url

MAY = "2025-05-01"

# (command, asset, fields, the form field the refusal shows at ("" = the top), its words)
REFUSED: list[tuple[str, str | None, dict[str, str], str, str]] = [
    # targets
    (
        "consortium-set-target",
        None,
        {
            "instrument": "total",
            "amount": "5000",
            "tranche_1_amount": "1000",
            "tranche_1_from": MAY,
            "tranche_2_amount": "3000",
            "tranche_2_from": "2026-05-01",
            "effective_on": MAY,
        },
        "tranche_1_amount",
        "The tranches add up to USD 4,000.00, but the target is USD 5,000.00",
    ),
    (
        "consortium-set-target",
        None,
        {
            "instrument": "total",
            "amount": "5000",
            "tranche_1_amount": "4990",
            "tranche_1_from": MAY,
            "tranche_2_amount": "10.001",
            "tranche_2_from": "2026-05-01",
            "effective_on": MAY,
        },
        "tranche_2_amount",
        "has at most 2 decimal places",
    ),
    (
        "consortium-set-target",
        None,
        {"instrument": "equity", "amount": "5000", "deadline": "2025-04-01", "effective_on": MAY},
        "deadline",
        "is before the date the target is set",
    ),
    (
        "consortium-set-target",
        None,
        {"instrument": "equity", "amount": "-5", "effective_on": MAY},
        "amount",
        "A fundraising target must be a positive amount",
    ),
    # partners
    (
        "partner-admit",
        None,
        {"organisation_id": "mgx", "name": "MGX", "role": "member", "effective_on": MAY},
        "organisation_id",
        "Mgx is already a partner of AIP, as member.",
    ),
    (
        "partner-admit",
        None,
        {"organisation_id": "xai", "name": "xAI", "role": "member", "effective_on": "2024-12-31"},
        "effective_on",
        "The effective date 2024-12-31 is before AIP's formation on 2025-01-06.",
    ),
    (
        "partner-change-role",
        None,
        {"organisation_id": "mgx", "role": "technical_advisor", "effective_on": MAY},
        "role",
        "Mgx holds capital commitments or facilities (aip-mgx, aip-mgx-2)",
    ),
    (
        "partner-withdraw",
        None,
        {"organisation_id": "mgx", "effective_on": MAY},
        "organisation_id",
        "Mgx still has uncalled commitments (aip-mgx, aip-mgx-2)",
    ),
    # commitments
    (
        "commitment-record",
        None,
        {
            "commitment_id": "aip-nv",
            "organisation_id": "nvidia",
            "instrument": "equity",
            "amount": "10",
            "currency": "USD",
            "stage": "signed",
            "effective_on": MAY,
        },
        "organisation_id",
        "Nvidia is a technical advisor and cannot hold a commitment",
    ),
    (
        "commitment-record",
        None,
        {
            "commitment_id": "aip-mgx",
            "organisation_id": "mgx",
            "instrument": "equity",
            "amount": "10",
            "currency": "USD",
            "stage": "signed",
            "effective_on": MAY,
        },
        "commitment_id",
        "Commitment 'aip-mgx' is already recorded; use a new id.",
    ),
    (
        "commitment-record",
        None,
        {
            "commitment_id": "aip-eur",
            "organisation_id": "mgx",
            "instrument": "equity",
            "amount": "10",
            "currency": "EUR",
            "stage": "signed",
            "effective_on": MAY,
        },
        "amount",
        "An equity commitment must be in AIP's base currency USD, not EUR.",
    ),
    (
        "commitment-advance-stage",
        None,
        {"commitment_id": "aip-mgx", "stage": "withdrawn", "effective_on": MAY},
        "stage",
        "Commitment 'aip-mgx' has USD 300.00 called already; it cannot be withdrawn",
    ),
    (
        "commitment-advance-stage",
        None,
        {"commitment_id": "aip-mgx", "stage": "soft_circled", "effective_on": MAY},
        "stage",
        "stages only move forward",
    ),
    (
        "commitment-amend",
        None,
        {"commitment_id": "aip-mgx", "amount": "299.99", "effective_on": MAY},
        "amount",
        "Commitment 'aip-mgx' has USD 300.00 called already; it cannot be reduced to USD 299.99.",
    ),
    (
        "commitment-amend",
        None,
        {"commitment_id": "aip-mgx", "amount": "700.001", "effective_on": MAY},
        "amount",
        "has at most 2 decimal places",
    ),
    # capital calls
    (
        "capital-call-prepare",
        None,
        {
            "call_id": "call-9",
            "amount": "500.01",
            "due_on": "2025-06-30",
            "purpose": "Too much",
            "effective_on": MAY,
        },
        "amount",
        "The total unfunded equity is USD 500.00; a call of USD 500.01 exceeds it.",
    ),
    (
        "capital-call-prepare",
        None,
        {
            "call_id": "call-1",
            "amount": "5",
            "due_on": "2025-06-30",
            "purpose": "Again",
            "effective_on": MAY,
        },
        "call_id",
        "Capital call 'call-1' is already recorded; use a new id.",
    ),
    (
        "capital-call-prepare",
        None,
        {
            "call_id": "call-9",
            "amount": "5",
            "due_on": "2025-04-30",
            "purpose": "Early",
            "effective_on": MAY,
        },
        "due_on",
        "is before the call's own date",
    ),
    (
        "capital-call-approve",
        None,
        {"call_id": "call-3", "effective_on": MAY},
        "call_id",
        "Capital call 'call-3' is approved; it can be approved only while draft.",
    ),
    (
        "capital-call-issue",
        None,
        {"call_id": "call-2", "effective_on": MAY},
        "call_id",
        "Capital call 'call-2' is draft; it can be issued only while approved.",
    ),
    (
        "capital-call-issue",
        None,
        {"call_id": "call-3", "effective_on": "2025-06-02"},
        "effective_on",
        "Capital call 'call-3' is due on 2025-06-01; it cannot be issued after that",
    ),
    (
        "capital-call-cancel",
        None,
        {"call_id": "call-1", "reason": "Changed our minds", "effective_on": MAY},
        "call_id",
        "Capital call 'call-1' is issued; it can be cancelled only while draft or approved.",
    ),
    # contributions
    (
        "contribution-receive",
        None,
        {
            "contribution_id": "c-9",
            "call_id": "call-1",
            "organisation_id": "mgx",
            "amount": "200.01",
            "bank_reference": "MGX-2",
            "received_on": MAY,
        },
        "amount",
        "Mgx owes USD 200.00 on capital call 'call-1'; a contribution of USD 200.01 exceeds it.",
    ),
    (
        "contribution-receive",
        None,
        {
            "contribution_id": "c-9",
            "call_id": "call-2",
            "organisation_id": "mgx",
            "amount": "10",
            "bank_reference": "MGX-2",
            "received_on": MAY,
        },
        "call_id",
        "Capital call 'call-2' is draft; it can be paid into only while issued.",
    ),
    (
        "contribution-receive",
        None,
        {
            "contribution_id": "c-9",
            "call_id": "call-1",
            "organisation_id": "mgx",
            "amount": "10",
            "bank_reference": "MGX-2",
            "received_on": "2025-02-02",
        },
        "received_on",
        "The date 2025-02-02 is before capital call 'call-1' was issued on 2025-02-03.",
    ),
    (
        "contribution-reverse",
        None,
        {"contribution_id": "c-1", "reason": "Typo", "effective_on": "2025-02-09"},
        "effective_on",
        "is before contribution 'c-1' was received on 2025-02-10",
    ),
    # debt and FX
    (
        "facility-arrange",
        None,
        {
            "facility_id": "f-9",
            "lender": "nvidia",
            "amount": "10",
            "currency": "USD",
            "maturity_on": "2030-01-01",
            "effective_on": MAY,
        },
        "lender",
        "Nvidia is a technical advisor and cannot lend to the consortium",
    ),
    (
        "facility-arrange",
        None,
        {
            "facility_id": "f-9",
            "lender": "banks",
            "amount": "10",
            "currency": "USD",
            "maturity_on": MAY,
            "effective_on": MAY,
        },
        "maturity_on",
        "The maturity date 2025-05-01 must be after the date the facility is arranged",
    ),
    (
        "facility-draw",
        None,
        {"facility_id": "f-1", "draw_id": "d-9", "amount": "600.01", "effective_on": MAY},
        "amount",
        "Debt facility 'f-1' has USD 600.00 available; a draw of USD 600.01 exceeds it.",
    ),
    (
        "facility-draw",
        None,
        {"facility_id": "f-1", "draw_id": "d-1", "amount": "1", "effective_on": MAY},
        "draw_id",
        "Draw 'd-1' is already recorded; use a new id.",
    ),
    (
        "facility-repay",
        None,
        {"facility_id": "f-1", "repayment_id": "r-9", "amount": "400.01", "effective_on": MAY},
        "amount",
        "Debt facility 'f-1' has USD 400.00 drawn and not repaid; a repayment of USD 400.01 "
        "exceeds it.",
    ),
    (
        "fx-rate-record",
        None,
        {"currency": "USD", "rate": "1", "effective_on": MAY},
        "currency",
        "USD is the base currency; rates are recorded for other currencies only.",
    ),
    (
        "fx-rate-record",
        None,
        {"currency": "EUR", "rate": "1.2", "effective_on": "2025-01-06"},
        "effective_on",
        "A EUR/USD rate in force from 2025-01-06 is already recorded",
    ),
    (
        "fx-rate-record",
        None,
        {"currency": "GBP", "rate": "-1.2", "effective_on": MAY},
        "rate",
        "An FX rate must be a positive decimal",
    ),
    # --- interest and equalisation ---
    (
        "interest-rate-set",
        None,
        {"kind": "default", "rate": "-1", "effective_on": MAY},
        "rate",
        "An interest rate cannot be negative; got -1 %.",
    ),
    (
        "interest-rate-set",
        None,
        {"kind": "equalisation", "rate": "800", "effective_on": MAY},
        "rate",
        "800 % a year is more than 100 %",
    ),
    (
        "late-interest-waiver-propose",
        None,
        {"contribution_id": "c-1", "reason": "Bank delay", "effective_on": MAY},
        "contribution_id",
        "No late-payment interest is charged on contribution 'c-1'.",
    ),
    (
        "late-interest-waiver-approve",
        None,
        {"contribution_id": "c-1", "effective_on": MAY},
        "contribution_id",
        "No late-payment interest is charged on contribution 'c-1'.",
    ),
    (
        "equalisation-call-prepare",
        None,
        {"call_id": "eq-1", "organisation_id": "mgx", "due_on": "2025-07-01", "effective_on": MAY},
        "organisation_id",
        "Mgx was admitted on 2025-01-06; no capital was called before that",
    ),
    (
        "equalisation-call-approve",
        None,
        {"call_id": "call-1", "effective_on": MAY},
        "call_id",
        "No equalisation call 'call-1' is prepared.",
    ),
    # assets and stakes
    (
        "asset-register",
        None,
        {
            "asset_id": "dc-1",
            "kind": "data_centre",
            "name": "Again",
            "location": "VA",
            "capacity_mw": "10",
            "estimated_cost": "10",
            "currency": "USD",
            "effective_on": MAY,
        },
        "asset_id",
        "Asset 'dc-1' is already registered.",
    ),
    (
        "asset-register",
        None,
        {
            "asset_id": "dc-9",
            "kind": "data_centre",
            "name": "Tiny",
            "location": "VA",
            "capacity_mw": "0",
            "estimated_cost": "10",
            "currency": "USD",
            "effective_on": MAY,
        },
        "capacity_mw",
        "Capacity must be a positive number of MW",
    ),
    (
        "stake-acquire",
        "dc-1",
        {"holder": "organisation:mgx", "percent": "20.0001", "effective_on": MAY},
        "percent",
        "80 % of Campus One is already held; acquiring 20.0001 % more would make "
        "100.0001 %, above 100 %.",
    ),
    (
        "stake-acquire",
        "dc-1",
        {"holder": "consortium:sg", "percent": "1", "effective_on": "2025-01-14"},
        "effective_on",
        "before Campus One's registration on 2025-01-15",
    ),
    (
        "stake-transfer",
        "dc-1",
        {
            "from_holder": "organisation:microsoft",
            "to_holder": "organisation:mgx",
            "percent": "20.5",
            "effective_on": MAY,
        },
        "percent",
        "The organisation microsoft holds 20 % of Campus One; it cannot part with 20.5 %.",
    ),
    (
        "stake-transfer",
        "dc-1",
        {
            "from_holder": "consortium:aip",
            "to_holder": "consortium:aip",
            "percent": "5",
            "effective_on": MAY,
        },
        "to_holder",
        "The consortium aip cannot transfer a stake to itself.",
    ),
    (
        "stake-sell",
        "dc-1",
        {"holder": "consortium:aip", "percent": "60.01", "effective_on": MAY},
        "percent",
        "The consortium aip holds 60 % of Campus One; it cannot part with 60.01 %.",
    ),
    (
        "stake-sell",
        "dc-1",
        {"holder": "consortium:aip", "percent": "0", "effective_on": MAY},
        "percent",
        "A stake must be above 0 % and at most 100 %",
    ),
    # sealed periods
    (
        "period-close",
        None,
        {"closing_date": "2025-05-31", "effective_on": MAY},
        "closing_date",
        "A period closes once it has ended",
    ),
    (
        "period-propose-reopening",
        None,
        {"reason": "Late statement", "effective_on": MAY},
        "",
        "AIP has no closed period to reopen.",
    ),
    (
        "period-approve-reopening",
        None,
        {"effective_on": MAY},
        "",
        "Nobody has proposed reopening a period of AIP; propose it first.",
    ),
    # --- distributions ---
    (
        "proceeds-record",
        None,
        {"asset_id": "dc-1", "kind": "income", "amount": "5", "received_on": "2025-01-15"},
        "received_on",
        "AIP first held a stake in asset 'dc-1' on 2025-01-16",
    ),
    (
        "distribution-prepare",
        None,
        {
            "amount": "140.01",
            "kind": "income",
            "basis": "contributed",
            "purpose": "Rent",
            "effective_on": MAY,
        },
        "amount",
        "AIP has USD 140.00 of proceeds not yet distributed",
    ),
    (
        "distribution-prepare",
        None,
        {
            "amount": "30",
            "kind": "capital",
            "basis": "contributed",
            "purpose": "Sale",
            "recallable_1_partner": "mgx",
            "recallable_1_amount": "30.01",
            "effective_on": MAY,
        },
        "",
        "Mgx's share of the distribution is USD 30.00; a recallable amount of USD 30.01",
    ),
    (
        "distribution-approve",
        None,
        {"distribution_id": "dist-2", "effective_on": MAY},
        "distribution_id",
        "Distribution 'dist-2' is approved; it can be approved only while draft.",
    ),
    (
        "distribution-pay",
        None,
        {"distribution_id": "dist-1", "effective_on": MAY},
        "distribution_id",
        "Distribution 'dist-1' is draft; it can be paid only while approved.",
    ),
]

# Bad input: the form's own errors, before any service is asked.
MALFORMED: list[tuple[str, dict[str, str], str, str]] = [
    (
        "commitment-amend",
        {"commitment_id": "aip-mgx", "amount": "lots"},
        "amount",
        "Enter a number",
    ),
    ("capital-call-prepare", {"amount": "1e400x", "due_on": "2025-06-30"}, "amount", "Enter a"),
    ("capital-call-prepare", {"amount": "10", "due_on": "2025-13-01"}, "due_on", "Enter a date"),
    ("fx-rate-record", {"currency": "GBP", "rate": "NaN"}, "rate", "Enter a number"),
    ("stake-acquire", {"holder": "organisation:mgx", "percent": "1e400"}, "percent", "at most 24"),
    ("commitment-amend", {"commitment_id": "aip-mgx", "amount": "1e-30"}, "amount", "at most 24"),
    (
        "partner-admit",
        {"organisation_id": "", "name": "X", "role": "member"},
        "organisation_id",
        "required",
    ),
    (
        "facility-draw",
        {"facility_id": "f-1", "amount": "5", "effective_on": "yesterday"},
        "effective_on",
        "Enter a date",
    ),
]


def _refused(response, field: str, words: str) -> None:
    assert response.status_code == 200
    form = response.context["form"]
    if field:
        shown = " ".join(form.errors.get(field, []))
        assert words in shown, (form.errors, form.top_errors)
    else:
        assert any(words in error for error in form.top_errors), form.errors
    assert words.split(";")[0][:30].replace("'", "&#x27;") in response.content.decode()


@pytest.mark.parametrize(
    ("command", "asset", "fields", "field", "words"),
    REFUSED,
    ids=[f"{r[0]}-{r[3] or 'top'}-{i}" for i, r in enumerate(REFUSED)],
)
def test_a_rule_refuses_beside_its_field_and_appends_nothing(
    world, browser_for, submit, command, asset, fields, field, words
):
    browser = browser_for("deal_team")
    response, appended = submit(browser, command, asset=asset, **fields)
    assert appended == []
    _refused(response, field, words)


def test_every_form_has_a_refusal_case():
    from consortium.admin.commands.catalogue import FORMS

    assert {r[0] for r in REFUSED} | {"consortium-form"} == set(FORMS) | {"consortium-form"}


@pytest.mark.parametrize(("command", "fields", "field", "words"), MALFORMED)
def test_bad_input_is_a_form_error(world, browser_for, submit, command, fields, field, words):
    browser = browser_for("deal_team")
    asset = "dc-1" if command.startswith("stake-") else None
    response, appended = submit(browser, command, asset=asset, **fields)
    assert appended == []
    assert response.status_code == 200
    assert words in " ".join(response.context["form"].errors[field])


def test_the_preparer_cannot_approve_their_own_call(world, browser_for, submit):
    alice = browser_for("deal_team", username="alice")  # she prepared call-2
    response, appended = submit(alice, "capital-call-approve", call_id="call-2", effective_on=MAY)
    assert appended == []
    _refused(
        response,
        "call_id",
        "alice prepared capital call 'call-2'; a second person must approve it.",
    )


def test_a_call_prepared_in_the_form_is_not_approved_by_its_preparer(world, browser_for, submit):
    browser = browser_for("deal_team")
    _, [event] = submit(
        browser,
        "capital-call-prepare",
        call_id="call-7",
        amount="10",
        due_on="2025-06-30",
        purpose="Fees",
        effective_on=MAY,
    )
    assert event.metadata["actor"] == browser.user.username
    response, appended = submit(browser, "capital-call-approve", call_id="call-7")
    assert appended == []
    _refused(response, "call_id", "a second person must approve it")
    other = browser_for("deal_team")
    _, [event] = submit(other, "capital-call-approve", call_id="call-7")
    assert event.type == "CapitalCallApproved"


def test_forming_an_existing_consortium_is_refused_on_the_slug(world, browser_for, submit):
    browser = browser_for("deal_team")
    response, appended = submit(
        browser,
        "consortium-form",
        where=None,
        name="Again",
        slug="aip",
        base_currency="USD",
        formed_on=MAY,
    )
    assert appended == []
    _refused(response, "slug", "Consortium 'aip' was already formed on 2025-01-06.")
    response, appended = submit(
        browser,
        "consortium-form",
        where=None,
        name="Later",
        slug="later",
        base_currency="USD",
        formed_on="2999-01-01",
    )
    assert appended == []
    _refused(response, "formed_on", "is after today")


def test_a_reversed_contribution_is_not_reversed_twice(world, browser_for, submit, bob):
    s.contribution_reverse(actor=bob, slug="aip", contribution_id="c-1", reason="Returned")
    browser = browser_for("finance")
    response, appended = submit(browser, "contribution-reverse", contribution_id="c-1", reason="x")
    assert appended == []
    _refused(response, "contribution_id", "Contribution 'c-1' was already reversed")


def test_a_refused_form_keeps_what_was_typed(world, browser_for, submit):
    browser = browser_for("deal_team")
    response, _ = submit(
        browser, "commitment-amend", commitment_id="aip-mgx", amount="299.99", effective_on=MAY
    )
    html = response.content.decode()
    assert 'value="299.99"' in html
    assert form_url("commitment-amend") in html  # posts back to itself


# --- distributions ---


def test_the_preparer_cannot_approve_their_own_distribution(world, browser_for, submit):
    alice = browser_for("deal_team", username="alice")  # she prepared dist-1
    response, appended = submit(
        alice, "distribution-approve", distribution_id="dist-1", effective_on=MAY
    )
    assert appended == []
    _refused(
        response,
        "distribution_id",
        "alice prepared distribution 'dist-1'; a second person must approve it.",
    )


def test_a_call_above_unfunded_including_recallable_is_refused_in_the_form(
    world, browser_for, submit
):
    """dist-2 paid with 20.00 recallable by mgx: unfunded is 1,000 - 500 + 20 = 520.00."""
    finance = browser_for("finance")
    deal = browser_for("deal_team")
    response, appended = submit(
        deal, "distribution-prepare", distribution_id="dist-9", amount="20", kind="capital",
        basis="contributed", purpose="Sale", recallable_1_partner="mgx",
        recallable_1_amount="20", effective_on=MAY,
    )  # fmt: skip
    assert response.status_code == 302 and len(appended) == 1
    other = browser_for("finance")
    for browser, command in ((other, "distribution-approve"), (finance, "distribution-pay")):
        response, appended = submit(browser, command, distribution_id="dist-9", effective_on=MAY)
        assert response.status_code == 302, response.context["form"].errors
    response, appended = submit(
        deal, "capital-call-prepare", call_id="call-9", amount="520.01", due_on="2025-06-30",
        purpose="Build", effective_on=MAY,
    )  # fmt: skip
    assert appended == []
    _refused(response, "amount", "The total unfunded equity is USD 520.00")
    response, appended = submit(
        deal, "capital-call-prepare", call_id="call-9", amount="520.00", due_on="2025-06-30",
        purpose="Build", effective_on=MAY,
    )  # fmt: skip
    assert response.status_code == 302 and len(appended) == 1
