"""Each role sees and may use only the forms its grants allow, as the API's write views
require (``consortium.roles``): deal teams every form, finance contributions, reversals,
draws, repayments and FX rates, auditors none; partner users never enter the workspace;
a grant in one consortium allows nothing in another."""

import pytest
from django.urls import reverse

from consortium.admin.commands.catalogue import FORMS, ConsortiumForm
from consortium.api import writes
from consortium.roles import FINANCE_WRITE
from ledger import store
from tests.consortium.admin.commands_support import form_url

FINANCE_FORMS = {
    "contribution-receive",
    "contribution-reverse",
    "facility-draw",
    "facility-repay",
    "fx-rate-record",
    # sealed periods
    "period-close",
    "period-propose-reopening",
    "period-approve-reopening",
    # --- interest and equalisation ---
    "interest-rate-set",
    "late-interest-waiver-propose",
    "late-interest-waiver-approve",
    # --- distributions ---
    "proceeds-record",
    "distribution-approve",
    "distribution-pay",
}


# Each form and the API's write view for the same service.
API_VIEWS = {
    "consortium-set-target": writes.TargetSet,
    "partner-admit": writes.PartnerAdmit,
    "partner-change-role": writes.PartnerRole,
    "partner-withdraw": writes.PartnerAdmit,  # the API has no withdrawal view: deal team
    "commitment-record": writes.CommitmentRecord,
    "commitment-advance-stage": writes.CommitmentStage,
    "commitment-amend": writes.CommitmentAmend,
    "capital-call-prepare": writes.CallPrepare,
    "capital-call-approve": writes.CallApprove,
    "capital-call-issue": writes.CallIssue,
    "capital-call-cancel": writes.CallCancel,
    "contribution-receive": writes.ContributionReceive,
    "contribution-reverse": writes.ContributionReverse,
    "facility-arrange": writes.FacilityArrange,
    "facility-draw": writes.FacilityDraw,
    "facility-repay": writes.FacilityRepay,
    "fx-rate-record": writes.FxRateRecord,
    "asset-register": writes.AssetRegister,
    "stake-acquire": writes.AssetStake,
    "stake-transfer": writes.AssetStake,
    "stake-sell": writes.AssetStake,
    # sealed periods
    "period-close": writes.PeriodClose,
    "period-propose-reopening": writes.PeriodReopenPropose,
    "period-approve-reopening": writes.PeriodReopenApprove,
    # --- interest and equalisation ---
    "interest-rate-set": writes.InterestRateSet,
    "late-interest-waiver-propose": writes.LateInterestWaiverPropose,
    "late-interest-waiver-approve": writes.LateInterestWaiverApprove,
    "equalisation-call-prepare": writes.EqualisationPrepare,
    "equalisation-call-approve": writes.EqualisationApprove,
    # --- distributions ---
    "proceeds-record": writes.ProceedsRecord,
    "distribution-prepare": writes.DistributionPrepare,
    "distribution-approve": writes.DistributionApprove,
    "distribution-pay": writes.DistributionPay,
}


def test_each_form_needs_the_capability_the_api_needs():
    assert set(API_VIEWS) == set(FORMS)
    for command, view in API_VIEWS.items():
        assert FORMS[command].capability == view.capability["POST"], command
    assert writes.ConsortiumForm.capability["POST"] == ConsortiumForm.capability
    assert {c for c, form in FORMS.items() if form.capability == FINANCE_WRITE} == FINANCE_FORMS


def _allowed(role: str) -> set[str]:
    return {"deal_team": set(FORMS), "finance": FINANCE_FORMS}.get(role, set())


def _url(command: str) -> str:
    return form_url(command, "aip", asset="dc-1" if command.startswith("stake-") else None)


@pytest.mark.parametrize(
    ("role", "scope"),
    [
        ("deal_team", None),
        ("deal_team", "aip"),
        ("finance", "aip"),
        ("auditor", None),
        ("deal_team", "sg"),  # granted only in another consortium
    ],
)
def test_each_role_may_open_and_submit_only_its_forms(world, browser_for, role, scope):
    browser = browser_for(role, scope)
    allowed = _allowed(role) if scope in (None, "aip") else set()
    head = store.head()
    for command in FORMS:
        expected = 200 if command in allowed else 403
        assert browser.get(_url(command)).status_code == expected, command
        if command not in allowed:
            assert browser.post(_url(command), {"token": "x" * 24}).status_code == 403
    assert store.head() == head


@pytest.mark.parametrize(
    ("role", "scope"),
    [("deal_team", "aip"), ("finance", "aip"), ("auditor", "aip"), ("deal_team", "sg")],
)
def test_the_list_of_forms_shows_only_those_the_role_may_use(world, browser_for, role, scope):
    browser = browser_for(role, scope)
    response = browser.get(reverse("admin:workspace-commands", args=["aip"]))
    if scope != "aip":
        assert response.status_code == 403
        return
    assert response.status_code == 200
    html = response.content.decode()
    for command in FORMS:
        link = reverse("admin:workspace-command", args=["aip", command])
        assert (link in html) == (command in _allowed(role)), command
    if role == "auditor":
        assert "Your role does not allow you to record anything in AIP." in html
    groups = [group["title"] for group in response.context["groups"]]
    expected = {
        "deal_team": [
            "Targets",
            "Partners",
            "Commitments",
            "Capital calls",
            "Contributions",
            "Debt",
            "FX",
            "Assets",
            "Periods",
            "Interest",  # --- interest and equalisation ---
            "Distributions",  # --- distributions ---
        ],
        "finance": ["Contributions", "Debt", "FX", "Periods", "Interest", "Distributions"],
        "auditor": [],
    }[role]
    assert groups == expected
    # Forming a consortium needs a global grant: a grant in aip does not show it.
    assert reverse("admin:workspace-consortium-form") not in html


def test_a_partner_user_never_reaches_a_form(world, browser_for):
    browser = browser_for("partner:mgx")
    head = store.head()
    for command in FORMS:
        response = browser.get(_url(command))
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))
        assert browser.post(_url(command), {}).status_code == 302
    assert browser.get(reverse("admin:workspace-commands", args=["aip"])).status_code == 302
    assert browser.get(reverse("admin:workspace-consortium-form")).status_code == 302
    assert store.head() == head


def test_finance_cannot_form_a_consortium_and_a_global_deal_team_can(world, browser_for):
    url = reverse("admin:workspace-consortium-form")
    assert browser_for("finance").get(url).status_code == 403
    assert browser_for("deal_team").get(url).status_code == 200


def test_an_unknown_consortium_or_form_is_not_found(world, browser_for):
    browser = browser_for("deal_team")
    assert browser.get(form_url("partner-admit", "nowhere")).status_code == 404
    assert browser.get(form_url("no-such-command")).status_code == 404
    assert browser.get(reverse("admin:workspace-commands", args=["nowhere"])).status_code == 404
