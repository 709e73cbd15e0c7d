"""Sealed periods: the figures a close seals, and the check that every seal still matches.

A close (``services.period_close``) records, in its ``PeriodClosed`` event, the head the
decision saw (the ledger position and chain hash of the consortium stream's last event
when the close was decided: every event of the stream up to it, and through the chain
every event of the ledger up to it) and each partner's closing balances: the position
figures (``projections.figures.position_rows``, as the positions read model computes
them) of the consortium's stream up to that position, as of the closing date.

``check_seals`` recomputes both for every ``PeriodClosed`` in the ledger: the chain hash
at the recorded position, and the balances from the ledger up to it. It is registered as
the ``consortium-seals`` verification hook (``ledger.verification``), so ``verify()``
and ``manage.py verify_ledger`` run it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from consortium.domain.commands import SealBasis
from consortium.domain.events import (
    CONSORTIUM_STREAM_PREFIX,
    DatedEvent,
    PeriodClosed,
    consortium_stream_id,
    event_from_stored,
)
from consortium.domain.money import Money
from consortium.domain.rules import spoken_date
from consortium.domain.state import ConsortiumState, fold_consortium
from consortium.domain.values import ClosingBalance
from consortium.projections.figures import position_rows
from consortium.streams import to_dated
from ledger.store import RecordedEvent, hash_at, iter_stored, read_stream
from ledger.verification import Problem, register_hook


def closing_balances(
    events: Iterable[DatedEvent], closing_date: dt.date
) -> tuple[ClosingBalance, ...]:
    """Each partner's balances as of ``closing_date`` from ``events`` (a stream's, in ledger
    order), by organisation id: the position figures of the as-of fold."""
    state = fold_consortium(events, as_of=closing_date)
    if state.slug is None:
        return ()

    def money(minor: int) -> Money:
        return Money.from_minor(minor, state.base_currency)

    return tuple(
        ClosingBalance(
            row.organisation_id,
            committed=money(row.equity_signed_minor),
            called=money(row.called_minor),
            contributed=money(row.contributed_minor),
            unfunded=money(row.unfunded_minor),
            outstanding=money(row.outstanding_minor),
        )
        for row in position_rows(state)
    )


def seal_basis(slug: str, state: ConsortiumState, closing_date: dt.date) -> SealBasis:
    """What a close of ``slug`` decided on ``state`` seals: the consortium's head the
    decision saw (the ledger position and chain hash of the stream's event at
    ``state.version``) and the balances from the stream up to it, as of the closing date.

    A function of the state's version alone (the ledger is append-only), so a decision
    taken again, or a retry's fingerprint, finds the same seal. A stream shorter than the
    state (it cannot be) gives a basis whose version the decision refuses
    (``SealBasisMoved``)."""
    recorded = read_stream(consortium_stream_id(slug), limit=max(state.version, 1))
    if not recorded or len(recorded) != state.version:
        return SealBasis(len(recorded), 0, "", ())
    last = recorded[-1]
    balances = closing_balances([to_dated(e) for e in recorded], closing_date)
    return SealBasis(state.version, last.position, last.hash, balances)


# --- verification ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SealFinding:
    """One seal checked: where it is, what it seals, and what (if anything) no longer
    matches the ledger."""

    slug: str
    seal_position: int
    closing_date: dt.date
    position: int
    chain_hash: str
    problems: tuple[str, ...]

    def line(self) -> str:
        head = (
            f"seal of {self.slug} at position {self.seal_position}: closed up to "
            f"{spoken_date(self.closing_date)}, sealed at position {self.position} "
            f"({self.chain_hash[:16]}...)"
        )
        return head + (": " + "; ".join(self.problems) if self.problems else ": matches")


def _seals() -> Iterator[RecordedEvent]:
    for recorded in iter_stored():
        if recorded.type == PeriodClosed.TYPE and recorded.stream.startswith(
            CONSORTIUM_STREAM_PREFIX
        ):
            yield recorded


def check_seal(recorded: RecordedEvent) -> SealFinding:
    """Whether one ``PeriodClosed`` still matches the ledger."""
    slug = recorded.stream[len(CONSORTIUM_STREAM_PREFIX) :]
    problems: list[str] = []
    try:
        event = event_from_stored(recorded.type, recorded.data)
    except (ValueError, TypeError) as error:
        return SealFinding(slug, recorded.position, dt.date.min, 0, "", (f"unreadable: {error}",))
    assert isinstance(event, PeriodClosed)
    if event.position >= recorded.position:
        problems.append(f"its position {event.position} is not before the seal itself")
    actual_hash = hash_at(event.position) if event.position >= 0 else None
    if actual_hash != event.chain_hash:
        problems.append(
            f"the chain hash at position {event.position} is {actual_hash}, "
            f"not the sealed {event.chain_hash}"
        )
    history = [to_dated(e) for e in _stream_upto(recorded.stream, event.position)]
    recomputed = closing_balances(history, event.closing_date)
    if recomputed != event.balances:
        problems.extend(_balance_differences(event.balances, recomputed))
    return SealFinding(
        slug,
        recorded.position,
        event.closing_date,
        event.position,
        event.chain_hash,
        tuple(problems),
    )


def _stream_upto(stream: str, position: int) -> list[RecordedEvent]:
    return read_stream(stream, upto_position=max(position, 0))


def _balance_differences(
    sealed: tuple[ClosingBalance, ...], recomputed: tuple[ClosingBalance, ...]
) -> list[str]:
    by_org = {b.organisation_id: b for b in recomputed}
    out: list[str] = []
    for balance in sealed:
        now = by_org.pop(balance.organisation_id, None)
        if now is None:
            out.append(f"{balance.organisation_id} is sealed but not in the ledger's figures")
        elif now != balance:
            out.append(
                f"{balance.organisation_id}'s balances recompute to {_figures(now)}, "
                f"not the sealed {_figures(balance)}"
            )
    out.extend(f"{org} is in the ledger's figures but not sealed" for org in sorted(by_org))
    return out


def _figures(b: ClosingBalance) -> str:
    return (
        f"committed {b.committed.amount}, called {b.called.amount}, contributed "
        f"{b.contributed.amount}, unfunded {b.unfunded.amount}, outstanding "
        f"{b.outstanding.amount}"
    )


def check_seals() -> list[SealFinding]:
    """Every seal in the ledger, checked, in ledger order."""
    return [check_seal(recorded) for recorded in _seals()]


def _seal_hook() -> Iterator[Problem | str]:
    """The ``consortium-seals`` verification hook: a line per seal checked, a problem per
    seal that no longer matches."""
    for finding in check_seals():
        if finding.problems:
            yield Problem(finding.seal_position, finding.line())
        else:
            yield finding.line()


register_hook("consortium-seals", _seal_hook)
