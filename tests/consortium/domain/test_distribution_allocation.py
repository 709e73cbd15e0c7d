"""Distributions are shared pro rata to the unit (largest remainder, ties to the lower id),
and a call may recall recallable capital: its cap per partner is the unfunded amount
including recallable capital not yet recalled, and never more."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consortium.domain.allocation import allocate_call, allocate_pro_rata

ORGS = ["blackrock", "mgx", "microsoft", "openai", "oracle", "softbank"]
weights = st.dictionaries(
    st.sampled_from(ORGS), st.integers(0, 10**12), min_size=1, max_size=len(ORGS)
).filter(lambda w: sum(w.values()) > 0)


@given(weights, st.integers(0, 10**13))
def test_a_distribution_sums_exactly_and_each_share_is_within_a_unit_of_pro_rata(w, amount):
    shares = allocate_pro_rata(amount, w)
    assert sum(shares.values()) == amount
    assert set(shares) == set(w)
    total = sum(w.values())
    for org, share in shares.items():
        exact = Fraction(amount * w[org], total)
        assert exact - 1 < share < exact + 1
        assert share >= 0


def test_the_largest_remainders_take_the_units_left_and_ties_go_to_the_lower_id():
    # 1.00 over 3 equal weights: 33 each, one cent left, all remainders equal -> "a".
    assert allocate_pro_rata(100, {"c": 1, "b": 1, "a": 1}) == {"a": 34, "b": 33, "c": 33}
    # The demo: 1.0 bn over 1.6 / 1.2 / 1.0 bn contributed, in cents.
    shares = allocate_pro_rata(100_000_000_000, {"microsoft": 16, "mgx": 12, "blackrock-gip": 10})
    assert shares == {
        "blackrock-gip": 26_315_789_474,
        "mgx": 31_578_947_368,
        "microsoft": 42_105_263_158,
    }


def test_nothing_to_share_on_is_refused():
    with pytest.raises(ValueError, match="sum to 0"):
        allocate_pro_rata(100, {"mgx": 0})
    with pytest.raises(ValueError, match="non-negative integer"):
        allocate_pro_rata(-1, {"mgx": 1})


@st.composite
def recall_books(draw: st.DrawFn):
    """Signed commitments, recallable capital, an unfunded amount within
    [0, signed + recallable] per partner, and a call within the total."""
    orgs = draw(st.lists(st.sampled_from(ORGS), min_size=1, max_size=6, unique=True))
    signed = {org: draw(st.integers(0, 10**9)) for org in orgs}
    recallable = {org: draw(st.integers(0, 10**8)) for org in orgs}
    unfunded = {org: draw(st.integers(0, signed[org] + recallable[org])) for org in orgs}
    amount = draw(st.integers(0, sum(unfunded.values())))
    return amount, signed, unfunded, recallable


@given(recall_books())
def test_a_call_recalling_capital_sums_exactly_and_never_exceeds_unfunded(book):
    amount, signed, unfunded, recallable = book
    shares = allocate_call(amount, signed, unfunded, recallable)
    assert sum(shares.values()) == amount
    assert all(0 <= shares[org] <= unfunded[org] for org in signed)


def test_unfunded_above_signed_plus_recallable_is_malformed():
    with pytest.raises(ValueError, match="exceeds signed 10 \\+ recallable 5"):
        allocate_call(1, {"mgx": 10}, {"mgx": 16}, {"mgx": 5})
    with pytest.raises(ValueError, match="exceeds signed 10"):
        allocate_call(1, {"mgx": 10}, {"mgx": 11})  # without recallable, as before


def test_a_partner_whose_commitment_is_all_called_is_still_called_its_recallable():
    # mgx: 600 signed, all called, 60 recallable; microsoft: 400 signed, 200 unfunded.
    assert allocate_call(260, {"mgx": 600, "microsoft": 400}, {"mgx": 60, "microsoft": 200},
                         {"mgx": 60}) == {"mgx": 60, "microsoft": 200}  # fmt: skip
