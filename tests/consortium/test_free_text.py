"""Free text, ids and slugs given to the services: the domain refuses what no text may hold
(NUL, lone surrogates, control characters), text over its limit, and slugs or ids no
stream could be named by, naming the field, before the ledger is asked; and records text
at its limit. Each scenario tries to break the rule and asserts nothing was appended."""

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from consortium import services as s
from consortium.domain import commands as c
from consortium.domain.errors import DomainError, InvalidInput
from consortium.domain.values import Holder
from ledger import store
from tests.consortium.conftest import FORMED, usd

pytestmark = pytest.mark.django_db

ON = dt.date(2025, 2, 5)
MEGABYTE = "a" * 1_000_000

Attempt = Callable[[s.Actor, s.Actor, str, int], s.CommandResult]


def _form(alice: s.Actor, bob: s.Actor, text: str, n: int) -> s.CommandResult:
    return s.consortium_form(
        actor=alice, slug=f"new-{n}", name=text, base_currency="USD", formed_on=FORMED
    )


def _admit(alice: s.Actor, bob: s.Actor, text: str, n: int) -> s.CommandResult:
    return s.partner_admit(
        actor=alice,
        slug="aip",
        organisation_id=f"org-{n}",
        name=text,
        role="member",
        effective_on=FORMED,
    )


def _withdraw(alice: s.Actor, bob: s.Actor, text: str, n: int) -> s.CommandResult:
    return s.partner_withdraw(
        actor=alice, slug="aip", organisation_id=f"org-{n}", reason=text, effective_on=ON
    )


def _prepare(alice: s.Actor, bob: s.Actor, text: str, n: int) -> s.CommandResult:
    return s.capital_call_prepare(
        actor=alice,
        slug="aip",
        call_id=f"call-x{n}",
        amount=usd("1.00"),
        due_on=dt.date(2025, 4, 1),
        purpose=text,
        effective_on=ON,
    )


def _cancel(alice: s.Actor, bob: s.Actor, text: str, n: int) -> s.CommandResult:
    return s.capital_call_cancel(
        actor=alice, slug="aip", call_id=f"call-x{n}", reason=text, effective_on=ON
    )


def _receive(alice: s.Actor, bob: s.Actor, text: str, n: int) -> s.CommandResult:
    return s.contribution_receive(
        actor=bob,
        slug="aip",
        contribution_id=f"c-x{n}",
        call_id="call-1",
        organisation_id="mgx",
        amount=usd("1.00"),
        bank_reference=text,
        received_on=ON,
    )


def _reverse(alice: s.Actor, bob: s.Actor, text: str, n: int) -> s.CommandResult:
    return s.contribution_reverse(
        actor=bob, slug="aip", contribution_id=f"c-x{n}", reason=text, effective_on=ON
    )


def _asset(field: str) -> Attempt:
    def register(alice: s.Actor, bob: s.Actor, text: str, n: int) -> s.CommandResult:
        given = {"name": "DC", "location": "Texas", field: text}
        return s.asset_register(
            actor=alice,
            asset_id=f"dc-x{n}",
            sponsor="aip",
            kind="data_centre",
            capacity_mw=Decimal(100),
            estimated_cost=usd("10.00"),
            effective_on=FORMED,
            **given,
        )

    return register


# What must be recorded first for the command to be possible (with the same ``n``).
SETUP: dict[Attempt, tuple[Attempt, str]] = {
    _withdraw: (_admit, "Idle"),
    _cancel: (_prepare, "Land"),
    _reverse: (_receive, "WIRE"),
}
# field: (attempt, the event's key for it, limit in characters, several lines allowed)
TEXT_FIELDS: dict[str, tuple[Attempt, str, int, bool]] = {
    "consortium name": (_form, "name", 200, False),
    "partner name": (_admit, "name", 200, False),
    "withdrawal reason": (_withdraw, "reason", 1000, True),
    "call purpose": (_prepare, "purpose", 1000, True),
    "cancellation reason": (_cancel, "reason", 1000, True),
    "bank reference": (_receive, "bank_reference", 200, False),
    "reversal reason": (_reverse, "reason", 1000, True),
    "asset name": (_asset("name"), "name", 200, False),
    "asset location": (_asset("location"), "location", 200, False),
}
FIELDS = sorted(TEXT_FIELDS)


def _given(name: str, people: tuple[s.Actor, s.Actor], n: int) -> Callable[[str], Any]:
    """The command of ``name`` with ids numbered ``n``, what it needs recorded first."""
    attempt = TEXT_FIELDS[name][0]
    if attempt in SETUP:
        setup, value = SETUP[attempt]
        setup(*people, value, n)
    return lambda text: attempt(*people, text, n)


@pytest.fixture
def aip(issued_call, alice, bob) -> tuple[s.Actor, s.Actor]:
    return alice, bob


class Refused:
    """The block raises ``InvalidInput`` naming ``field`` (a short message, in the
    domain's words, never the ledger's); the ledger's head is unchanged."""

    def __init__(self, field: str) -> None:
        self.field = field

    def __enter__(self) -> pytest.ExceptionInfo[InvalidInput]:
        self.before = store.head()
        self.raises = pytest.raises(InvalidInput)
        self.info = self.raises.__enter__()
        return self.info

    def __exit__(self, *exc: Any) -> bool:
        handled = bool(self.raises.__exit__(*exc))
        if not handled:  # another exception: it propagates as it is
            return False
        assert self.info.value.field == self.field, (self.info.value.field, self.info.value)
        assert len(self.info.value.message) < 400, len(self.info.value.message)
        assert store.head() == self.before, "a refused command appended events"
        return handled


def _recorded(result: s.CommandResult, key: str) -> Any:
    event = store.read_all(after=result.positions[-1] - 1, limit=1)[0]
    return event.data[key]


@pytest.mark.parametrize("name", FIELDS)
def test_text_at_its_limit_is_recorded_and_one_character_more_is_refused(aip, name):
    _, key, limit, _ = TEXT_FIELDS[name]
    text = "é" * (limit - 1) + "x"
    assert _recorded(_given(name, aip, 1)(f"  {text} "), key) == text, "trimmed, at the limit"
    command = _given(name, aip, 2)
    with Refused(key) as refusal:
        command(text + "y")
    assert f"at most {limit:,}" in refusal.value.message


@pytest.mark.parametrize("name", FIELDS)
@pytest.mark.parametrize(
    ("character", "words"),
    [
        ("\x00", "NUL character (U+0000"),
        ("\ud800", "lone surrogate (U+D800"),
        ("\udfff", "lone surrogate (U+DFFF"),
        ("\x1b", "control character (U+001B"),
        ("\x07", "control character (U+0007"),
        ("\x7f", "control character (U+007F"),
        ("\x85", "control character (U+0085"),
    ],
)
def test_a_character_no_text_may_hold_is_refused_naming_the_field(aip, name, character, words):
    key = TEXT_FIELDS[name][1]
    command = _given(name, aip, 3)
    with Refused(key) as refusal:
        command(f"Wire {character} 42")
    assert words in refusal.value.message, refusal.value.message


@pytest.mark.parametrize("name", FIELDS)
@pytest.mark.parametrize("character", ["\x00", "\x1f", "\x0b"])
def test_control_characters_are_refused_where_trimming_would_have_hidden_them(aip, name, character):
    key = TEXT_FIELDS[name][1]
    command = _given(name, aip, 4)
    with Refused(key):
        command(f"Wire 42{character}")


@pytest.mark.parametrize("name", [n for n in FIELDS if not TEXT_FIELDS[n][3]])
@pytest.mark.parametrize("character", ["\n", "\r", "\t"])
def test_one_line_text_refuses_line_breaks_and_tabs(aip, name, character):
    key = TEXT_FIELDS[name][1]
    command = _given(name, aip, 5)
    with Refused(key) as refusal:
        command(f"First{character}second")
    assert "one line" in refusal.value.message


@pytest.mark.parametrize("name", [n for n in FIELDS if TEXT_FIELDS[n][3]])
def test_several_line_text_keeps_its_line_breaks_and_tabs(aip, name):
    text = "Land:\r\n\tparcel 1\n\tparcel 2"
    assert _recorded(_given(name, aip, 6)(text), TEXT_FIELDS[name][1]) == text


@pytest.mark.parametrize("name", [n for n in FIELDS if n != "withdrawal reason"])
def test_required_text_may_not_be_blank(aip, name):
    key = TEXT_FIELDS[name][1]
    command = _given(name, aip, 7)
    with Refused(key) as refusal:
        command(" \u3000 ")
    assert "blank" in refusal.value.message


def test_a_withdrawal_needs_no_reason(aip):
    assert _recorded(_given("withdrawal reason", aip, 8)("   "), "reason") == ""


# --- slugs and ids --------------------------------------------------------------------


SLUGS_AND_IDS: dict[str, tuple[Callable[..., s.CommandResult], dict[str, Any], str]] = {
    "a new consortium's slug": (
        s.consortium_form,
        {"slug": MEGABYTE, "name": "Mega", "base_currency": "USD", "formed_on": FORMED},
        "slug",
    ),
    "the consortium a command is for": (
        s.partner_admit,
        {"slug": MEGABYTE, "organisation_id": "xai", "name": "xAI", "role": "member"},
        "slug",
    ),
    "the consortium whose base currency is the default": (
        s.commitment_record,
        {
            "slug": "a\x00ip",
            "commitment_id": "c-9",
            "organisation_id": "mgx",
            "instrument": "equity",
            "amount": c.Amount("1.00"),
            "stage": "signed",
        },
        "slug",
    ),
    "an organisation id": (
        s.partner_admit,
        {"slug": "aip", "organisation_id": MEGABYTE, "name": "Mega", "role": "member"},
        "organisation_id",
    ),
    "a commitment id": (
        s.commitment_record,
        {
            "slug": "aip",
            "commitment_id": "c\x00" + MEGABYTE,
            "organisation_id": "mgx",
            "instrument": "equity",
            "amount": usd("1.00"),
            "stage": "signed",
            "effective_on": ON,
        },
        "commitment_id",
    ),
    "a sponsor": (
        s.asset_register,
        {
            "asset_id": "dc-9",
            "sponsor": MEGABYTE,
            "kind": "data_centre",
            "name": "DC",
            "location": "Texas",
            "capacity_mw": Decimal(1),
            "estimated_cost": c.Amount("1.00"),
        },
        "sponsor",
    ),
    "an asset id": (
        s.stake_acquire,
        {
            "asset_id": "dc\ud800",
            "holder": Holder.consortium("aip"),
            "percent": Decimal(1),
        },
        "asset_id",
    ),
    "a capital call looked up": (
        s.capital_call_approve,
        {"slug": "aip", "call_id": MEGABYTE + "\x00"},
        "call_id",
    ),
    "a lender": (
        s.facility_arrange,
        {
            "slug": "aip",
            "facility_id": "f-9",
            "lender": MEGABYTE,
            "amount": usd("1.00"),
            "maturity_on": dt.date(2030, 1, 1),
            "revolving": False,
            "effective_on": ON,
        },
        "lender",
    ),
    "an FX rate's currency": (
        s.fx_rate_record,
        {"slug": "aip", "currency": MEGABYTE, "rate": Decimal("1.1"), "effective_on": ON},
        "currency",
    ),
}


@pytest.mark.parametrize("name", sorted(SLUGS_AND_IDS))
def test_a_slug_or_id_no_stream_could_hold_is_refused_by_the_domain_naming_it(aip, name):
    call, given, field = SLUGS_AND_IDS[name]
    before = store.head()
    with pytest.raises(DomainError) as refusal:
        call(actor=aip[0], **given)
    assert refusal.value.field == field, refusal.value
    assert len(refusal.value.message) < 400, "the message quotes the input cut short"
    assert store.head() == before


def test_a_person_whose_name_holds_a_control_character_cannot_command(aip):
    eve = s.Actor(get_user_model().objects.create_user("eve\x1b[2J"))
    with Refused("actor"):
        _prepare(eve, eve, "Land", 9)
