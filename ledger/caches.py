"""Every per-process cache of the service, registered in one place and emptied by one call.

A process keeps copies of what the ledger and the projections hold (folded stream states,
decoded events, rendered answers) because asking again costs more than remembering. Each
such cache registers here with what it holds, its bound and the benchmark figure it moves
(README, "How it is fast"), so there is one list to read and one switch to empty them:

- ``clear()`` empties every registered cache: tests call it between tests, and it is the
  only public way to drop cached state (never reach into a cache's private attributes).
- ``observe_ledger(identity, head)`` is told the ledger's identity and head position each
  time they are read from the database (the append's read-back and the head read carry
  them). A ledger truncated or replaced has another identity, and one restored from a
  backup has a head below one this process had already seen before the read began
  (positions never go back in a live ledger); either empties every cache before anything
  cached is used again, so no operator has to restart web processes after a restore.
  Threads read concurrently and report in any order: a head read while another thread's
  higher one was being reported is not a restore, so each thread compares with the
  highest head known when its previous read was reported (its next read began later).

A registered cache must be bounded (its ``bound`` says how) and its ``clear`` must be safe
to call from any thread at any time.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Registered:
    """One process cache: its name, what it holds, its bound, what it is for, and how to
    empty it (and count what it holds)."""

    name: str
    holds: str
    bound: str
    moves: str
    clear: Callable[[], None]
    size: Callable[[], int] | None = None


_registry: dict[str, Registered] = {}
_guard = threading.Lock()
_identity: str | None = None
_highest = 0
# Bumped by ``clear``, which forgets the ledger seen, so that every thread's floor is
# forgotten with it. A replaced ledger keeps the floors: a thread whose floor is above the
# new ledger's head empties the caches once more, which costs a reload and nothing else.
_generation = 0


class _Floor(threading.local):
    """The highest head known when this thread last reported one, and its generation."""

    generation = -1
    head = 0


_floor = _Floor()


def register(
    name: str,
    *,
    holds: str,
    bound: str,
    moves: str,
    clear: Callable[[], None],
    size: Callable[[], int] | None = None,
) -> Registered:
    """Register a cache under ``name`` (registering a name again replaces the entry).

    ``size``, if given, counts what the cache holds now (in the unit of its ``bound``), so
    ``manage.py caches`` and tests can see it fill and empty without reaching inside.
    """
    entry = Registered(name, holds, bound, moves, clear, size)
    with _guard:
        _registry[name] = entry
    return entry


def registered() -> list[Registered]:
    """The registered caches, by name."""
    with _guard:
        return sorted(_registry.values(), key=lambda entry: entry.name)


def clear() -> None:
    """Empty every registered cache, and forget the ledger identity last seen."""
    global _identity, _highest, _generation
    with _guard:
        entries = list(_registry.values())
        _identity, _highest = None, 0
        _generation += 1
    for entry in entries:
        entry.clear()


def read_floor() -> tuple[int, int]:
    """This thread's floor now: what a read made now will be compared with when it is
    reported later (``observe_ledger(..., floor=...)``)."""
    with _guard:
        return _floor.generation, _floor.head


def observe_ledger(identity: str, head: int, *, floor: tuple[int, int] | None = None) -> bool:
    """Note the identity and head position of the ledger just read; empty every cache if
    it is not the ledger they mirrored (another identity, or a head below the highest one
    known when this thread reported its previous read: that read had ended before this
    one began, so a live ledger's head cannot be lower).

    ``floor`` (``read_floor()`` taken when the read was made): for a read reported later
    than it was made, such as one inside a transaction reported once it commits, after
    the thread may have read a higher head in between (another commit hook's catch-up).

    Returns True when the caches were emptied.
    """
    global _identity, _highest
    with _guard:
        generation, floor_head = floor if floor is not None else (_floor.generation, _floor.head)
        floor_head = floor_head if generation == _generation else 0
        replaced = _identity is not None and (identity != _identity or head < floor_head)
        previous = (_identity, _highest)
        _identity, _highest = identity, head if replaced else max(_highest, head)
        _floor.generation, _floor.head = _generation, _highest
        entries = list(_registry.values()) if replaced else []
    if not entries:
        return False
    log.warning(
        "The ledger is not the one cached (%s at %s, now %s at %s): emptying every cache",
        *previous,
        identity,
        head,
    )
    for entry in entries:
        entry.clear()
    return True
