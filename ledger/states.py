"""Stream states folded from the ledger, and this process's copies of them.

``load`` returns the state of a stream at its current version by folding the events
after a copy this process already holds, or after the stream's stored snapshot
(``ledger.snapshots``), or from the first event; the fold function comes from the
caller or from a ``Loader`` registered for the stream's prefix. Two sets of copies, each
a bounded LRU registered with ``ledger.caches``:

- **readers'**: one set per thread (``load``), so nothing a reader holds changes under
  it;
- **commands'**: one set per process (``cached_for_command``, ``load_for_command``,
  ``fold_read``), each copy used only under its stream's lock (``ledger.commands``), and
  brought forward by the events each append reads back, so the next command on the
  stream, from any thread, finds it current without asking the ledger.

No copy is trusted over the ledger: a copy is used only if the event it ended on is
still in the stream with the same hash (the query that reads the newer events also reads
that one), and a command appends with the version *and hash* its copy ended on, so the
append itself refuses a stale copy. Every ``save_every`` events a copy's state is stored
as the stream's snapshot (queued to a worker where there is one).

The fold function mutates the state in place; callers treat a returned state as
read-only (decisions are pure functions of it).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from ledger import caches, snapshots, speed
from ledger.store import RecordedEvent, read_stream

log = logging.getLogger(__name__)

S = TypeVar("S")
CACHE_SIZE = 256  # streams per set of copies
SAVE_EVERY = 1000  # events between stored snapshots of a command's stream


@dataclasses.dataclass(frozen=True)
class Loaded(Generic[S]):
    """A stream's state, the version it reflects (pass it as ``expected_version``), and
    the hash of the event it ended on (pass it as ``expected_hash``; empty at version 0)."""

    state: S
    version: int
    last_hash: str = ""


@dataclasses.dataclass(frozen=True)
class Loader:
    """How to fold the streams whose names start with ``prefix``."""

    prefix: str
    code_version: str
    initial: Callable[[], Any]
    apply: Callable[[Any, RecordedEvent], None]


@dataclasses.dataclass
class _Copy:
    version: int
    last_hash: str
    state: Any
    saved_version: int


class _Copies:
    """A bounded LRU of copies; its own lock guards the mapping, not the states."""

    def __init__(self) -> None:
        self._copies: OrderedDict[tuple[str, str], _Copy] = OrderedDict()
        self._guard = threading.Lock()

    def get(self, key: tuple[str, str]) -> _Copy | None:
        with self._guard:
            return self._copies.get(key)

    def put(self, key: tuple[str, str], copy: _Copy) -> None:
        with self._guard:
            self._copies[key] = copy
            self._copies.move_to_end(key)
            while len(self._copies) > CACHE_SIZE:
                self._copies.popitem(last=False)

    def drop(self, key: tuple[str, str]) -> None:
        with self._guard:
            self._copies.pop(key, None)

    def clear(self) -> None:
        with self._guard:
            self._copies.clear()

    def __len__(self) -> int:
        return len(self._copies)


_every_readers: weakref.WeakSet[_Copies] = weakref.WeakSet()  # each live thread's set
_every_readers_guard = threading.Lock()


class _Readers(threading.local):
    def __init__(self) -> None:
        self.copies = _Copies()
        with _every_readers_guard:
            _every_readers.add(self.copies)


_readers = _Readers()
_commands = _Copies()


def _all_readers() -> list[_Copies]:
    with _every_readers_guard:
        return list(_every_readers)


def _clear_readers() -> None:
    for copies in _all_readers():
        copies.clear()


caches.register(
    "stream-states-readers",
    holds="each thread's folded states of the streams it read (as-of reads, command checks)",
    bound=f"{CACHE_SIZE} streams per thread, least recently used dropped",
    moves="bench/commands.py: asset commands (their sponsor and holder checks)",
    clear=_clear_readers,
    size=lambda: sum(len(copies) for copies in _all_readers()),
)
caches.register(
    "stream-states-commands",
    holds="the process's folded state of each stream its commands decide on",
    bound=f"{CACHE_SIZE} streams, least recently used dropped",
    moves="bench/commands.py: commands per second; bench/api.py: writes per second",
    clear=_commands.clear,
    size=lambda: len(_commands),
)

_loaders: dict[str, Loader] = {}


def register(loader: Loader) -> Loader:
    """Fold streams with this prefix with ``loader`` for commands and workers."""
    _loaders[loader.prefix] = loader
    return loader


def unregister(prefix: str) -> None:
    """Forget the loader of ``prefix`` (a test's own loader, once the test is done)."""
    _loaders.pop(prefix, None)


def loader_for(stream: str, code_version: str | None = None) -> Loader | None:
    """The registered loader of ``stream`` (for that folding-code version, if given)."""
    for prefix, loader in _loaders.items():
        if stream.startswith(prefix):
            return loader if code_version in (None, loader.code_version) else None
    return None


def load(
    stream: str,
    *,
    code_version: str,
    initial: Callable[[], S],
    apply: Callable[[S, RecordedEvent], None],
    save_every: int = SAVE_EVERY,
) -> Loaded[S]:
    """The state of ``stream`` folded from the ledger (this thread's copy brought up to
    date, else the newest valid snapshot, else the first event)."""
    return _load(_readers.copies, stream, code_version, initial, apply, save_every)


def state_at(stream: str, version: int) -> Any | None:
    """The state of ``stream`` as it stood at ``version``, folded afresh from its first
    event (no copy or snapshot is used or kept: for rare questions about the past); None
    if no loader is registered for it."""
    loader = loader_for(stream)
    if loader is None:
        return None
    state = loader.initial()
    for event in read_stream(stream):
        if event.version > version:
            break
        loader.apply(state, event)
    return state


def save_now(stream: str) -> int:
    """Fold ``stream`` with its registered loader and store its snapshot (worker side).

    Returns the version saved; 0 when no loader is registered for the stream.
    """
    loader = loader_for(stream)
    if loader is None:
        return 0
    key = (stream, loader.code_version)
    loaded = load(
        stream,
        code_version=loader.code_version,
        initial=loader.initial,
        apply=loader.apply,
        save_every=10**9,
    )
    copy = _readers.copies.get(key)
    if copy is not None and copy.saved_version < copy.version:
        _write(stream, loader.code_version, copy)
    return loaded.version


# --- commands' copies (used under the stream's lock: ledger.commands) ------------------


def cached_for_command(stream: str) -> Loaded[Any] | None:
    """The process's state of ``stream`` as its commands left it, unverified; None if none
    (always None with the speed mechanism ``state-copies`` off).

    Hold the stream's lock while using it, and append with its version and hash.
    """
    if not speed.enabled("state-copies"):
        return None
    copy = _commands.get((stream, _registered(stream).code_version))
    return None if copy is None else Loaded(copy.state, copy.version, copy.last_hash)


def load_for_command(stream: str) -> Loaded[Any]:
    """The process's state of ``stream``, brought up to the ledger (under the lock).

    With ``state-copies`` off, folded afresh from the stored snapshot and the ledger.
    """
    loader = _registered(stream)
    if not speed.enabled("state-copies"):
        _commands.drop((stream, loader.code_version))
    return _load(_commands, stream, loader.code_version, loader.initial, loader.apply, SAVE_EVERY)


def fold_read(stream: str, events: Sequence[RecordedEvent]) -> Loaded[Any] | None:
    """Fold events read after the process's state into it (under the stream's lock).

    ``events`` are the stream's events from the state's last one on (all of them at
    version 0), as ``ledger.store.append(read_after=version - 1)`` returns them. If they do
    not continue the state (its last event is not the first of them, with the same hash),
    the state is dropped and None returned: ``load_for_command`` then folds it again.
    """
    loader = _registered(stream)
    key = (stream, loader.code_version)
    copy = _commands.get(key)
    if copy is None:
        return None
    newer = _continuing(stream, copy, list(events))
    if newer is None or any(
        event.version != copy.version + n for n, event in enumerate(newer, start=1)
    ):
        _commands.drop(key)
        return None
    _fold(_commands, key, copy, newer, loader.apply)
    _maybe_save(stream, loader.code_version, copy, SAVE_EVERY)
    return Loaded(copy.state, copy.version, copy.last_hash)


def _registered(stream: str) -> Loader:
    loader = loader_for(stream)
    if loader is None:
        raise LookupError(f"No state loader is registered for {stream!r}.")
    return loader


# --- folding ------------------------------------------------------------------------------


def _load(
    copies: _Copies,
    stream: str,
    code_version: str,
    initial: Callable[[], S],
    apply: Callable[[S, RecordedEvent], None],
    save_every: int,
) -> Loaded[S]:
    key = (stream, code_version)
    copy = copies.get(key)
    events = _events_after(stream, copy)
    if copy is None or events is None:
        copy = _stored(stream, code_version)
        events = _events_after(stream, copy)
        if copy is None or events is None:
            copy, events = _Copy(0, "", initial(), 0), read_stream(stream)
    _fold(copies, key, copy, events, apply)
    copies.put(key, copy)
    _maybe_save(stream, code_version, copy, save_every)
    return Loaded(copy.state, copy.version, copy.last_hash)


def _fold(
    copies: _Copies,
    key: tuple[str, str],
    copy: _Copy,
    events: Sequence[RecordedEvent],
    apply: Callable[[Any, RecordedEvent], None],
) -> None:
    """Fold ``events`` into ``copy``; one that fails leaves it half-folded, so it goes."""
    try:
        for event in events:
            apply(copy.state, event)
            copy.version, copy.last_hash = event.version, event.hash
    except BaseException:
        copies.drop(key)
        raise


def _events_after(stream: str, copy: _Copy | None) -> list[RecordedEvent] | None:
    """Events after ``copy``; None when ``copy`` no longer matches the ledger."""
    if copy is None:
        return None
    if copy.version == 0:
        return read_stream(stream)
    return _continuing(stream, copy, read_stream(stream, after_version=copy.version - 1))


def _continuing(
    stream: str, copy: _Copy, events: list[RecordedEvent]
) -> list[RecordedEvent] | None:
    """The events after ``copy``, given the stream's events from its last one on (all of
    them at version 0); None when that last one is not ``copy``'s, hash included."""
    if copy.version == 0:
        return events
    if not events or events[0].version != copy.version or events[0].hash != copy.last_hash:
        log.warning("The copy of %s at v%s no longer matches the ledger", stream, copy.version)
        return None
    return events[1:]


# --- stored snapshots -----------------------------------------------------------------------


def _stored(stream: str, code_version: str) -> _Copy | None:
    stored = snapshots.read(stream, code_version)
    if stored is None:
        return None
    return _Copy(stored.version, stored.last_hash, stored.state, stored.version)


def _maybe_save(stream: str, code_version: str, copy: _Copy, save_every: int) -> None:
    if copy.version - copy.saved_version >= save_every:
        queued = loader_for(stream, code_version) is not None and snapshots.queue_save(
            stream, code_version
        )
        if not queued:
            _write(stream, code_version, copy)
        copy.saved_version = copy.version  # queued or done: not again for save_every


def _write(stream: str, code_version: str, copy: _Copy) -> None:
    if snapshots.write(
        stream, code_version, snapshots.Stored(copy.version, copy.last_hash, copy.state)
    ):
        copy.saved_version = copy.version
