"""Who at each partner receives its reports, and where partners pay a consortium's capital
calls: the services behind the workspace's recipients room (``consortium.admin.recipients``).

- **Partner recipients** (``PartnerRecipient``): per consortium and partner, added,
  changed and deactivated (never deleted: a delivery names the address it went to). The
  partner must be one of the consortium's partners in the ledger, the address a valid
  e-mail, unique per consortium and partner.
- **Payment instructions** (``PaymentInstruction``): a change is *proposed* by one person
  and takes effect only when a *different* person approves it (``consortium_payment_
  instruction_two_people`` refuses the same person in the database too). The instruction
  in force is the approved one decided last (``payment_instruction_in_force``); earlier
  ones stay, the record of what earlier notices said. Each proposal and decision is also
  an ``AccessChanged`` event on the ledger's ``access`` stream (``consortium.access_log``),
  appended in the same transaction, so the history shows who changed where partners pay.

Services take keyword-only, typed arguments, run atomically and raise named errors (each
a ``ValueError`` with the form ``field`` it concerns) whose message says how to fix it.
Who may call them is the surface's business, as for every command: the workspace lets only
deal-team members (``roles.WRITE``) change recipients and propose instructions, and the
deal team or finance (``roles.FINANCE_WRITE``) decide them.
"""

from __future__ import annotations

import dataclasses
import re
import string
from typing import Any, cast

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.utils import timezone

from consortium import access_log
from consortium.domain.errors import DomainError
from consortium.models import PartnerRecipient, PaymentInstruction
from consortium.streams import load_consortium

# --- errors ------------------------------------------------------------------------------


class InstructionError(ValueError):
    """A refused change to recipients or payment instructions; ``field``: the form field it
    concerns ("" when it concerns none)."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class UnknownConsortium(InstructionError):
    """The ledger has no such consortium."""


class UnknownPartner(InstructionError):
    """The organisation is not a partner of the consortium."""


class InvalidRecipient(InstructionError):
    """A recipient's address or name that cannot be used."""


class InvalidInstruction(InstructionError):
    """Bank details that cannot be right (IBAN checksum, BIC format, a blank field)."""


class NotAPersonActing(InstructionError):
    """Proposals and decisions are made by signed-in, named people only."""


class TwoPeopleRequired(InstructionError):
    """The proposer of a payment instruction may not approve or reject it."""


class NotPending(InstructionError):
    """The proposal was decided already (or does not exist)."""


def _limit(model: type[models.Model], field: str) -> int:
    """The most characters a text column of ``model`` holds."""
    column = model._meta.get_field(field)
    if not isinstance(column, models.CharField) or column.max_length is None:
        raise TypeError(f"{model.__name__}.{field} is no bounded text column.")
    return column.max_length


# --- consortia and partners --------------------------------------------------------------


def partners_of(consortium: str) -> dict[str, str]:
    """The consortium's partners (organisation id -> name) as the ledger holds them now;
    raises ``UnknownConsortium``."""
    if not access_log.consortium_known(consortium):
        raise UnknownConsortium(
            f"There is no consortium {consortium!r}: choose one the ledger knows.",
            field="consortium",
        )
    try:
        state = load_consortium(consortium).state
    except DomainError as error:
        raise UnknownConsortium(str(error), field="consortium") from error
    return {org: partner.name for org, partner in sorted(state.partners.items())}


def _check_partner(consortium: str, organisation_id: str) -> None:
    partners = partners_of(consortium)
    if organisation_id not in partners:
        known = ", ".join(partners) or "none yet"
        raise UnknownPartner(
            f"{organisation_id or 'No organisation'} is not a partner of {consortium} "
            f"(its partners: {known}).",
            field="organisation_id",
        )


# --- partner recipients ------------------------------------------------------------------


def _clean_email(email: str) -> str:
    address = email.strip()
    try:
        validate_email(address)
    except ValidationError:
        raise InvalidRecipient(
            f"{address or 'An empty address'} is not an e-mail address "
            "(write it as name@example.com).",
            field="email",
        ) from None
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    limit = _limit(PartnerRecipient, "name")
    if len(cleaned) > limit:
        raise InvalidRecipient(f"A name has at most {limit} characters.", field="name")
    return cleaned


def _refuse_duplicate(consortium: str, organisation_id: str, email: str, exclude: int) -> None:
    taken = PartnerRecipient.objects.filter(
        consortium=consortium, organisation_id=organisation_id, email__iexact=email
    ).exclude(pk=exclude)
    if taken.exists():
        raise InvalidRecipient(
            f"{email} already receives {organisation_id}'s reports in {consortium}: change "
            "or reactivate that recipient instead.",
            field="email",
        )


@transaction.atomic
def partner_recipient_add(
    *,
    consortium: str,
    organisation_id: str,
    email: str,
    name: str = "",
    receives_statements: bool = True,
    receives_notices: bool = True,
) -> PartnerRecipient:
    """Add someone at a partner who receives its statements and/or capital call notices."""
    _check_partner(consortium, organisation_id)
    address = _clean_email(email)
    _refuse_duplicate(consortium, organisation_id, address, exclude=0)
    return PartnerRecipient.objects.create(
        consortium=consortium,
        organisation_id=organisation_id,
        email=address,
        name=_clean_name(name),
        receives_statements=receives_statements,
        receives_notices=receives_notices,
    )


@transaction.atomic
def partner_recipient_change(
    *,
    recipient_id: int,
    email: str,
    name: str = "",
    receives_statements: bool = True,
    receives_notices: bool = True,
    active: bool = True,
) -> PartnerRecipient:
    """Change a recipient's address, name, what it receives, or whether it is active.
    (Its consortium and partner stay: someone at another partner is another recipient.)"""
    recipient = _recipient(recipient_id)
    address = _clean_email(email)
    _refuse_duplicate(recipient.consortium, recipient.organisation_id, address, recipient.pk)
    recipient.email = address
    recipient.name = _clean_name(name)
    recipient.receives_statements = receives_statements
    recipient.receives_notices = receives_notices
    recipient.active = active
    recipient.save()
    return recipient


@transaction.atomic
def partner_recipient_deactivate(*, recipient_id: int) -> PartnerRecipient:
    """Stop sending anything to a recipient (kept, with the deliveries it received)."""
    recipient = _recipient(recipient_id)
    if recipient.active:
        recipient.active = False
        recipient.save(update_fields=["active"])
    return recipient


def _recipient(recipient_id: int) -> PartnerRecipient:
    try:
        return PartnerRecipient.objects.select_for_update().get(pk=recipient_id)
    except PartnerRecipient.DoesNotExist:
        raise InvalidRecipient(f"There is no recipient {recipient_id}.") from None


def notice_recipients(consortium: str, organisation_id: str) -> list[str]:
    """The addresses that receive a partner's capital call notices, sorted."""
    return sorted(
        PartnerRecipient.objects.filter(
            consortium=consortium,
            organisation_id=organisation_id,
            active=True,
            receives_notices=True,
        ).values_list("email", flat=True)
    )


# --- bank details ------------------------------------------------------------------------

IBAN_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
BIC_SHAPE = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")
ACCOUNT_SHAPE = re.compile(r"^[0-9]{4,34}$")


def looks_like_iban(account: str) -> bool:
    """An account that starts with a country code and two check digits is an IBAN."""
    compact = "".join(account.split()).upper()
    return len(compact) >= 4 and compact[:2].isalpha() and compact[2:4].isdigit()


def clean_account(account: str) -> str:
    """An IBAN (checked with ISO 13616's mod-97) in capitals without spaces, or a plain
    account number (digits; spaces and hyphens dropped); raises ``InvalidInstruction``."""
    if looks_like_iban(account):
        iban = "".join(account.split()).upper()
        if not IBAN_SHAPE.match(iban):
            raise InvalidInstruction(
                f"{iban} is not an IBAN: a country code, two check digits and 11 to 30 "
                "letters or digits (15 to 34 characters in all).",
                field="account",
            )
        if iban_remainder(iban) != 1:
            raise InvalidInstruction(
                f"{iban} fails the IBAN check digits (mod 97): a character is mistyped. "
                "Copy it again from the bank's letter.",
                field="account",
            )
        return iban
    number = re.sub(r"[\s-]", "", account)
    if not ACCOUNT_SHAPE.match(number):
        raise InvalidInstruction(
            "Give an IBAN (such as GB82 WEST 1234 5698 7654 32) or an account number of 4 "
            "to 34 digits.",
            field="account",
        )
    return number


def iban_remainder(iban: str) -> int:
    """ISO 13616: move the first four characters to the end, letters to 10..35, mod 97."""
    rearranged = iban[4:] + iban[:4]
    digits = "".join(
        str(string.ascii_uppercase.index(c) + 10) if c.isalpha() else c for c in rearranged
    )
    return int(digits) % 97


def clean_bic(bic: str) -> str:
    """A SWIFT/BIC (ISO 9362) in capitals: 8 or 11 characters; raises ``InvalidInstruction``."""
    code = "".join(bic.split()).upper()
    if not BIC_SHAPE.match(code):
        raise InvalidInstruction(
            f"{code or 'An empty BIC'} is not a BIC: 4 letters (bank), 2 letters (country), "
            "2 letters or digits (location), and optionally 3 for the branch, such as "
            "CHASUS33 or DEUTDEFF500.",
            field="bic",
        )
    return code


def _clean_text(value: str, *, field: str, what: str, required: bool) -> str:
    cleaned = " ".join(value.split())
    if required and not cleaned:
        raise InvalidInstruction(f"{what} is required.", field=field)
    limit = _limit(PaymentInstruction, field)
    if len(cleaned) > limit:
        raise InvalidInstruction(f"{what} has at most {limit} characters.", field=field)
    return cleaned


# --- payment instructions ----------------------------------------------------------------

DETAILS = ("beneficiary", "bank", "account", "bic", "reference")


def details_of(instruction: PaymentInstruction) -> dict[str, str]:
    """The bank details of an instruction, by field name."""
    return {field: getattr(instruction, field) for field in DETAILS}


def payment_instruction_in_force(consortium: str) -> PaymentInstruction | None:
    """The instruction partners pay ``consortium``'s calls to now: the approved one decided
    last; None while none has been approved."""
    return (
        PaymentInstruction.objects.filter(consortium=consortium, status="approved")
        .select_related("proposed_by", "decided_by")
        .order_by("-decided_at", "-id")
        .first()
    )


def _person(by: AbstractBaseUser | AnonymousUser, what: str) -> AbstractBaseUser:
    if not by.is_authenticated or not getattr(by, "is_active", False) or by.pk is None:
        raise NotAPersonActing(f"{what} must be made by a signed-in, active person.")
    assert isinstance(by, AbstractBaseUser)
    return by


@transaction.atomic
def payment_instruction_propose(
    *,
    consortium: str,
    beneficiary: str,
    bank: str,
    account: str,
    bic: str,
    reference: str = "",
    by: AbstractBaseUser | AnonymousUser,
    source: str = access_log.ADMIN,
) -> PaymentInstruction:
    """Propose where partners pay ``consortium``; in force only once another person
    approves it (``payment_instruction_approve``). ``source``: through what it was asked
    (the ledger's record says so)."""
    person = _person(by, "A proposal")
    partners_of(consortium)  # the consortium exists
    details = {
        "beneficiary": _clean_text(
            beneficiary, field="beneficiary", what="The beneficiary", required=True
        ),
        "bank": _clean_text(bank, field="bank", what="The bank", required=True),
        "account": clean_account(account),
        "bic": clean_bic(bic),
        "reference": _clean_text(
            reference, field="reference", what="The reference", required=False
        ),
    }
    current = payment_instruction_in_force(consortium)
    if current is not None and details_of(current) == details:
        raise InvalidInstruction(
            "These are the payment instructions already in force: change a field to propose "
            "new ones."
        )
    instruction = PaymentInstruction.objects.create(
        consortium=consortium, proposed_by=cast(User, person), **details
    )
    _record(instruction, "payment_instruction_proposed", person, source)
    return instruction


def payment_instruction_approve(
    *, instruction_id: int, by: AbstractBaseUser | AnonymousUser, source: str = access_log.ADMIN
) -> PaymentInstruction:
    """Approve a proposal: from now on it is the instruction in force for its consortium.
    Refused to its proposer (``TwoPeopleRequired``) and once decided (``NotPending``)."""
    return _decide(instruction_id, by, "approved", source)


def payment_instruction_reject(
    *, instruction_id: int, by: AbstractBaseUser | AnonymousUser, source: str = access_log.ADMIN
) -> PaymentInstruction:
    """Reject a proposal; the instruction in force stays. Refused to its proposer."""
    return _decide(instruction_id, by, "rejected", source)


@transaction.atomic
def _decide(
    instruction_id: int, by: AbstractBaseUser | AnonymousUser, status: str, source: str
) -> PaymentInstruction:
    verb = "approve" if status == "approved" else "reject"
    person = _person(by, "A decision")
    try:
        instruction = (
            PaymentInstruction.objects.select_for_update()
            .select_related("proposed_by")
            .get(pk=instruction_id)
        )
    except PaymentInstruction.DoesNotExist:
        raise NotPending(f"There is no payment instruction {instruction_id}.") from None
    if instruction.status != "proposed":
        raise NotPending(
            f"This proposal was {instruction.status} already by {instruction.decided_by} "
            "(refresh the page)."
        )
    if instruction.proposed_by_id == person.pk:
        raise TwoPeopleRequired(
            f"You proposed these payment instructions, so you cannot {verb} them: another "
            "person of the deal team or finance must decide."
        )
    instruction.status = status
    instruction.decided_by = cast(User, person)  # the project's user model
    instruction.decided_at = timezone.now()
    instruction.save(update_fields=["status", "decided_by", "decided_at"])
    _record(instruction, f"payment_instruction_{status}", person, source)
    return instruction


def _record(
    instruction: PaymentInstruction, action: str, person: AbstractBaseUser, source: str
) -> None:
    """The proposal or decision as an ``AccessChanged`` event (same transaction)."""
    acting = access_log.Acting(person.get_username(), source)
    described: dict[str, Any] = {
        "id": instruction.pk,
        **details_of(instruction),
        "proposed_by": instruction.proposed_by.get_username(),
    }
    access_log.record(
        acting,
        action,
        user=person.get_username(),
        consortium=instruction.consortium,
        instruction=described,
    )


@dataclasses.dataclass(frozen=True)
class Difference:
    """One field of a proposal beside the instruction in force."""

    field: str
    label: str
    proposed: str
    in_force: str | None  # None: nothing in force

    @property
    def changed(self) -> bool:
        return self.in_force is None or self.proposed != self.in_force


LABELS = {
    "beneficiary": "Beneficiary",
    "bank": "Bank",
    "account": "Account",
    "bic": "BIC",
    "reference": "Reference",
}


def differences(
    proposal: PaymentInstruction, in_force: PaymentInstruction | None
) -> list[Difference]:
    """Each field of ``proposal`` beside the instruction in force (what an approver checks)."""
    current = details_of(in_force) if in_force is not None else None
    return [
        Difference(field, LABELS[field], value, None if current is None else current[field])
        for field, value in details_of(proposal).items()
    ]
