"""The recipients room: payment instructions approved by a second deal-team member, the
proposal beside the instruction in force, and partner recipients changed by the deal team
only."""

import re

import pytest
from django.urls import reverse

from consortium import access_log
from consortium.admin.navigation import sidebar
from consortium.models import PartnerRecipient, PaymentInstruction
from consortium.reports import instructions as i

pytestmark = pytest.mark.django_db

PAGE = "/admin/recipients/aip/"
IBAN = "GB82WEST12345698765432"


@pytest.fixture
def team(formed, make_user):
    """aip (partners mgx, microsoft); dora and eli on the deal team, audrey an auditor."""
    formed("aip")
    return {
        "dora": make_user("dora", ("deal_team", "")),
        "eli": make_user("eli", ("deal_team", "aip")),
        "audrey": make_user("audrey", ("auditor", "aip")),
    }


def propose(user, **changes):
    details = {
        "beneficiary": "AIP LP",
        "bank": "Example Bank",
        "account": IBAN,
        "bic": "WESTGB2L",
        "reference": "",
    }
    return i.payment_instruction_propose(consortium="aip", by=user, **{**details, **changes})


def decide_url(instruction):
    return reverse("admin:workspace-instruction-decide", args=["aip", instruction.pk])


def test_another_deal_team_member_approves_from_the_page(team, client):
    proposal = propose(team["dora"])
    client.force_login(team["eli"])
    body = client.get(PAGE).content.decode()
    assert f'action="{decide_url(proposal)}"' in body and ">Approve</button>" in body

    answer = client.post(decide_url(proposal), {"decision": "approve"})

    assert answer.status_code == 302 and answer["Location"].endswith("#payment-instructions")
    assert i.payment_instruction_in_force("aip") == proposal
    page = client.get(PAGE).content.decode()
    assert "Approved: these payment instructions are now in force." in page
    assert "by eli" in page and "by dora" in page


def test_the_proposer_sees_no_button_and_is_refused_all_the_same(team, client):
    proposal = propose(team["dora"])
    client.force_login(team["dora"])
    body = client.get(PAGE).content.decode()
    assert ">Approve</button>" not in body
    assert "Proposed by you: another person of the deal team or finance must approve." in body

    answer = client.post(decide_url(proposal), {"decision": "approve"}, follow=True)

    assert "you cannot approve them: another person of the deal team or finance must decide" in (
        answer.content.decode()
    )
    assert PaymentInstruction.objects.get(pk=proposal.pk).status == "proposed"


def test_finance_approves_instructions_but_neither_proposes_them_nor_changes_recipients(
    team, client, make_user
):
    """Bank details are treasury's to check: a finance controller is the second person."""
    proposal = propose(team["dora"])
    client.force_login(make_user("fay", ("finance", "aip")))
    body = client.get(PAGE).content.decode()
    assert ">Approve</button>" in body
    assert "Propose new instructions" not in body and "Add a recipient" not in body
    assert client.get(reverse("admin:workspace-instruction-propose", args=["aip"])).status_code == (
        403
    )
    assert client.get(reverse("admin:workspace-recipient-add", args=["aip"])).status_code == 403

    assert client.post(decide_url(proposal), {"decision": "approve"}).status_code == 302
    assert i.payment_instruction_in_force("aip") == proposal


def test_a_reader_sees_instructions_and_recipients_but_changes_nothing(team, client):
    proposal = propose(team["dora"])
    i.partner_recipient_add(consortium="aip", organisation_id="mgx", email="ir@mgx.example.com")
    client.force_login(team["audrey"])
    body = client.get(PAGE).content.decode()
    assert "ir@mgx.example.com" in body and "Example Bank" in body
    assert ">Approve</button>" not in body and "Propose new instructions" not in body
    assert "Add a recipient" not in body and "Deactivate" not in body
    assert client.post(decide_url(proposal), {"decision": "approve"}).status_code == 403
    assert client.get(reverse("admin:workspace-recipient-add", args=["aip"])).status_code == 403
    assert PaymentInstruction.objects.get(pk=proposal.pk).status == "proposed"


def test_the_changed_fields_are_highlighted_against_the_instruction_in_force(team, client):
    first = propose(team["dora"])
    i.payment_instruction_approve(instruction_id=first.pk, by=team["eli"])
    propose(team["dora"], account="DE89370400440532013000", bic="COBADEFFXXX")
    client.force_login(team["eli"])
    body = client.get(PAGE).content.decode()
    changed = re.findall(r'ws-changed">\s*<td[^>]*>([^<]+)<', body)
    assert [text.strip() for text in changed] == ["Account", "BIC"]


def test_a_proposal_through_the_form_is_checked(team, client):
    client.force_login(team["dora"])
    url = reverse("admin:workspace-instruction-propose", args=["aip"])
    data = {"beneficiary": "AIP LP", "bank": "Example Bank", "bic": "WESTGB2L"}
    refused = client.post(url, {**data, "account": "GB82 WEST 1234 5698 7654 31"})
    assert refused.status_code == 200
    assert "fails the IBAN check digits" in refused.content.decode()
    assert not PaymentInstruction.objects.exists()

    answer = client.post(url, {**data, "account": "GB82 WEST 1234 5698 7654 32"})

    assert answer.status_code == 302
    assert PaymentInstruction.objects.get().account == IBAN


def test_the_deal_team_adds_changes_and_deactivates_recipients(team, client):
    client.force_login(team["dora"])
    add = reverse("admin:workspace-recipient-add", args=["aip"])
    assert 'value="mgx"' in client.get(add).content.decode()
    wrong = client.post(add, {"organisation_id": "mgx", "email": "nope"})
    assert "is not an e-mail address" in wrong.content.decode()
    stranger = client.post(add, {"organisation_id": "oracle", "email": "a@oracle.example.com"})
    assert stranger.status_code == 200 and not PartnerRecipient.objects.exists()

    client.post(
        add,
        {"organisation_id": "mgx", "email": "ir@mgx.example.com", "receives_notices": "on"},
    )
    added = PartnerRecipient.objects.get()
    assert (added.receives_notices, added.receives_statements) == (True, False)
    change = reverse("admin:workspace-recipient-change", args=["aip", added.pk])
    client.post(
        change, {"email": "cfo@mgx.example.com", "receives_statements": "on", "active": "on"}
    )
    deactivate = reverse("admin:workspace-recipient-deactivate", args=["aip", added.pk])
    client.post(deactivate)

    added.refresh_from_db()
    assert (added.email, added.receives_notices, added.active) == (
        "cfo@mgx.example.com",
        False,
        False,
    )


def test_the_sidebar_counts_the_proposals_a_user_may_decide(team, rf):
    propose(team["dora"])

    def badge(user):
        request = rf.get("/admin/")
        request.user = user
        items = [item for group in sidebar(request) for item in group["items"]]
        (entry,) = [item for item in items if item["title"] == "Recipients and payment"]
        return entry.get("badge")

    assert badge(team["eli"]) == "1"
    assert badge(team["dora"]) is None  # their own proposal
    assert badge(team["audrey"]) is None  # a reader decides nothing


def test_readers_see_who_changed_where_partners_pay_in_the_history(team, formed, client, make_user):
    formed("stargate")
    aip = propose(team["dora"])
    i.payment_instruction_approve(instruction_id=aip.pk, by=team["eli"])
    i.payment_instruction_propose(
        consortium="stargate",
        beneficiary="Stargate LLC",
        bank="Other Bank",
        account=IBAN,
        bic="WESTGB2L",
        by=team["dora"],
    )
    access_log.user_created(access_log.Acting("root", access_log.ADMIN), team["eli"])
    history = reverse("admin:workspace-journal")

    client.force_login(team["audrey"])  # an auditor in aip only
    page = client.get(history).content.decode()
    assert f"eli approved payment instructions #{aip.pk} for AIP (proposed by dora)" in page
    assert "Stargate LLC" not in page, "another consortium's instructions"
    assert "User eli was created" not in page, "the access stream's other events stay hidden"

    client.force_login(make_user("fay", ("finance", "")))  # a reader everywhere
    page = client.get(history).content.decode()
    assert "dora proposed payment instructions" in page and "Stargate LLC" in page
    assert "User eli was created" not in page
