"""Commands through the services, one scenario per rule of shared/DOMAIN.md: each tries to
break the rule, and asserts the refusal, its words, and that nothing was appended."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consortium import services as s
from consortium.domain import commands as c
from consortium.domain import errors
from consortium.domain.decisions import decide
from consortium.domain.events import event_to_stored
from consortium.domain.money import Money, Percent
from consortium.domain.state import fold_consortium
from consortium.domain.values import Holder
from consortium.streams import consortium_history, load_asset, load_consortium
from ledger import states, store
from ledger.store import IdempotencyConflict, NewEvent, head, read_stream
from ledger.testing.bypass import purge_ledger
from tests.consortium.conftest import FORMED, usd

pytestmark = pytest.mark.django_db


class RefusedAndNothingAppended:
    """Context manager: the block raises ``error`` matching ``words``; the ledger is unchanged."""

    def __init__(self, error: type[Exception], words: str) -> None:
        self.error, self.words = error, words

    def __enter__(self) -> None:
        self.before = head()
        self.raises = pytest.raises(self.error, match=self.words or None)
        self.raises.__enter__()

    def __exit__(self, *exc: object) -> bool:
        handled = self.raises.__exit__(*exc)  # type: ignore[arg-type]
        assert head() == self.before, "a refused command appended events"
        return bool(handled)


refused = RefusedAndNothingAppended


def test_rule_1_a_mistake_is_corrected_by_a_new_event_never_by_changing_one(issued_call, bob):
    s.contribution_receive(
        actor=bob,
        slug="aip",
        contribution_id="c-1",
        call_id=issued_call,
        organisation_id="mgx",
        amount=usd("300.00"),
        bank_reference="WIRE-1",
        received_on=dt.date(2025, 2, 10),
    )
    before = [e.hash for e in read_stream("consortium-aip")]

    s.contribution_reverse(
        actor=bob,
        slug="aip",
        contribution_id="c-1",
        reason="Returned by the bank",
        effective_on=dt.date(2025, 2, 11),
    )

    after = read_stream("consortium-aip")
    assert [e.hash for e in after[: len(before)]] == before
    assert after[-1].type == "ContributionReversed"
    assert load_consortium("aip").state.calls[issued_call].contributed.get("mgx", 0) == 0
    with refused(errors.AlreadyReversed, "already"):
        s.contribution_reverse(
            actor=bob,
            slug="aip",
            contribution_id="c-1",
            reason="again",
            effective_on=dt.date(2025, 2, 12),
        )


@pytest.mark.parametrize(
    ("amount", "error", "words"),
    [
        (lambda: usd("-5.00"), errors.InvalidAmount, "positive"),
        (lambda: usd("0.00"), errors.InvalidAmount, "positive"),
        (lambda: Money.of("1.001", "USD"), errors.InvalidAmount, "decimal"),
        (lambda: Money.of(1.5, "USD"), errors.InvalidAmount, ""),  # type: ignore[arg-type]
        (lambda: Money.of("NaN", "USD"), errors.InvalidAmount, ""),
        (lambda: Money.of("10.00", "XYZ"), errors.InvalidCurrency, "XYZ"),
    ],
)
def test_rule_2_money_is_exact_positive_and_in_a_real_currency(formed, alice, amount, error, words):
    formed()
    with refused(error, words):
        s.commitment_record(
            actor=alice,
            slug="aip",
            commitment_id="c-new",
            organisation_id="mgx",
            instrument="equity",
            amount=amount(),
            stage="signed",
            effective_on=FORMED,
        )


def test_rule_3_a_technical_advisor_cannot_commit_until_its_role_changes(formed, alice):
    formed()
    s.partner_admit(
        actor=alice,
        slug="aip",
        organisation_id="nvidia",
        name="Nvidia",
        role="technical_advisor",
        effective_on=dt.date(2025, 3, 19),
    )
    commit = {
        "actor": alice,
        "slug": "aip",
        "commitment_id": "aip-nvidia",
        "organisation_id": "nvidia",
        "instrument": "equity",
        "amount": usd("100.00"),
        "stage": "signed",
        "effective_on": dt.date(2025, 4, 1),
    }
    with refused(errors.AdvisorCannotCommit, "Nvidia.*technical advisor"):
        s.commitment_record(**commit)

    s.partner_change_role(
        actor=alice,
        slug="aip",
        organisation_id="nvidia",
        role="member",
        effective_on=dt.date(2025, 3, 30),
    )
    s.commitment_record(**commit)
    assert load_consortium("aip").state.commitments["aip-nvidia"].stage == "signed"


def test_rule_4_a_call_never_exceeds_unfunded_and_allocations_sum_exactly(formed, alice, bob):
    formed(signed={"a-org": "333.33", "b-org": "333.33", "c-org": "333.34"})
    with refused(errors.CallExceedsUnfunded, "1,000.00"):
        s.capital_call_prepare(
            actor=alice,
            slug="aip",
            call_id="too-big",
            amount=usd("1000.01"),
            due_on=dt.date(2025, 3, 1),
            purpose="x",
            effective_on=dt.date(2025, 2, 1),
        )

    s.capital_call_prepare(
        actor=alice,
        slug="aip",
        call_id="odd",
        amount=usd("100.00"),
        due_on=dt.date(2025, 3, 1),
        purpose="x",
        effective_on=dt.date(2025, 2, 1),
    )
    s.capital_call_approve(actor=bob, slug="aip", call_id="odd", effective_on=dt.date(2025, 2, 1))
    s.capital_call_issue(actor=bob, slug="aip", call_id="odd", effective_on=dt.date(2025, 2, 1))

    allocations = load_consortium("aip").state.calls["odd"].allocations
    assert sum(allocations.values()) == 10000  # minor units: exactly USD 100.00
    # 33.333/33.333/33.334 -> largest remainder in cents, ties by organisation id
    assert allocations == {"a-org": 3333, "b-org": 3333, "c-org": 3334}


def test_rule_5_a_contribution_never_exceeds_what_the_partner_owes(issued_call, bob):
    with refused(errors.ContributionExceedsOwed, "200.00"):
        s.contribution_receive(
            actor=bob,
            slug="aip",
            contribution_id="c-x",
            call_id=issued_call,
            organisation_id="microsoft",
            amount=usd("200.01"),
            bank_reference="W",
            received_on=dt.date(2025, 2, 10),
        )
    s.contribution_receive(
        actor=bob,
        slug="aip",
        contribution_id="c-1",
        call_id=issued_call,
        organisation_id="microsoft",
        amount=usd("150.00"),
        bank_reference="W1",
        received_on=dt.date(2025, 2, 10),
    )
    with refused(errors.ContributionExceedsOwed, "50.00"):
        s.contribution_receive(
            actor=bob,
            slug="aip",
            contribution_id="c-2",
            call_id=issued_call,
            organisation_id="microsoft",
            amount=usd("50.01"),
            bank_reference="W2",
            received_on=dt.date(2025, 2, 11),
        )


def test_a_contribution_cannot_precede_the_issue_of_its_call(issued_call, bob):
    with refused(errors.DateBeforeDependency, "issued"):
        s.contribution_receive(
            actor=bob,
            slug="aip",
            contribution_id="c-early",
            call_id=issued_call,
            organisation_id="mgx",
            amount=usd("1.00"),
            bank_reference="W",
            received_on=dt.date(2025, 2, 2),
        )


def test_rule_6_stakes_in_one_asset_never_exceed_100_percent(formed, alice):
    formed()
    s.asset_register(
        actor=alice,
        asset_id="dc-1",
        sponsor="aip",
        kind="data_centre",
        name="DC 1",
        location="Virginia",
        capacity_mw=Decimal("1000"),
        estimated_cost=usd("1000000.00"),
        effective_on=dt.date(2025, 2, 1),
    )
    s.stake_acquire(
        actor=alice,
        asset_id="dc-1",
        holder=Holder.consortium("aip"),
        percent=Percent.of("80"),
        effective_on=dt.date(2025, 2, 2),
    )
    with refused(errors.StakesExceed100Percent, "100"):
        s.stake_acquire(
            actor=alice,
            asset_id="dc-1",
            holder=Holder.organisation("microsoft"),
            percent=Percent.of("20.0001"),
            effective_on=dt.date(2025, 2, 3),
        )
    s.stake_acquire(
        actor=alice,
        asset_id="dc-1",
        holder=Holder.organisation("microsoft"),
        percent=Percent.of("20"),
        effective_on=dt.date(2025, 2, 3),
    )
    assert load_asset("dc-1").state.total_percent == Decimal("100")


def test_a_stake_holder_consortium_must_exist(formed, alice):
    formed()
    s.asset_register(
        actor=alice,
        asset_id="dc-1",
        sponsor="aip",
        kind="data_centre",
        name="DC 1",
        location="Virginia",
        capacity_mw=Decimal("10"),
        estimated_cost=usd("10.00"),
        effective_on=dt.date(2025, 2, 1),
    )
    with refused(errors.NotFound, "no consortium 'ghost'"):
        s.stake_acquire(
            actor=alice,
            asset_id="dc-1",
            holder=Holder.consortium("ghost"),
            percent=Percent.of("1"),
            effective_on=dt.date(2025, 2, 3),
        )


def test_rule_7_the_approver_is_a_named_person_other_than_the_preparer(formed, alice):
    formed()
    s.capital_call_prepare(
        actor=alice,
        slug="aip",
        call_id="call-1",
        amount=usd("10.00"),
        due_on=dt.date(2025, 3, 1),
        purpose="x",
        effective_on=dt.date(2025, 2, 1),
    )
    with refused(errors.SamePersonCannotApprove, "alice"):
        s.capital_call_approve(
            actor=alice, slug="aip", call_id="call-1", effective_on=dt.date(2025, 2, 2)
        )
    with refused(errors.NotAPerson, "signed-in"):
        s.capital_call_approve(actor=s.Actor(AnonymousUser()), slug="aip", call_id="call-1")
    inactive = get_user_model().objects.create_user("carol", is_active=False)
    with refused(errors.NotAPerson, "signed-in"):
        s.capital_call_approve(actor=s.Actor(inactive), slug="aip", call_id="call-1")
    system = get_user_model().objects.create_user("system")
    with refused(errors.NotAPerson, "system"):
        s.capital_call_approve(actor=s.Actor(system), slug="aip", call_id="call-1")


def test_rule_8_refusals_speak_a_deal_teams_language(formed, alice):
    formed()
    with refused(errors.NotAPartner, "not a partner"):
        s.commitment_record(
            actor=alice,
            slug="aip",
            commitment_id="c-z",
            organisation_id="zeta",
            instrument="equity",
            amount=usd("1.00"),
            stage="signed",
            effective_on=FORMED,
        )
    with refused(errors.DateBeforeFormation, "2025-01-06"):
        s.partner_admit(
            actor=alice,
            slug="aip",
            organisation_id="late",
            name="Late",
            role="member",
            effective_on=dt.date(2024, 12, 31),
        )
    with refused(errors.AlreadyExists, ""):
        s.consortium_form(
            actor=alice, slug="aip", name="Again", base_currency="USD", formed_on=FORMED
        )
    with refused(errors.DateInFuture, ""):
        s.partner_admit(
            actor=alice,
            slug="aip",
            organisation_id="soon",
            name="Soon",
            role="member",
            effective_on=dt.date.today() + dt.timedelta(days=2),
        )


def test_a_foreign_amount_needs_a_rate_in_force_and_keeps_its_historical_rate(formed, alice, bob):
    formed()
    commit = {
        "actor": alice,
        "slug": "aip",
        "organisation_id": "mgx",
        "instrument": "asset_contribution",
        "stage": "signed",
    }
    with refused(errors.MissingFxRate, "AED"):
        s.commitment_record(
            commitment_id="site-1",
            amount=Money.of("3672.50", "AED"),
            effective_on=dt.date(2025, 2, 1),
            **commit,
        )
    s.fx_rate_record(
        actor=bob,
        slug="aip",
        currency="AED",
        rate=Decimal("0.2723"),
        effective_on=dt.date(2025, 1, 10),
    )
    s.commitment_record(
        commitment_id="site-1",
        amount=Money.of("3672.50", "AED"),
        effective_on=dt.date(2025, 2, 1),
        **commit,
    )
    s.fx_rate_record(
        actor=bob,
        slug="aip",
        currency="AED",
        rate=Decimal("0.3000"),
        effective_on=dt.date(2025, 1, 20),
    )  # later-recorded, earlier in force
    state = load_consortium("aip").state
    assert state.commitments["site-1"].base_amount_minor == 100002  # 3672.50 x 0.2723, at its time


def test_a_back_dated_event_is_accepted_and_shows_as_of_its_date(formed, alice):
    formed()
    s.partner_admit(
        actor=alice,
        slug="aip",
        organisation_id="xai",
        name="xAI",
        role="member",
        effective_on=dt.date(2025, 3, 1),
    )
    # Recorded now, effective earlier than events already in the ledger:
    s.commitment_record(
        actor=alice,
        slug="aip",
        commitment_id="aip-xai",
        organisation_id="xai",
        instrument="equity",
        amount=usd("50.00"),
        stage="signed",
        effective_on=dt.date(2025, 3, 2),
    )
    s.partner_admit(
        actor=alice,
        slug="aip",
        organisation_id="oracle",
        name="Oracle",
        role="member",
        effective_on=dt.date(2025, 6, 1),
    )
    s.commitment_record(
        actor=alice,
        slug="aip",
        commitment_id="aip-xai-2",
        organisation_id="xai",
        instrument="equity",
        amount=usd("5.00"),
        stage="indicated",
        effective_on=dt.date(2025, 4, 1),
    )

    history = consortium_history("aip")
    in_march = fold_consortium(history, as_of=dt.date(2025, 3, 31))
    assert "aip-xai" in in_march.commitments and "aip-xai-2" not in in_march.commitments
    assert "oracle" not in in_march.partners
    assert "aip-xai-2" in fold_consortium(history, as_of=dt.date(2025, 4, 1)).commitments


class TestConcurrencyControls:
    def test_a_stale_if_match_version_is_refused_and_never_retried(self, formed, alice):
        formed()
        version = load_consortium("aip").version
        s.partner_admit(
            actor=alice,
            slug="aip",
            organisation_id="xai",
            name="xAI",
            role="member",
            effective_on=FORMED,
        )
        stale = s.Actor(alice.user, expected_version=version)
        with refused(s.StaleVersion, f"version {version}"):
            s.partner_admit(
                actor=stale,
                slug="aip",
                organisation_id="oracle",
                name="Oracle",
                role="member",
                effective_on=FORMED,
            )

    def test_a_current_if_match_version_succeeds(self, formed, alice):
        formed()
        version = load_consortium("aip").version
        result = s.partner_admit(
            actor=s.Actor(alice.user, expected_version=version),
            slug="aip",
            organisation_id="xai",
            name="xAI",
            role="member",
            effective_on=FORMED,
        )
        assert result.version == version + 1

    def test_a_concurrent_change_is_retried_once(self, formed, alice, monkeypatch):
        formed()
        real_append = s.append  # type: ignore[attr-defined]
        ours: list[str] = []

        def someone_else_writes_first(stream, events, **kwargs):
            ours.append(stream)
            if len(ours) == 1:  # another process's command lands just before our append
                another_process_admits("other")
            return real_append(stream, events, **kwargs)

        monkeypatch.setattr(s, "append", someone_else_writes_first)
        admit(alice, "xai")
        assert {"other", "xai"} <= set(load_consortium("aip").state.partners)
        # Refused once (nothing written), then decided again on what the refusal read back.
        assert ours == ["consortium-aip", "consortium-aip"]
        copy = states.cached_for_command("consortium-aip")
        assert copy is not None and copy.state == fold_consortium(consortium_history("aip"))

    def test_a_decision_overtaken_twice_lands_on_its_retry_under_the_stream_lock(
        self, formed, alice, monkeypatch
    ):
        formed()
        ours = overtake_our_appends(monkeypatch, alice, unless_held=True)
        before = head()
        result = admit(alice, "xai")
        # On the copy, on the ledger's state, then its retry holding the stream.
        assert ours == [False, False, True]
        assert head() == before + 3 == result.positions[-1]
        state = load_consortium("aip").state
        assert {"other-0", "other-1", "xai"} <= set(state.partners)
        copy = states.cached_for_command("consortium-aip")
        assert copy is not None and copy.state == fold_consortium(consortium_history("aip"))

    def test_two_concurrent_changes_are_reported_as_a_conflict(self, formed, alice, monkeypatch):
        formed()
        ours = overtake_our_appends(monkeypatch, alice, unless_held=False)
        before = head()
        with pytest.raises(s.ConcurrentChange, match="try again"):
            admit(alice, "xai")
        assert "xai" not in load_consortium("aip").state.partners
        # The copy's attempt, the decision on the ledger's state, and its one retry, under
        # the stream's lock: only a writer that skips the lock (this test's, on the retry's
        # own connection) overtakes that.
        assert ours == [False, False, True]
        assert head() == before + 3
        copy = states.cached_for_command("consortium-aip")
        assert copy is not None and copy.state == fold_consortium(consortium_history("aip"))


def overtake_our_appends(monkeypatch, actor, *, unless_held: bool) -> list[bool]:
    """Make another process's command (admitting ``other-N``) land just before each append
    of ours, or, with ``unless_held``, before each one that does not hold the stream.
    Returns, as they happen, whether each of our appends held the stream."""
    real_append = s.append  # type: ignore[attr-defined]
    counter = iter(range(100))
    ours: list[bool] = []
    busy: list[int] = []  # the other command's own append is not ours

    def overtaken(stream, events, **kwargs):
        if not busy:
            ours.append(kwargs.get("hold") is not None)
            if not (unless_held and ours[-1]):
                busy.append(1)
                another_process_admits(f"other-{next(counter)}")
                busy.pop()
        return real_append(stream, events, **kwargs)

    monkeypatch.setattr(s, "append", overtaken)
    return ours


def admit(actor, organisation_id):
    return s.partner_admit(
        actor=actor,
        slug="aip",
        organisation_id=organisation_id,
        name=organisation_id.title(),
        role="member",
        effective_on=FORMED,
    )


class TestTheProcessCopyOfAState:
    """Commands decide on the process's copy of a stream's state, which the append checks
    (version and hash of its last event); another process's writes are folded in."""

    def test_the_next_command_needs_no_read_and_the_copy_equals_a_fold(
        self, formed, alice, monkeypatch
    ):
        formed()
        reads: list[object] = []
        original = read_stream

        def counting(*args, **kwargs):
            reads.append(args)
            return original(*args, **kwargs)

        monkeypatch.setattr(states, "read_stream", counting)
        s.partner_admit(
            actor=alice,
            slug="aip",
            organisation_id="xai",
            name="xAI",
            role="member",
            effective_on=FORMED,
        )
        monkeypatch.undo()
        assert reads == []  # decided on the copy, checked by the append alone
        copy = states.cached_for_command("consortium-aip")
        assert copy is not None
        assert copy.version == len(consortium_history("aip"))
        assert copy.last_hash == read_stream("consortium-aip")[-1].hash
        assert copy.state == fold_consortium(consortium_history("aip"))

    def test_the_next_command_is_one_statement_on_postgresql(self, formed, alice, postgres_only):
        formed()
        with CaptureQueriesContext(connection) as queries:
            s.partner_admit(
                actor=alice,
                slug="aip",
                organisation_id="xai",
                name="xAI",
                role="member",
                effective_on=FORMED,
            )
        # The test's own transaction adds savepoints; the command itself is the append.
        statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
        assert len(statements) == 1, statements
        assert "ledger_append(" in statements[0]

    def test_another_process_write_is_folded_in_and_the_command_succeeds(self, formed, alice):
        formed()
        another_process_admits("oracle")
        stale = states.cached_for_command("consortium-aip")
        assert stale is not None and "oracle" not in stale.state.partners
        # The copy says Oracle is no partner: the rule is checked again on the ledger's
        # state, where it is, and the commitment is recorded.
        result = s.commitment_record(
            actor=alice,
            slug="aip",
            commitment_id="c-oracle-1",
            organisation_id="oracle",
            instrument="equity",
            amount=usd("100.00"),
            stage="signed",
            effective_on=FORMED,
        )
        assert result.version == len(consortium_history("aip"))
        copy = states.cached_for_command("consortium-aip")
        assert copy is not None and copy.state == fold_consortium(consortium_history("aip"))

    def test_a_copy_whose_last_event_is_not_the_ledgers_is_never_used(self, formed, alice):
        """Same version, another hash (the ledger replaced under the process, as a restore
        would): the append refuses the copy, the state is folded again, nothing is lost."""
        formed()
        copy = states.cached_for_command("consortium-aip")
        assert copy is not None
        history = read_stream("consortium-aip")
        purge_ledger()
        for event in history:  # the same events, recorded again: another chain of hashes
            new = NewEvent(event.type, event.data, effective_on=event.effective_on)
            store.append(event.stream, [new], expected_version=event.version - 1)
        assert read_stream("consortium-aip")[-1].version == copy.version
        assert read_stream("consortium-aip")[-1].hash != copy.last_hash
        before = head()
        s.partner_admit(
            actor=alice,
            slug="aip",
            organisation_id="xai",
            name="xAI",
            role="member",
            effective_on=FORMED,
        )
        assert head() == before + 1
        fresh = fold_consortium(consortium_history("aip"))
        assert {"mgx", "microsoft", "xai"} <= set(fresh.partners)
        again = states.cached_for_command("consortium-aip")
        assert again is not None and again.state == fresh
        assert again.last_hash == read_stream("consortium-aip")[-1].hash


def another_process_admits(organisation_id: str) -> None:
    """Another process's command lands: decided on the ledger's own state and appended
    as that process would, unseen by this process's copies of the states."""
    history = consortium_history("aip")
    command = c.AdmitPartner(organisation_id, organisation_id.title(), "member", FORMED)
    events = decide(fold_consortium(history), command, today=FORMED)
    new = [NewEvent(*event_to_stored(event), effective_on=FORMED) for event in events]
    store.append("consortium-aip", new, expected_version=len(history))


class TestIdempotency:
    def test_a_retried_command_returns_the_original_result(self, formed, alice):
        formed()
        keyed = s.Actor.keyed(alice.user, "finance-42")
        first = s.partner_admit(
            actor=keyed,
            slug="aip",
            organisation_id="xai",
            name="xAI",
            role="member",
            effective_on=FORMED,
        )
        before = head()
        again = s.partner_admit(
            actor=keyed,
            slug="aip",
            organisation_id="xai",
            name="xAI",
            role="member",
            effective_on=FORMED,
        )
        assert (again.positions, again.version, again.replayed) == (
            first.positions,
            first.version,
            True,
        )
        assert again.receipt is not None and again.receipt.key == "finance-42"
        assert head() == before

    def test_a_key_reused_on_another_stream_is_a_conflict(self, formed, alice):
        formed("aip")
        formed("stargate")
        keyed = s.Actor.keyed(alice.user, "k-1")
        s.partner_admit(
            actor=keyed,
            slug="aip",
            organisation_id="xai",
            name="xAI",
            role="member",
            effective_on=FORMED,
        )
        with refused(IdempotencyConflict, "k-1"):
            s.partner_admit(
                actor=keyed,
                slug="stargate",
                organisation_id="xai",
                name="xAI",
                role="member",
                effective_on=FORMED,
            )


def test_every_event_carries_actor_correlation_and_effective_date(formed, alice):
    formed()
    actor = s.Actor(alice.user, correlation_id="corr-9", source="api")
    s.partner_admit(
        actor=actor,
        slug="aip",
        organisation_id="xai",
        name="xAI",
        role="member",
        effective_on=dt.date(2025, 2, 1),
    )
    event = read_stream("consortium-aip")[-1]
    assert event.metadata == {
        "actor": "alice",
        "correlation_id": "corr-9",
        "causation_id": None,
        "source": "api",
    }
    assert event.effective_on == dt.date(2025, 2, 1)
