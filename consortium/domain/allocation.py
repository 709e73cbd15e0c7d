"""Allocates a capital call over partners: pro rata to signed equity, capped at unfunded."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from consortium.domain.errors import CallExceedsUnfunded


def allocate_call(
    amount_minor: int,
    signed: Mapping[str, int],
    unfunded: Mapping[str, int],
    recallable: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """Split `amount_minor` over the partners in `signed`, in minor units.

    Each share is pro rata to signed equity, capped at the partner's unfunded amount; what a
    cap leaves is spread over the others pro rata, until no cap binds. Shares are then
    rounded by the largest-remainder rule, ties going to the lower organisation id. The
    result sums to `amount_minor` exactly, never exceeds a partner's unfunded amount, and
    has one entry (possibly 0) per partner in `signed`. Raises CallExceedsUnfunded when the
    amount is more than the total unfunded, ValueError on malformed input.

    ``recallable``: recallable capital not yet recalled, by partner; a partner's unfunded
    amount (its cap) may exceed its signed commitment by that much, never more.
    """
    _check_inputs(amount_minor, signed, unfunded, recallable or {})
    total_unfunded = sum(unfunded.values())
    if amount_minor > total_unfunded:
        raise CallExceedsUnfunded(
            f"The call of {amount_minor} minor units exceeds the total unfunded equity of "
            f"{total_unfunded} minor units.",
            field="amount",
        )
    shares = _capped_shares(amount_minor, signed, unfunded)
    return _largest_remainder(amount_minor, shares)


def _check_inputs(
    amount: int,
    signed: Mapping[str, int],
    unfunded: Mapping[str, int],
    recallable: Mapping[str, int],
) -> None:
    if not _is_count(amount):
        raise ValueError(f"The call amount must be a non-negative integer, not {amount!r}.")
    stray = set(unfunded) - set(signed)
    if stray:
        raise ValueError(f"Unfunded amounts given without a signed commitment: {sorted(stray)}.")
    for org, commitment in signed.items():
        open_amount = unfunded.get(org, 0)
        if not (_is_count(commitment) and _is_count(open_amount)):
            raise ValueError(f"{org}: amounts must be non-negative integers.")
        extra = recallable.get(org, 0)
        if not _is_count(extra):
            raise ValueError(f"{org}: amounts must be non-negative integers.")
        if open_amount > commitment + extra:
            raise ValueError(
                f"{org}: unfunded {open_amount} exceeds signed {commitment} + recallable {extra}."
            )


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
        weights = signed
        if sum(signed[org] for org in active) == 0:  # only recallable capital is left
            weights = unfunded
        weight = sum(weights[org] for org in active)
        capped = [org for org in active if remaining * weights[org] > unfunded[org] * weight]
        if not capped:
            for org in active:
                shares[org] = Fraction(remaining * weights[org], weight)
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


# --- distributions, and equalisation interest passed to the earlier partners ---


def allocate_pro_rata(amount_minor: int, weights: Mapping[str, int]) -> dict[str, int]:
    """Split `amount_minor` over `weights` (contributed capital or commitments), pro rata,
    rounded by the largest-remainder rule with ties to the lower organisation id.

    The result sums to `amount_minor` exactly and has one entry (possibly 0) per key of
    `weights`. ValueError on a negative amount or weight, or weights summing to 0.
    """
    if not _is_count(amount_minor):
        raise ValueError(f"The amount must be a non-negative integer, not {amount_minor!r}.")
    for org, weight in weights.items():
        if not _is_count(weight):
            raise ValueError(f"{org}: weights must be non-negative integers.")
    total = sum(weights.values())
    if total == 0:
        raise ValueError("There is nothing to allocate pro rata to: the weights sum to 0.")
    shares = {org: Fraction(amount_minor * w, total) for org, w in weights.items()}
    return _largest_remainder(amount_minor, shares)
