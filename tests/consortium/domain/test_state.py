"""Folding: deterministic, pickleable, as-of / as-known-at views, invariants that always hold."""

from __future__ import annotations

import contextlib
import pickle
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consortium.domain.commands import (
    AdvanceCommitmentStage,
    AmendCommitment,
    RecordCommitment,
    ReverseContribution,
    SetFundraisingTarget,
)
from consortium.domain.errors import DomainError, TranchesDoNotMatchTarget
from consortium.domain.events import DatedEvent, StakeAcquired
from consortium.domain.positions import partner_positions, unfunded_minor
from consortium.domain.state import (
    STATE_CODE_VERSION,
    ConsortiumState,
    fold_consortium,
)
from consortium.domain.values import Tranche


def test_folding_the_history_gives_the_live_state(aip, make) -> None:
    aip.given(*make.called("call-1", "800000000"), make.pay("p-1", "call-1", "mgx", "1"))
    assert fold_consortium(aip.history) == aip.state
    assert aip.state.version == len(aip.history)
    assert pickle.loads(pickle.dumps(aip.state)) == aip.state
    assert isinstance(STATE_CODE_VERSION, int)


def test_a_snapshot_continues_folding_where_it_stopped(aip, make) -> None:
    aip.given(*make.called("call-1", "800000000"))
    half = len(aip.history) // 2
    snapshot = pickle.loads(pickle.dumps(fold_consortium(aip.history[:half])))
    assert fold_consortium(aip.history[half:], state=snapshot) == aip.state


def test_an_as_known_at_view_hides_what_was_recorded_later(aip, make) -> None:
    aip.given(*make.called("call-1", "800000000"))
    start = datetime(2025, 4, 20, tzinfo=UTC)
    stamped = [
        DatedEvent(d.event, d.effective_on, start + timedelta(minutes=i), d.version)
        for i, d in enumerate(aip.history)
    ]
    known = fold_consortium(stamped, known_at=start + timedelta(minutes=len(stamped) - 2))
    assert known.calls["call-1"].status == "approved"
    with pytest.raises(ValueError, match="recorded_at"):
        fold_consortium(aip.history, known_at=start)


def test_as_of_a_date_the_call_was_not_yet_issued(aip, make) -> None:
    aip.given(
        make.prepare("call-1", "800000000", on=date(2025, 4, 1)),
        make.approve("call-1", on=date(2025, 4, 2)),
        make.issue("call-1", on=date(2025, 4, 3)),
    )
    assert aip.as_of(date(2025, 4, 2)).calls["call-1"].status == "approved"
    assert aip.as_of(date(2025, 4, 2)).partners["mgx"].called_minor == 0


def test_an_asset_event_does_not_fold_into_a_consortium(make) -> None:
    from consortium.domain.money import Percent
    from consortium.domain.values import Holder

    event = StakeAcquired("dc-1", Holder.consortium("aip"), Percent.of("1"))
    with pytest.raises(TypeError, match="does not belong"):
        ConsortiumState().apply(DatedEvent(event, date(2025, 1, 1)))


def test_stargate_target_with_tranches_must_add_up(empty, make) -> None:
    from consortium.domain.commands import FormConsortium

    empty.given(FormConsortium("Stargate", "stargate", "USD", date(2025, 1, 21)))
    bn = 100_000_000_000
    tranches = tuple(Tranche(make.usd(str(bn)), date(2025 + year, 1, 21)) for year in range(5))
    empty.when(
        SetFundraisingTarget("total", make.usd(str(5 * bn)), date(2025, 1, 21), None, tranches)
    )
    assert len(empty.state.targets["total"].tranches) == 5
    empty.refuses(
        SetFundraisingTarget("total", make.usd(str(6 * bn)), date(2025, 1, 21), None, tranches),
        TranchesDoNotMatchTarget,
        "add up to USD 500,000,000,000.00, but the target is USD 600,000,000,000.00",
    )


operations = st.lists(
    st.tuples(
        st.sampled_from(["call", "pay", "reverse", "amend", "unsign", "sign"]),
        st.sampled_from(["blackrock", "microsoft", "mgx"]),
        st.integers(min_value=1, max_value=4_000_000_000_00),
    ),
    max_size=25,
)


# `make` only builds commands (no state), so sharing it across examples is safe.
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=operations)
def test_unfunded_stays_between_zero_and_the_commitment_whatever_happens(make, ops) -> None:
    from consortium.domain.money import Money

    aip = make.aip()  # a fresh stream per example: fixtures are not reset between examples

    for n, (kind, org, minor) in enumerate(ops):
        amount = format(Money.from_minor(minor, "USD").amount, "f")
        with contextlib.suppress(DomainError):
            aip.given(*_operation(make, kind, n, org, amount))
        _assert_invariants(aip.state)


def _operation(make, kind: str, n: int, org: str, amount: str) -> list[object]:
    day = date(2025, 4, 1)
    if kind == "call":
        return list(make.called(f"call-{n}", amount, on=day))
    if kind == "pay":
        return [make.pay(f"p-{n}", f"call-{n - 1}", org, amount, on=day)]
    if kind == "reverse":
        return [ReverseContribution(f"p-{n - 1}", "Bank return", day)]
    if kind in ("unsign", "sign"):  # withdrawn (refused once called) or a new signed one
        if kind == "unsign":
            return [AdvanceCommitmentStage(f"c-{org}", "withdrawn", day)]
        return [RecordCommitment(f"c-{org}-{n}", org, "equity", make.usd(amount), "signed", day)]
    return [AmendCommitment(f"c-{org}", make.usd(amount), day)]


def _assert_invariants(state: ConsortiumState) -> None:
    for partner in state.partners.values():  # the running figures equal a fresh sum
        own = [state.commitments[cid] for cid in partner.commitment_ids]
        fresh = sum(c.amount_minor for c in own if c.is_signed_equity)
        assert partner.signed_equity_minor == fresh
        # every unit called is attributed to a commitment, none beyond its amount
        assert sum(c.called_minor for c in own) == partner.called_minor
        assert all(0 <= c.called_minor <= c.amount_minor for c in own if c.stage != "withdrawn")
    for position in partner_positions(state):
        equity = position.equity
        assert unfunded_minor(state, position.organisation_id) >= 0
        assert equity.unfunded <= equity.signed_equity
        assert equity.outstanding.amount >= 0
    for call in state.calls.values():
        if call.status == "issued":
            assert sum(call.allocations.values()) == call.amount_minor
        assert all(call.owed_minor(org) >= 0 for org in call.allocations)
