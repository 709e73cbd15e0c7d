"""The demo's recipients and payment instructions: plausible, approved by a second person,
loaded once."""

from io import StringIO

import pytest
from django.core.management import call_command

from consortium.models import PartnerRecipient, PaymentInstruction
from consortium.reports import instructions as i
from consortium.streams import load_consortium
from ledger.store import head

pytestmark = pytest.mark.django_db


def seed() -> None:
    call_command("seed_demo", stdout=StringIO())


def test_each_consortium_has_approved_payment_instructions_by_two_people():
    seed()
    for slug in ("aip", "stargate"):
        in_force = i.payment_instruction_in_force(slug)
        assert in_force is not None, slug
        assert in_force.proposed_by.get_username() == "alice.deal"
        assert in_force.decided_by is not None
        assert in_force.decided_by.get_username() == "bob.finance"
        assert "(illustrative)" in in_force.beneficiary


def test_every_partner_has_recipients_at_example_addresses():
    seed()
    for slug in ("aip", "stargate"):
        partners = set(load_consortium(slug).state.partners)
        have = set(
            PartnerRecipient.objects.filter(consortium=slug, active=True).values_list(
                "organisation_id", flat=True
            )
        )
        assert have == partners, slug
    emails = PartnerRecipient.objects.values_list("email", "organisation_id")
    assert all(email.endswith(f"@{org}.example.com") for email, org in emails)


def test_loading_twice_adds_no_recipient_instruction_or_event():
    seed()
    counts = (PartnerRecipient.objects.count(), PaymentInstruction.objects.count(), head())
    seed()
    assert (PartnerRecipient.objects.count(), PaymentInstruction.objects.count(), head()) == counts
