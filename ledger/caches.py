"""Every per-process cache of the service, registered in one place and emptied by one call.

A process keeps copies of what the ledger and the projections hold (folded stream states,
decoded events, rendered answers) because asking again costs more than remembering. Each
such cache registers here with what it holds, its bound and the benchmark figure it moves
(README, "How it is fast"), so there is one list to read and one switch to empty them:

- ``clear()`` empties every registered cache: tests call it between tests, and it is the
  only public way to drop cached state (never reach into a cache's private attributes).
- ``observe_ledger(identity)`` is told the identity of the ledger each time one is read
  from the database (the append's read-back and the head carry it). A ledger restored
  from a backup, truncated or replaced has another identity, so the first answer that
  shows it empties every cache before anything cached is used again: no operator has to
  restart web processes after a restore.

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
    """One process cache: its name, what it holds, its bound, and what it is for."""

    name: str
    holds: str
    bound: str
    moves: str
    clear: Callable[[], None]


_registry: dict[str, Registered] = {}
_guard = threading.Lock()
_identity: str | None = None


def register(
    name: str, *, holds: str, bound: str, moves: str, clear: Callable[[], None]
) -> Registered:
    """Register a cache under ``name`` (registering a name again replaces the entry)."""
    entry = Registered(name, holds, bound, moves, clear)
    with _guard:
        _registry[name] = entry
    return entry


def registered() -> list[Registered]:
    """The registered caches, by name."""
    with _guard:
        return sorted(_registry.values(), key=lambda entry: entry.name)


def clear() -> None:
    """Empty every registered cache, and forget the ledger identity last seen."""
    global _identity
    with _guard:
        entries = list(_registry.values())
        _identity = None
    for entry in entries:
        entry.clear()


def observe_ledger(identity: str) -> bool:
    """Note the identity of the ledger just read; empty every cache if it changed.

    Returns True when the caches were emptied (the ledger is not the one they mirrored).
    """
    global _identity
    with _guard:
        previous, _identity = _identity, identity
        entries = list(_registry.values()) if previous not in (None, identity) else []
    if not entries:
        return False
    log.warning(
        "The ledger was replaced (%s -> %s): emptying every process cache", previous, identity
    )
    for entry in entries:
        entry.clear()
    return True
