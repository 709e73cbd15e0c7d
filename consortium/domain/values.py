"""Small value objects carried inside events: holders, tranches and call allocations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from consortium.domain.identifiers import check_choice, check_slug
from consortium.domain.money import Money
from consortium.domain.vocabulary import HOLDER_KINDS, HolderKind


@dataclass(frozen=True, slots=True, order=True)
class Holder:
    """Who holds a stake in an asset: a consortium (by slug) or an organisation (by id)."""

    kind: HolderKind
    id: str

    def __post_init__(self) -> None:
        check_choice(self.kind, HOLDER_KINDS, field="holder", what="A holder's kind")
        check_slug(self.id, field="holder", what=f"A {self.kind} holder's id")

    @classmethod
    def consortium(cls, slug: str) -> Holder:
        return cls("consortium", slug)

    @classmethod
    def organisation(cls, organisation_id: str) -> Holder:
        return cls("organisation", organisation_id)

    def __str__(self) -> str:
        return f"{self.kind} {self.id}"


@dataclass(frozen=True, slots=True)
class Tranche:
    """Part of a target that becomes available from a date (Stargate: 100 bn now)."""

    amount: Money
    available_from: date


@dataclass(frozen=True, slots=True)
class Allocation:
    """One partner's share of a capital call, fixed when the call is issued."""

    organisation_id: str
    amount: Money


# --- sealed periods ---


@dataclass(frozen=True, slots=True)
class ClosingBalance:
    """One partner's equity figures at a period's closing date, as the seal recorded them
    (the position figures: committed is signed equity; unfunded = committed - called;
    outstanding = called - contributed)."""

    organisation_id: str
    committed: Money
    called: Money
    contributed: Money
    unfunded: Money
    outstanding: Money


# --- distributions ---


@dataclass(frozen=True, slots=True)
class DistributionShare:
    """One partner's share of a distribution, fixed when it is prepared; ``recallable`` is
    the part of ``amount`` that adds back to the partner's unfunded commitment once paid
    (zero when none; never more than ``amount``)."""

    organisation_id: str
    amount: Money
    recallable: Money
