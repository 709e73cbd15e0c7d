"""Rule 4: calls are allocated pro rata to signed equity, capped at unfunded, to the unit."""

from __future__ import annotations

from fractions import Fraction
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consortium.domain.allocation import allocate_call
from consortium.domain.errors import CallExceedsUnfunded

Book = tuple[int, dict[str, int], dict[str, int]]
ORGS = ["blackrock", "gip", "mgx", "microsoft", "nvidia", "openai", "oracle", "softbank", "xai"]


@st.composite
def books(draw: st.DrawFn, max_partners: int = 9, max_amount: int = 10**12) -> Book:
    """Signed commitments, unfunded amounts (<= signed) and a call amount <= total unfunded."""
    orgs = draw(st.lists(st.sampled_from(ORGS), min_size=1, max_size=max_partners, unique=True))
    signed = {org: draw(st.integers(0, max_amount)) for org in orgs}
    unfunded = {org: draw(st.integers(0, amount)) for org, amount in signed.items()}
    amount = draw(st.integers(0, sum(unfunded.values())))
    return amount, signed, unfunded


@given(books())
def test_allocations_sum_exactly_and_never_exceed_unfunded(book: Book) -> None:
    amount, signed, unfunded = book
    shares = allocate_call(amount, signed, unfunded)
    assert sum(shares.values()) == amount
    assert set(shares) == set(signed)
    assert all(0 <= shares[org] <= unfunded[org] for org in signed)


@given(books(), st.randoms())
def test_same_input_same_allocation_whatever_the_order(book: Book, rng) -> None:
    amount, signed, unfunded = book
    keys = list(signed)
    rng.shuffle(keys)
    shuffled_signed = {org: signed[org] for org in keys}
    shuffled_unfunded = {org: unfunded[org] for org in reversed(keys)}
    first = allocate_call(amount, signed, unfunded)
    assert allocate_call(amount, signed, unfunded) == first
    assert allocate_call(amount, shuffled_signed, shuffled_unfunded) == first


def reference_allocation(
    amount: int, signed: dict[str, int], unfunded: dict[str, int]
) -> dict[str, int]:
    """Brute force: try every set of capped partners until one is consistent."""
    orgs = sorted(signed)
    for size in range(len(orgs) + 1):
        for capped in combinations(orgs, size):
            exact = _consistent(amount, signed, unfunded, set(capped))
            if exact is not None:
                return _round(amount, exact)
    raise AssertionError("no consistent capping found")


def _consistent(
    amount: int, signed: dict[str, int], unfunded: dict[str, int], capped: set[str]
) -> dict[str, Fraction] | None:
    free = [org for org in signed if org not in capped]
    remaining = amount - sum(unfunded[org] for org in capped)
    weight = sum(signed[org] for org in free)
    if remaining < 0 or (weight == 0 and remaining > 0):
        return None
    level = Fraction(remaining, weight) if weight else Fraction(0)
    exact = {org: Fraction(unfunded[org]) for org in capped}
    exact |= {org: level * signed[org] for org in free}
    if any(exact[org] > unfunded[org] for org in free):
        return None
    if any(level * signed[org] < unfunded[org] for org in capped):
        return None
    return exact


def _round(amount: int, exact: dict[str, Fraction]) -> dict[str, int]:
    result = {org: int(share) for org, share in exact.items()}
    remainders = sorted(exact, key=lambda org: (-(exact[org] - int(exact[org])), org))
    for org in remainders[: amount - sum(result.values())]:
        result[org] += 1
    return result


@settings(max_examples=300)
@given(books(max_partners=5, max_amount=2_000))
def test_matches_a_brute_force_reference_on_small_books(book: Book) -> None:
    amount, signed, unfunded = book
    assert allocate_call(amount, signed, unfunded) == reference_allocation(amount, signed, unfunded)


def test_pro_rata_with_largest_remainder_and_ties_to_the_lower_id() -> None:
    # 100 over three equal partners: 33.33 each, the spare unit goes to the lowest id.
    signed = {"mgx": 500, "blackrock": 500, "microsoft": 500}
    assert allocate_call(100, signed, signed) == {"blackrock": 34, "mgx": 33, "microsoft": 33}


def test_a_capped_partner_passes_its_excess_to_the_others_pro_rata() -> None:
    signed = {"blackrock": 300, "microsoft": 300, "mgx": 200}
    unfunded = {"blackrock": 300, "microsoft": 300, "mgx": 20}
    # Pro rata MGX would take 100 of 400; it is capped at 20 and the 80 goes 40/40.
    assert allocate_call(400, signed, unfunded) == {"blackrock": 190, "microsoft": 190, "mgx": 20}


def test_refuses_a_call_above_total_unfunded() -> None:
    with pytest.raises(CallExceedsUnfunded, match="exceeds the total unfunded"):
        allocate_call(101, {"mgx": 100}, {"mgx": 100})


def test_refuses_malformed_books() -> None:
    with pytest.raises(ValueError, match="exceeds signed"):
        allocate_call(1, {"mgx": 1}, {"mgx": 2})
    with pytest.raises(ValueError, match="without a signed"):
        allocate_call(1, {}, {"mgx": 2})
