"""Allocates a capital call over partners: pro rata to signed equity, capped at unfunded."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from consortium.domain.errors import CallExceedsUnfunded


def allocate_call(
    amount_minor: int, signed: Mapping[str, int], unfunded: Mapping[str, int]
) -> dict[str, int]:
    """Split `amount_minor` over the partners in `signed`, in minor units.

    Each share is pro rata to signed equity, capped at the partner's unfunded amount; what a
    cap leaves is spread over the others pro rata, until no cap binds. Shares are then
    rounded by the largest-remainder rule, ties going to the lower organisation id. The
    result sums to `amount_minor` exactly, never exceeds a partner's unfunded amount, and
    has one entry (possibly 0) per partner in `signed`. Raises CallExceedsUnfunded when the
    amount is more than the total unfunded, ValueError on malformed input.
    """
    _check_inputs(amount_minor, signed, unfunded)
    total_unfunded = sum(unfunded.values())
    if amount_minor > total_unfunded:
        raise CallExceedsUnfunded(
            f"The call of {amount_minor} minor units exceeds the total unfunded equity of "
            f"{total_unfunded} minor units.",
            field="amount",
        )
    shares = _capped_shares(amount_minor, signed, unfunded)
    return _largest_remainder(amount_minor, shares)


def _check_inputs(amount: int, signed: Mapping[str, int], unfunded: Mapping[str, int]) -> None:
    if not _is_count(amount):
        raise ValueError(f"The call amount must be a non-negative integer, not {amount!r}.")
    stray = set(unfunded) - set(signed)
    if stray:
        raise ValueError(f"Unfunded amounts given without a signed commitment: {sorted(stray)}.")
    for org, commitment in signed.items():
        open_amount = unfunded.get(org, 0)
        if not (_is_count(commitment) and _is_count(open_amount)):
            raise ValueError(f"{org}: amounts must be non-negative integers.")
        if open_amount > commitment:
            raise ValueError(f"{org}: unfunded {open_amount} exceeds signed {commitment}.")


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _capped_shares(
    amount: int, signed: Mapping[str, int], unfunded: Mapping[str, int]
) -> dict[str, Fraction]:
    """Exact (unrounded) shares: min(unfunded, k x signed) with k making them sum to amount."""
    shares = {org: Fraction(0) for org in signed}
    active = sorted(org for org in signed if unfunded.get(org, 0) > 0)
    remaining = amount
    while active and remaining > 0:
        weight = sum(signed[org] for org in active)
        capped = [org for org in active if remaining * signed[org] > unfunded[org] * weight]
        if not capped:
            for org in active:
                shares[org] = Fraction(remaining * signed[org], weight)
            break
        for org in capped:
            shares[org] = Fraction(unfunded[org])
            remaining -= unfunded[org]
        active = [org for org in active if org not in capped]
    return shares


def _largest_remainder(amount: int, shares: Mapping[str, Fraction]) -> dict[str, int]:
    """Round down, then give one more unit to the largest remainders (ties: lower id)."""
    floors = {org: share.numerator // share.denominator for org, share in shares.items()}
    leftover = amount - sum(floors.values())
    by_remainder = sorted(shares, key=lambda org: (floors[org] - shares[org], org))
    for org in by_remainder[:leftover]:
        floors[org] += 1
    return floors


# --- interest and equalisation ---------------------------------------------------------


def allocate_pro_rata(amount_minor: int, weights: Mapping[str, int]) -> dict[str, int]:
    """Split ``amount_minor`` pro rata to non-negative ``weights`` (whose total is
    positive), rounded by the largest-remainder rule (ties to the lower id): the shares
    sum to ``amount_minor`` exactly. ValueError on malformed input."""
    total = sum(weights.values())
    if not _is_count(amount_minor) or total <= 0 or not all(map(_is_count, weights.values())):
        raise ValueError("Pro rata needs a non-negative amount and non-negative weights.")
    shares = {org: Fraction(amount_minor * weight, total) for org, weight in weights.items()}
    return _largest_remainder(amount_minor, shares)
