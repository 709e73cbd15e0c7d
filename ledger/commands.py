"""Running a decision against a stream and appending what it decided, as one command.

The engine below the services (``consortium.services`` tells the whole journey of a
command). It knows nothing of any domain: ``run`` takes the stream, a pure ``decide``
function of the stream's state, the ``append`` that records its decisions, and which
exception means "the rules refused". Its contract:

- Commands on one stream take turns within a process (``stream_lock``) and decide on
  the process's copy of the stream's state (``ledger.states``), appended with the version
  and hash that copy ended on; the append reads back the stream's newer events in the
  same round trip and the copy folds them: one round trip on the usual path.
- A refusal on the copy, which may be behind, is decided again on the ledger's state
  before it is reported.
- An append refused because the stream moved on (another process wrote) folds what it
  missed from the same round trip and decides again. Should that decision be overtaken
  too, its one retry holds the stream's lock in the database (``ledger.store.lock_stream``,
  which every append also takes) from reading to appending, so nothing can overtake it.
- With ``expected_version`` (a caller's optimistic concurrency), a stream at any other
  version is ``StaleVersion`` and nothing is retried. ``ConcurrentChange`` is left for a
  locked retry overtaken all the same (a writer that skips the stream's lock). Either
  way nothing is appended.
- The engine knows nothing of idempotency keys: the caller's append carries its receipt,
  and a refused or overtaken keyed command is the caller's to answer from the receipt
  (``consortium.services``), so the usual path stays one round trip.
"""

from __future__ import annotations

import dataclasses
import threading
import zlib
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from ledger import speed, states
from ledger.store import AppendResult, StreamHold, WrongExpectedVersion, lock_stream

D = TypeVar("D")

# What records a decision: its decisions, the state they were decided on, and the
# stream's hold when the decision was made holding the stream's lock.
Append = Callable[[Sequence[D], states.Loaded[Any], StreamHold | None], AppendResult]


class StaleVersion(Exception):
    """The caller decided on a version the stream has moved past (HTTP 412)."""

    def __init__(self, stream: str, expected: int, actual: int) -> None:
        self.stream, self.expected, self.actual = stream, expected, actual
        super().__init__(
            f"{stream} has changed since you read it (you had version {expected}, it is now "
            f"at {actual}). Reload it, check your change still makes sense, and try again."
        )


class ConcurrentChange(Exception):
    """Someone else changed the stream twice while this command was deciding (HTTP 409)."""

    def __init__(self, stream: str) -> None:
        self.stream = stream
        super().__init__(
            f"{stream} was changed by someone else while your command was being recorded. "
            "Nothing was recorded; try again."
        )


@dataclasses.dataclass(frozen=True)
class Recorded(Generic[D]):
    """What a command recorded: the append's result and the decisions it appended."""

    appended: AppendResult
    decisions: tuple[D, ...]


# Striped: bounded, and a collision only makes two streams' commands take turns briefly.
# Re-entrant: a command may run another (tests do, to stage a concurrent change).
_STREAM_LOCKS = tuple(threading.RLock() for _ in range(64))


def stream_lock(stream: str) -> threading.RLock:
    """The lock a process's commands on ``stream`` take turns under (with the speed
    mechanism ``stream-lock`` off, a lock of the caller's own, which holds back no one)."""
    if not speed.enabled("stream-lock"):
        return threading.RLock()
    return _STREAM_LOCKS[zlib.crc32(stream.encode()) % len(_STREAM_LOCKS)]


def run(
    stream: str,
    *,
    decide: Callable[[Any], Sequence[D]],
    append: Append[D],
    expected_version: int | None,
    refusal: type[Exception],
) -> Recorded[D]:
    """Decide on ``stream``'s state and append the decisions (see the module docstring).

    ``decide`` must be a pure function of the state (it may run more than once); it
    raises ``refusal`` when the rules refuse, and that is reported once the ledger's own
    state refuses too.
    """
    # Threads of one process take turns per stream: two deciding on the same version
    # would race to the append, the loser deciding again; across processes that race
    # remains, and the stream's version settles it.
    with stream_lock(stream):
        return _decide_and_append(stream, decide, append, expected_version, refusal)


def _decide_and_append(
    stream: str,
    decide: Callable[[Any], Sequence[D]],
    append: Append[D],
    expected: int | None,
    refusal: type[Exception],
) -> Recorded[D]:
    basis = states.cached_for_command(stream)
    verified = basis is None or (expected is not None and expected != basis.version)
    if basis is None or verified:
        basis = states.load_for_command(stream)
    while True:
        if verified and expected is not None and expected != basis.version:
            raise StaleVersion(stream, expected, basis.version)
        try:
            decisions = tuple(decide(basis.state))
        except refusal:
            if verified:
                raise
            # Refused on the process's copy, which may be behind: ask the ledger.
            basis, verified = states.load_for_command(stream), True
            continue
        try:
            result = append(decisions, basis, None)
        except WrongExpectedVersion as error:
            if expected is not None and error.actual != expected:
                raise StaleVersion(stream, expected, error.actual) from None
            if verified:  # a decision on the ledger's state was overtaken: retried once
                states.fold_read(stream, error.read)
                return _decide_and_append_locked(stream, decide, append, expected)
            basis = states.fold_read(stream, error.read) or states.load_for_command(stream)
            verified = True
            continue
        states.fold_read(stream, result.read)
        return Recorded(result, decisions)


def _decide_and_append_locked(
    stream: str,
    decide: Callable[[Any], Sequence[D]],
    append: Append[D],
    expected: int | None,
) -> Recorded[D]:
    """The one retry of an overtaken command: decided holding the stream's lock
    (``ledger.store.lock_stream``), which its append releases, so nothing overtakes it."""
    copy = states.cached_for_command(stream)
    with lock_stream(stream, after_version=max(copy.version - 1, 0) if copy else 0) as hold:
        basis = states.fold_read(stream, hold.missed) or states.load_for_command(stream)
        if expected is not None and expected != basis.version:
            raise StaleVersion(stream, expected, basis.version)
        decisions = tuple(decide(basis.state))  # refused on the ledger's own state: reported
        try:
            result = append(decisions, basis, hold)
        except WrongExpectedVersion as error:  # only a writer that skips the stream's lock
            states.fold_read(stream, error.read)
            raise ConcurrentChange(stream) from None
    states.fold_read(stream, result.read)
    return Recorded(result, decisions)
