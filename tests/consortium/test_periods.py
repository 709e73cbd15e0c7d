"""Sealed periods through the services: a close seals the head and the balances; nothing
takes effect inside a closed period (consortium commands and stakes of the consortium);
reopening takes two people; every seal is checked by ``verify_ledger``."""

import datetime as dt
import json
from decimal import Decimal
from io import StringIO
from typing import TypeVar

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from consortium import services as s
from consortium.domain.errors import (
    AlreadyExists,
    InvalidDate,
    InvalidTransition,
    PeriodIsClosed,
    SamePersonCannotApprove,
)
from consortium.domain.events import (
    CommitmentAmended,
    ContributionReversed,
    Event,
    PeriodClosed,
    PeriodReopened,
    event_from_stored,
)
from consortium.domain.money import Percent
from consortium.domain.values import Holder
from consortium.periods import check_seals
from consortium.streams import load_consortium
from ledger import canonical
from ledger.store import NewEvent, RecordedEvent, append, hash_at, head, read_stream
from ledger.testing.bypass import immutability_bypassed
from ledger.verification import stored_bytes, verify
from tests.consortium.conftest import usd

pytestmark = pytest.mark.django_db

E = TypeVar("E", bound=Event)


def only(result: s.CommandResult, kind: type[E]) -> E:
    """The one event a command recorded, as its type."""
    (event,) = result.events
    assert isinstance(event, kind)
    return event


Q1_END = dt.date(2025, 3, 31)


@pytest.fixture
def paid_then_closed(issued_call, bob):
    """The issued call (mgx 300 / microsoft 200 due): mgx paid 300 on 10 March; Q1 closed
    by bob on 5 April."""
    s.contribution_receive(
        actor=bob,
        slug="aip",
        contribution_id="mgx-1",
        call_id="call-1",
        organisation_id="mgx",
        amount=usd("300.00"),
        bank_reference="REF-1",
        received_on=dt.date(2025, 3, 10),
    )
    return s.period_close(
        actor=bob, slug="aip", closing_date=Q1_END, effective_on=dt.date(2025, 4, 5)
    )


def _events(slug: str = "aip") -> list[RecordedEvent]:
    return read_stream(f"consortium-{slug}")


def verify_output() -> str:
    out = StringIO()
    call_command("verify_ledger", stdout=out)
    return out.getvalue()


# --- closing -------------------------------------------------------------------------------


def test_a_close_records_the_head_it_saw_and_each_partners_balances(paid_then_closed):
    result = paid_then_closed
    (event,) = result.events
    assert isinstance(event, PeriodClosed)
    assert event.closing_date == Q1_END and event.closed_by == "bob"
    # The head the decision saw: the event just before the seal, with its chain hash.
    assert event.position == result.positions[0] - 1
    assert event.chain_hash == hash_at(event.position)
    balances = {b.organisation_id: b for b in event.balances}
    assert balances["mgx"].committed == usd("600.00")
    assert balances["mgx"].called == usd("300.00")
    assert balances["mgx"].contributed == usd("300.00")
    assert balances["mgx"].unfunded == usd("300.00")
    assert balances["mgx"].outstanding == usd("0.00")
    assert balances["microsoft"].outstanding == usd("200.00")
    stored = _events()[-1]
    assert stored.type == "PeriodClosed" and stored.effective_on == dt.date(2025, 4, 5)
    assert event_from_stored(stored.type, stored.data) == event


def test_balances_are_as_of_the_closing_date_not_the_day_of_the_close(issued_call, bob):
    # Paid on 2 April, after the closing date but before the close: not in Q1's balances.
    s.contribution_receive(
        actor=bob,
        slug="aip",
        contribution_id="mgx-1",
        call_id="call-1",
        organisation_id="mgx",
        amount=usd("300.00"),
        bank_reference="REF-1",
        received_on=dt.date(2025, 4, 2),
    )
    result = s.period_close(
        actor=bob, slug="aip", closing_date=Q1_END, effective_on=dt.date(2025, 4, 5)
    )
    balances = {b.organisation_id: b for b in only(result, PeriodClosed).balances}
    assert balances["mgx"].contributed == usd("0.00")
    assert balances["mgx"].outstanding == usd("300.00")


def test_an_empty_close_is_fine_and_closing_dates_move_forward(formed, bob):
    formed()
    s.period_close(actor=bob, slug="aip", closing_date=dt.date(2025, 1, 31))
    for earlier_or_same in (dt.date(2025, 1, 31), dt.date(2025, 1, 20)):
        with pytest.raises(InvalidDate, match="already closed up to 31 January 2025"):
            s.period_close(actor=bob, slug="aip", closing_date=earlier_or_same)
    s.period_close(actor=bob, slug="aip", closing_date=dt.date(2025, 2, 28))
    seal = load_consortium("aip").state.latest_seal
    assert seal is not None and seal.closing_date == dt.date(2025, 2, 28)


def test_a_keyed_close_retried_after_more_events_replays_its_first_result(paid_then_closed, bob):
    keyed = s.Actor.keyed(bob.user, "close-april")
    first = s.period_close(actor=keyed, slug="aip", closing_date=dt.date(2025, 4, 30))
    s.fx_rate_record(actor=bob, slug="aip", currency="EUR", rate=Decimal("1.1"))
    before = head()
    again = s.period_close(actor=keyed, slug="aip", closing_date=dt.date(2025, 4, 30))
    assert again.replayed and again.positions == first.positions and head() == before


def test_a_period_cannot_close_before_it_ends(formed, bob):
    formed()
    before = len(_events())
    with pytest.raises(InvalidDate, match="closes once it has ended"):
        s.period_close(
            actor=bob,
            slug="aip",
            closing_date=dt.date(2025, 3, 31),
            effective_on=dt.date(2025, 3, 30),
        )
    assert len(_events()) == before


# --- the refusal ---------------------------------------------------------------------------


def test_a_back_dated_contribution_into_a_closed_period_is_refused_and_nothing_appended(
    paid_then_closed, bob
):
    seal = paid_then_closed.events[0]
    before = head()
    with pytest.raises(PeriodIsClosed) as refused:
        s.contribution_receive(
            actor=bob,
            slug="aip",
            contribution_id="ms-1",
            call_id="call-1",
            organisation_id="microsoft",
            amount=usd("200.00"),
            bank_reference="REF-2",
            received_on=dt.date(2025, 3, 31),
        )
    assert str(refused.value) == (
        f"AIP's books are closed up to 31 March 2025 (sealed at position {seal.position}); "
        "record the correction in the next open period, dated 1 April 2025 or later."
    )
    assert refused.value.field == "effective_on"
    assert head() == before
    # The next open period takes it.
    s.contribution_receive(
        actor=bob,
        slug="aip",
        contribution_id="ms-1",
        call_id="call-1",
        organisation_id="microsoft",
        amount=usd("200.00"),
        bank_reference="REF-2",
        received_on=dt.date(2025, 4, 1),
    )


def test_every_consortium_command_is_refused_inside_a_closed_period(paid_then_closed, alice):
    with pytest.raises(PeriodIsClosed):
        s.partner_admit(
            actor=alice,
            slug="aip",
            organisation_id="openai",
            name="OpenAI",
            role="member",
            effective_on=dt.date(2025, 2, 1),
        )
    with pytest.raises(PeriodIsClosed):
        s.fx_rate_record(
            actor=alice,
            slug="aip",
            currency="EUR",
            rate=Decimal("1.1"),
            effective_on=dt.date(2025, 1, 10),
        )


def test_a_correction_goes_in_the_next_period_and_names_the_position_it_corrects(
    paid_then_closed, bob
):
    received = next(e for e in _events() if e.type == "ContributionReceived")
    result = s.contribution_reverse(
        actor=bob,
        slug="aip",
        contribution_id="mgx-1",
        reason="Bank returned the payment",
        effective_on=dt.date(2025, 4, 7),
        corrects_position=received.position,
    )
    assert only(result, ContributionReversed).corrects_position == received.position
    assert _events()[-1].data["corrects_position"] == received.position
    amended = s.commitment_amend(
        actor=bob,
        slug="aip",
        commitment_id="aip-mgx",
        amount=usd("700.00"),
        effective_on=dt.date(2025, 4, 8),
        corrects_position=received.position,
    )
    assert only(amended, CommitmentAmended).corrects_position == received.position


def test_a_stake_of_the_consortium_inside_its_closed_period_is_refused(paid_then_closed, alice):
    s.asset_register(
        actor=alice,
        asset_id="dc-1",
        sponsor="aip",
        kind="data_centre",
        name="Abilene",
        location="Texas",
        capacity_mw=Decimal("100"),
        estimated_cost=usd("1000.00"),
        effective_on=dt.date(2025, 2, 1),
    )
    aip = Holder.consortium("aip")
    before = head()
    with pytest.raises(PeriodIsClosed, match="AIP's books are closed up to 31 March 2025"):
        s.stake_acquire(
            actor=alice,
            asset_id="dc-1",
            holder=aip,
            percent=Percent.of("40"),
            effective_on=dt.date(2025, 3, 1),
        )
    assert head() == before
    # An organisation's stake is not the consortium's: its dates are its own.
    s.stake_acquire(
        actor=alice,
        asset_id="dc-1",
        holder=Holder.organisation("mgx"),
        percent=Percent.of("10"),
        effective_on=dt.date(2025, 3, 1),
    )
    s.stake_acquire(
        actor=alice,
        asset_id="dc-1",
        holder=aip,
        percent=Percent.of("40"),
        effective_on=dt.date(2025, 4, 1),
    )
    with pytest.raises(PeriodIsClosed):
        s.stake_transfer(
            actor=alice,
            asset_id="dc-1",
            from_holder=Holder.organisation("mgx"),
            to_holder=aip,
            percent=Percent.of("5"),
            effective_on=dt.date(2025, 3, 15),
        )


# --- reopening -----------------------------------------------------------------------------


def test_reopening_takes_two_people_and_undoes_the_latest_close(paid_then_closed, alice, bob):
    with pytest.raises(InvalidTransition, match="Nobody has proposed"):
        s.period_approve_reopening(actor=bob, slug="aip", effective_on=dt.date(2025, 4, 9))
    s.period_propose_reopening(
        actor=bob, slug="aip", reason="Late bank statement", effective_on=dt.date(2025, 4, 9)
    )
    with pytest.raises(AlreadyExists, match="already proposed"):
        s.period_propose_reopening(
            actor=alice, slug="aip", reason="Again", effective_on=dt.date(2025, 4, 9)
        )
    before = head()
    with pytest.raises(SamePersonCannotApprove, match="a second person must approve"):
        s.period_approve_reopening(actor=bob, slug="aip", effective_on=dt.date(2025, 4, 9))
    assert head() == before
    assert load_consortium("aip").state.latest_seal is not None
    result = s.period_approve_reopening(actor=alice, slug="aip", effective_on=dt.date(2025, 4, 9))
    reopened = only(result, PeriodReopened)
    assert reopened.approved_by == "alice" and reopened.proposed_by == "bob"
    assert load_consortium("aip").state.latest_seal is None
    # The seal stays in the ledger; the period takes back-dated events again.
    assert [e.type for e in _events()[-3:]] == [
        "PeriodClosed",
        "PeriodReopenProposed",
        "PeriodReopened",
    ]
    s.contribution_receive(
        actor=bob,
        slug="aip",
        contribution_id="ms-1",
        call_id="call-1",
        organisation_id="microsoft",
        amount=usd("200.00"),
        bank_reference="REF-2",
        received_on=dt.date(2025, 3, 31),
    )


def test_reopening_undoes_only_the_latest_close(formed, alice, bob):
    formed()
    s.period_close(actor=bob, slug="aip", closing_date=dt.date(2025, 1, 31))
    s.period_close(actor=bob, slug="aip", closing_date=dt.date(2025, 2, 28))
    s.period_propose_reopening(actor=bob, slug="aip", reason="Q adjustments")
    s.period_approve_reopening(actor=alice, slug="aip")
    seal = load_consortium("aip").state.latest_seal
    assert seal is not None and seal.closing_date == dt.date(2025, 1, 31)
    with pytest.raises(PeriodIsClosed, match="closed up to 31 January 2025"):
        s.partner_withdraw(
            actor=alice, slug="aip", organisation_id="mgx", effective_on=dt.date(2025, 1, 20)
        )


def test_reopening_needs_a_closed_period(formed, bob):
    formed()
    with pytest.raises(InvalidTransition, match="no closed period"):
        s.period_propose_reopening(actor=bob, slug="aip", reason="Nothing to reopen")


# --- verification --------------------------------------------------------------------------


def test_verify_ledger_checks_and_prints_every_seal_of_an_honest_ledger(paid_then_closed, bob):
    s.period_close(actor=bob, slug="aip", closing_date=dt.date(2025, 4, 30))
    output = verify_output()
    assert "consortium-seals: 2 checked" in output
    assert "seal of aip at position" in output and "closed up to 31 March 2025" in output
    assert output.count(": matches") == 2
    assert verify().ok


def test_a_forged_seal_whose_balances_do_not_recompute_fails_verification(paid_then_closed):
    honest = _events()[-1]
    forged = dict(honest.data)
    forged["balances"] = [dict(b) for b in honest.data["balances"]]
    forged["balances"][0]["contributed"] = {"amount": "0.00", "currency": "USD"}
    # Appended past the domain (straight into the ledger): the chain is intact.
    append(
        "consortium-aip",
        [NewEvent("PeriodClosed", forged, effective_on=dt.date(2025, 4, 6))],
        expected_version=None,
    )
    report = verify()
    assert report.chain_ok and not report.ok
    (finding,) = [f for f in check_seals() if f.problems]
    assert "mgx's balances recompute to" in finding.problems[0]
    with pytest.raises(CommandError, match="consortium-seals found: seal of aip"):
        verify_output()


def _rechain_from(position: int) -> None:
    """Recompute every hash from ``position`` on and the head row: what someone able to
    write the tables does to hide a change from the chain check."""
    from ledger.store import iter_stored

    with immutability_bypassed(), connection.cursor() as cursor:
        prev = hash_at(position - 1) or ""
        for event in iter_stored(after=position - 1):
            digest = canonical.chain_hash(prev, stored_bytes(event))
            cursor.execute(
                "UPDATE ledger_event SET prev_hash = %s, hash = %s WHERE position = %s",
                [prev, digest, event.position],
            )
            prev = digest
        cursor.execute("UPDATE ledger_head SET hash = %s", [prev])


def test_a_rewritten_sealed_period_with_a_recomputed_chain_is_caught_by_the_seal(
    paid_then_closed,
):
    received = next(e for e in _events() if e.type == "ContributionReceived")
    data = dict(received.data, amount={"amount": "250.00", "currency": "USD"})
    with immutability_bypassed(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_event SET data = %s WHERE position = %s",
            [json.dumps(data), received.position],
        )
    _rechain_from(received.position)
    report = verify()
    assert report.chain_ok  # the chain alone no longer sees it
    problems = [p.text for _, p in report.hook_problems]
    assert len(problems) == 1
    assert "the chain hash at position" in problems[0]
    assert "recompute to committed 600.00, called 300.00, contributed 250.00" in problems[0]


# --- reports -------------------------------------------------------------------------------


def test_statements_and_progress_of_a_closed_period_print_the_seal(paid_then_closed, bob):
    from consortium.reports import builders
    from consortium.reports.document import Anchor
    from ledger.store import head_state

    seal = only(paid_then_closed, PeriodClosed)
    anchor = Anchor(*head_state())
    [statement] = builders.build_statements(
        "aip", ["mgx"], dt.date(2025, 1, 1), Q1_END, anchor, Q1_END
    )
    words = (
        f"Closed period: AIP's books are sealed up to 2025-03-31 (closed by bob on 2025-04-05), "
        f"at ledger position {seal.position} (chain hash {seal.chain_hash})"
    )
    assert any(note.startswith(words) for note in statement.notes), statement.notes
    progress = builders.build_progress("aip", anchor, dt.date(2025, 2, 28))
    assert any(note.startswith(words) for note in progress.notes)
    # A period still open prints no seal.
    [open_] = builders.build_statements(
        "aip", ["mgx"], dt.date(2025, 4, 1), dt.date(2025, 4, 30), anchor, dt.date(2025, 4, 30)
    )
    assert not any("Closed period" in note for note in open_.notes)


def test_a_correction_names_an_event_of_its_own_consortium(paid_then_closed, alice, bob):
    from consortium.domain.errors import InvalidInput, NotFound

    s.asset_register(
        actor=alice,
        asset_id="dc-1",
        sponsor="aip",
        kind="data_centre",
        name="Abilene",
        location="Texas",
        capacity_mw=Decimal("100"),
        estimated_cost=usd("1000.00"),
        effective_on=dt.date(2025, 4, 6),
    )
    before = head()
    for elsewhere in (before, before + 100):  # the asset's event; beyond the head
        with pytest.raises(NotFound, match=f"Position {elsewhere} is not an event of aip's"):
            s.contribution_reverse(
                actor=bob,
                slug="aip",
                contribution_id="mgx-1",
                reason="Bank error",
                corrects_position=elsewhere,
            )
    with pytest.raises(InvalidInput, match="at least 1"):
        s.commitment_amend(
            actor=bob, slug="aip", commitment_id="aip-mgx", amount=usd("700"), corrects_position=0
        )
    assert head() == before
