"""The direct (generated) decoders answer exactly as the general ones, on any input."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consortium.domain import codec
from consortium.domain.events import EVENT_TYPES, Event, event_to_stored
from tests.consortium.domain.test_events import events_of

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=12)
    | st.sampled_from(["USD", "EUR", "JPY", "1.00", "1", "-0.00", "NaN", "Infinity", "2024-02-30"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def outcome(cls: type[Event], data: Any) -> Any:
    try:
        return ("decoded", codec.decode_fields(cls, data))
    except Exception as error:  # the comparison is of whatever happens
        return ("refused", type(error), str(error))


def both(cls: type[Event], data: Any) -> tuple[Any, Any]:
    """Decode with the direct decoders, and with the general ones alone."""
    try:
        codec.use_direct_decoders(True)
        direct = outcome(cls, data)
        codec.use_direct_decoders(False)
        general = outcome(cls, data)
    finally:
        codec.use_direct_decoders(True)
    return direct, general


def mutate(stored: Any, draw: Callable[..., Any]) -> Any:
    """Replace, drop or add one value somewhere in ``stored`` (a JSON document)."""
    if isinstance(stored, dict) and stored:
        key = draw(st.sampled_from(sorted(stored)))
        action = draw(st.sampled_from(["replace", "drop", "add", "descend"]))
        changed = dict(stored)
        if action == "replace":
            changed[key] = draw(json_values)
        elif action == "drop":
            del changed[key]
        elif action == "add":
            changed[draw(st.text(max_size=8))] = draw(json_values)
        else:
            changed[key] = mutate(stored[key], draw)
        return changed
    if isinstance(stored, list) and stored:
        index = draw(st.integers(0, len(stored) - 1))
        return [mutate(v, draw) if i == index else v for i, v in enumerate(stored)]
    return draw(json_values)


@pytest.mark.parametrize("cls", list(EVENT_TYPES.values()), ids=list(EVENT_TYPES))
@settings(deadline=None, max_examples=60)
@given(data=st.data())
def test_direct_decoders_answer_as_the_general_ones(cls: type[Event], data: st.DataObject) -> None:
    _, stored = event_to_stored(data.draw(events_of(cls)))
    stored = json.loads(json.dumps(stored))
    direct, general = both(cls, stored)
    assert direct == general
    assert direct[0] == "decoded"
    for _ in range(3):
        changed = mutate(stored, data.draw)
        direct, general = both(cls, changed)
        assert direct == general


def test_the_switch_is_the_speed_mechanism() -> None:
    from ledger import speed

    assert "direct-decoders" in speed.MECHANISMS
    assert codec._DIRECT[0] is speed.enabled("direct-decoders")
