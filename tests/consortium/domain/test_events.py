"""Events round-trip exactly through JSON-safe stored data, and are never changed."""

from __future__ import annotations

import dataclasses
import json
import pickle
from datetime import date
from decimal import Decimal
from typing import Any, Literal, get_args, get_origin, get_type_hints

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consortium.domain.codec import DecodeError
from consortium.domain.events import (
    EVENT_TYPES,
    CommitmentRecorded,
    Event,
    UnknownEventType,
    event_from_stored,
    event_to_stored,
)
from consortium.domain.money import MINOR_UNITS, Money, Percent
from consortium.domain.values import Allocation, ClosingBalance, DistributionShare, Holder, Tranche

slugs = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,10}[a-z0-9]", fullmatch=True)
texts = st.text(min_size=0, max_size=30)
dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
decimals = st.decimals(
    min_value=Decimal("0.0000000001"), max_value=Decimal(10**6), places=10, allow_nan=False
)
percents = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(100), places=4).map(Percent)


@st.composite
def money(draw: st.DrawFn) -> Money:
    currency = draw(st.sampled_from(sorted(MINOR_UNITS)))
    return Money.from_minor(draw(st.integers(-(10**15) + 1, 10**15 - 1)), currency)


def strategy_for(hint: Any) -> st.SearchStrategy[Any]:
    """A strategy for one event field, by its type hint."""
    origin, args = get_origin(hint), get_args(hint)
    if origin is Literal:
        return st.sampled_from(args)
    if origin is tuple:
        return st.lists(strategy_for(args[0]), max_size=3).map(tuple)
    if type(None) in args:
        (inner,) = [arg for arg in args if arg is not type(None)]
        return st.none() | strategy_for(inner)
    plain: dict[Any, st.SearchStrategy[Any]] = {
        str: texts,
        bool: st.booleans(),
        date: dates,
        Decimal: decimals,
        Money: money(),
        Percent: percents,
        Holder: st.builds(Holder, st.sampled_from(["consortium", "organisation"]), slugs),
        Tranche: st.builds(Tranche, money(), dates),
        Allocation: st.builds(Allocation, slugs, money()),
        # sealed periods: ledger positions, and the balances a seal records
        int: st.integers(0, 2**53),
        ClosingBalance: st.builds(
            ClosingBalance, slugs, money(), money(), money(), money(), money()
        ),
        DistributionShare: st.builds(DistributionShare, slugs, money(), money()),
    }
    return plain[hint]


def events_of(cls: type[Event]) -> st.SearchStrategy[Event]:
    hints = get_type_hints(cls)
    fields = {f.name: strategy_for(hints[f.name]) for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return st.builds(cls, **fields)


def _no_floats(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_no_floats(v) for v in value.values())
    if isinstance(value, list):
        return all(_no_floats(v) for v in value)
    return not isinstance(value, float)


@pytest.mark.parametrize("cls", list(EVENT_TYPES.values()), ids=list(EVENT_TYPES))
@given(data=st.data())
def test_every_event_round_trips_through_stored_data(cls: type[Event], data: st.DataObject) -> None:
    event = data.draw(events_of(cls))
    type_, stored = event_to_stored(event)
    assert type_ == cls.TYPE
    restored = event_from_stored(type_, json.loads(json.dumps(stored)))
    assert restored == event
    assert restored.to_data() == stored
    assert _no_floats(stored)
    assert pickle.loads(pickle.dumps(event)) == event


def test_stored_data_reads_like_a_ledger_row() -> None:
    event = CommitmentRecorded(
        "c-mgx",
        "mgx",
        "equity",
        Money.of("2000000000", "USD"),
        "signed",
        Money.of(2 * 10**9, "USD"),
    )
    assert event.to_data() == {
        "commitment_id": "c-mgx",
        "organisation_id": "mgx",
        "instrument": "equity",
        "amount": {"amount": "2000000000.00", "currency": "USD"},
        "stage": "signed",
        "base_amount": {"amount": "2000000000.00", "currency": "USD"},
        "fx_rate": None,
    }


def test_type_names_are_stable_and_unique() -> None:
    assert all(name == cls.TYPE == cls.__name__ for name, cls in EVENT_TYPES.items())
    assert (
        len(EVENT_TYPES) == 22 + 3 + 6 + 4
    )  # + sealed periods, interest and equalisation, distributions


def test_events_are_never_changed() -> None:
    """Rule 1: events are frozen facts; corrections are new events."""
    event = CommitmentRecorded(
        "c-1", "mgx", "equity", Money.of(1, "USD"), "signed", Money.of(1, "USD")
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.stage = "withdrawn"  # type: ignore[misc]


def test_unknown_types_and_bad_data_are_refused() -> None:
    with pytest.raises(UnknownEventType):
        event_from_stored("CommitmentSigned", {})
    good = CommitmentRecorded(
        "c-1", "mgx", "equity", Money.of(1, "USD"), "signed", Money.of(1, "USD")
    ).to_data()
    with pytest.raises(DecodeError, match="no field"):
        CommitmentRecorded.from_data({**good, "extra": 1})
    with pytest.raises(DecodeError, match="not one of"):
        CommitmentRecorded.from_data({**good, "stage": "hard"})
    with pytest.raises(DecodeError, match="expected str"):
        CommitmentRecorded.from_data({**good, "fx_rate": 1.1})
    missing = {k: v for k, v in good.items() if k != "amount"}
    with pytest.raises(DecodeError, match="lacks the field amount"):
        CommitmentRecorded.from_data(missing)
    optional_missing = {k: v for k, v in good.items() if k != "fx_rate"}
    assert CommitmentRecorded.from_data(optional_missing).fx_rate is None
