"""Partner recipients and payment instructions: validation, the two-person rule (in the
service and in the database), the instruction in force, and the ledger's record of who
changed where partners pay."""

from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from consortium import access_log
from consortium.models import PartnerRecipient, PaymentInstruction
from consortium.reports import instructions as i
from ledger import store
from ledger.models import Event

pytestmark = pytest.mark.django_db

IBAN = "GB82 WEST 1234 5698 7654 32"  # the standard example: check digits valid
OTHER_IBAN = "DE89370400440532013000"


@pytest.fixture
def aip(formed) -> str:
    return str(formed("aip"))  # partners mgx and microsoft


def propose(by, **changes):
    details = {
        "consortium": "aip",
        "beneficiary": "AI Infrastructure Partnership LP",
        "bank": "Example Bank plc",
        "account": IBAN,
        "bic": "westgb2l",
        "reference": "AIP capital call",
    }
    return i.payment_instruction_propose(by=by, **{**details, **changes})


def access_events() -> list[dict[str, Any]]:
    return [event.data for event in store.read_stream(access_log.STREAM)]


# --- payment instructions ------------------------------------------------------------------


def test_a_proposal_is_in_force_only_once_another_person_approves_it(aip, alice, bob):
    proposal = propose(alice.user)
    assert proposal.status == "proposed"
    assert proposal.account == "GB82WEST12345698765432" and proposal.bic == "WESTGB2L"
    assert i.payment_instruction_in_force("aip") is None

    approved = i.payment_instruction_approve(instruction_id=proposal.pk, by=bob.user)

    assert i.payment_instruction_in_force("aip") == approved
    assert approved.proposed_by == alice.user and approved.decided_by == bob.user
    assert approved.proposed_at is not None and approved.decided_at is not None
    recorded = access_events()
    assert [e["action"] for e in recorded] == [
        "payment_instruction_proposed",
        "payment_instruction_approved",
    ]
    assert recorded[1]["user"] == "bob" and recorded[1]["consortium"] == "aip"
    assert recorded[1]["instruction"]["proposed_by"] == "alice"
    assert recorded[1]["instruction"]["account"] == "GB82WEST12345698765432"


@pytest.mark.parametrize("decide", [i.payment_instruction_approve, i.payment_instruction_reject])
def test_the_proposer_may_not_decide_their_own_proposal(aip, alice, decide):
    proposal = propose(alice.user)
    before = store.head()

    with pytest.raises(
        i.TwoPeopleRequired, match="another person of the deal team or finance must decide"
    ):
        decide(instruction_id=proposal.pk, by=alice.user)

    proposal.refresh_from_db()
    assert proposal.status == "proposed" and proposal.decided_by is None
    assert store.head() == before, "a refused decision records nothing"
    assert i.payment_instruction_in_force("aip") is None


def test_the_database_refuses_a_decider_who_is_the_proposer(aip, alice):
    """Rule backed by ``consortium_payment_instruction_two_people`` on both backends: code
    that bypasses the service cannot approve its own proposal either."""
    proposal = propose(alice.user)
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentInstruction.objects.filter(pk=proposal.pk).update(
            status="approved", decided_by=alice.user, decided_at=timezone.now()
        )
    proposal.refresh_from_db()
    assert proposal.status == "proposed"


def test_an_approval_needs_its_decider_recorded_in_the_database(aip, alice):
    proposal = propose(alice.user)
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentInstruction.objects.filter(pk=proposal.pk).update(status="approved")


def test_a_rejected_proposal_leaves_the_instruction_in_force(aip, alice, bob):
    first = propose(alice.user)
    i.payment_instruction_approve(instruction_id=first.pk, by=bob.user)
    second = propose(alice.user, account=OTHER_IBAN, bic="COBADEFFXXX")

    i.payment_instruction_reject(instruction_id=second.pk, by=bob.user)

    assert i.payment_instruction_in_force("aip") == first
    assert access_events()[-1]["action"] == "payment_instruction_rejected"


def test_the_instruction_in_force_is_the_approved_one_decided_last(aip, alice, bob):
    older = propose(alice.user)
    newer = propose(alice.user, account=OTHER_IBAN, bic="COBADEFFXXX")
    i.payment_instruction_approve(instruction_id=newer.pk, by=bob.user)
    i.payment_instruction_approve(instruction_id=older.pk, by=bob.user)

    assert i.payment_instruction_in_force("aip") == older  # proposed first, decided last
    assert i.payment_instruction_in_force("stargate") is None


def test_a_decision_is_made_once(aip, alice, bob):
    proposal = propose(alice.user)
    i.payment_instruction_reject(instruction_id=proposal.pk, by=bob.user)
    with pytest.raises(i.NotPending, match="rejected already"):
        i.payment_instruction_approve(instruction_id=proposal.pk, by=bob.user)
    assert i.payment_instruction_in_force("aip") is None


def test_proposing_what_is_in_force_is_refused(aip, alice, bob):
    first = propose(alice.user)
    i.payment_instruction_approve(instruction_id=first.pk, by=bob.user)
    with pytest.raises(i.InvalidInstruction, match="already in force"):
        propose(bob.user, account="gb82west12345698765432", bic="WESTGB2L")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"account": "GB82 WEST 1234 5698 7654 33"}, "account", "fails the IBAN check digits"),
        ({"account": "GB82 WEST"}, "account", "is not an IBAN"),
        ({"account": "12ab"}, "account", "account number of 4 to 34 digits"),
        ({"bic": "WEST"}, "bic", "is not a BIC"),
        ({"bic": "WEST1B2L"}, "bic", "is not a BIC"),
        ({"beneficiary": "  "}, "beneficiary", "The beneficiary is required"),
        ({"bank": ""}, "bank", "The bank is required"),
    ],
)
def test_bad_bank_details_are_refused_clearly_and_nothing_is_stored(
    aip, alice, changes, field, message
):
    before = store.head()
    with pytest.raises(i.InvalidInstruction, match=message) as refused:
        propose(alice.user, **changes)
    assert refused.value.field == field
    assert not PaymentInstruction.objects.exists()
    assert store.head() == before


def test_a_plain_account_number_is_accepted(aip, alice):
    proposal = propose(alice.user, account="0012-3456 789", bic="CHASUS33")
    assert proposal.account == "00123456789"


def test_iban_check_digits():
    assert i.iban_remainder("GB82WEST12345698765432") == 1
    assert i.iban_remainder("DE89370400440532013000") == 1
    assert i.iban_remainder("DE89370400440532013001") != 1


def test_an_unknown_consortium_is_refused(aip, alice):
    with pytest.raises(i.UnknownConsortium, match="no consortium 'nowhere'"):
        propose(alice.user, consortium="nowhere")


def test_an_anonymous_or_inactive_user_cannot_propose(aip, alice):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(i.NotAPersonActing):
        propose(AnonymousUser())
    alice.user.is_active = False
    with pytest.raises(i.NotAPersonActing):
        propose(alice.user)


def test_differences_mark_the_fields_that_change(aip, alice, bob):
    first = propose(alice.user)
    i.payment_instruction_approve(instruction_id=first.pk, by=bob.user)
    second = propose(alice.user, account=OTHER_IBAN, bic="COBADEFFXXX")
    changed = {d.field for d in i.differences(second, first) if d.changed}
    assert changed == {"account", "bic"}
    assert all(d.changed for d in i.differences(second, None))


def test_the_history_words_a_decision(aip, alice, bob):
    from consortium.narration import describe

    proposal = propose(alice.user)
    i.payment_instruction_approve(instruction_id=proposal.pk, by=bob.user)
    event = store.read_stream(access_log.STREAM)[-1]
    assert describe(event, {"aip": "AIP"}) == (
        f"bob approved payment instructions #{proposal.pk} for AIP (proposed by alice): "
        "AI Infrastructure Partnership LP, Example Bank plc, account "
        "GB82WEST12345698765432, BIC WESTGB2L"
    )
    assert Event.objects.filter(stream=access_log.STREAM).count() == 2


# --- partner recipients --------------------------------------------------------------------


def test_a_recipient_is_added_for_a_partner_of_the_consortium(aip):
    added = i.partner_recipient_add(
        consortium="aip", organisation_id="mgx", email="Ops@MGX.Example.com", name=" Ops  desk "
    )
    assert added.email == "Ops@mgx.example.com" and added.name == "Ops desk"
    assert i.notice_recipients("aip", "mgx") == ["Ops@mgx.example.com"]
    assert i.notice_recipients("aip", "microsoft") == []


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"email": "not-an-address"}, i.InvalidRecipient, "is not an e-mail address"),
        ({"email": ""}, i.InvalidRecipient, "An empty address is not an e-mail"),
        ({"organisation_id": "oracle"}, i.UnknownPartner, "oracle is not a partner of aip"),
        ({"consortium": "nowhere"}, i.UnknownConsortium, "no consortium"),
    ],
)
def test_a_bad_recipient_is_refused_and_nothing_stored(aip, changes, error, message):
    arguments = {"consortium": "aip", "organisation_id": "mgx", "email": "ir@mgx.example.com"}
    with pytest.raises(error, match=message):
        i.partner_recipient_add(**{**arguments, **changes})
    assert not PartnerRecipient.objects.exists()


def test_an_address_is_added_once_per_partner(aip):
    i.partner_recipient_add(consortium="aip", organisation_id="mgx", email="ir@mgx.example.com")
    with pytest.raises(i.InvalidRecipient, match="already receives"):
        i.partner_recipient_add(consortium="aip", organisation_id="mgx", email="IR@mgx.example.com")
    # the same address at another partner is another recipient
    i.partner_recipient_add(
        consortium="aip", organisation_id="microsoft", email="ir@mgx.example.com"
    )


def test_a_recipient_is_changed_and_deactivated_not_deleted(aip):
    added = i.partner_recipient_add(
        consortium="aip", organisation_id="mgx", email="ir@mgx.example.com"
    )
    i.partner_recipient_change(
        recipient_id=added.pk,
        email="treasury@mgx.example.com",
        name="Treasury",
        receives_statements=True,
        receives_notices=False,
    )
    assert i.notice_recipients("aip", "mgx") == []
    i.partner_recipient_change(recipient_id=added.pk, email="treasury@mgx.example.com")
    assert i.notice_recipients("aip", "mgx") == ["treasury@mgx.example.com"]

    i.partner_recipient_deactivate(recipient_id=added.pk)

    assert i.notice_recipients("aip", "mgx") == []
    assert PartnerRecipient.objects.get(pk=added.pk).active is False
    with pytest.raises(i.InvalidRecipient, match="is not an e-mail"):
        i.partner_recipient_change(recipient_id=added.pk, email="nope")
