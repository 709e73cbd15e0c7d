"""Load a stream's folded state at a cost that does not grow with the stream's history.

``load`` returns the state of a stream at its current version by taking the newest valid
snapshot and folding only the events after it. Two layers:

- an in-process LRU of live states (the hot path: one indexed query for the events after
  the cached version, usually none or a few): one per thread for readers, and one shared
  by the process's commands (below), and
- a ``ledger_snapshot`` row per stream and folding-code version, rewritten every
  ``save_every`` events, so a fresh process folds at most that many events. Saving a
  large state costs up to a few hundred milliseconds of pickling, so for streams whose
  loader is registered (``register``) a command only queues the save and a Celery worker
  does it (``ledger.tasks.save_snapshot``); on the embedded default, or for unregistered
  streams, it is saved in-process.

Neither is trusted over the ledger: a cached state is used only if the event it ended on
is still in the stream with the same hash (the query that reads the newer events also
reads that one), and a stored snapshot only if its HMAC (keyed by ``SECRET_KEY``) checks
out, since it is unpickled. Changing the folding code means changing ``code_version``;
old snapshots are then ignored.

The fold function mutates the state in place; callers must treat the returned state as
read-only (decisions are pure functions of it).

**Commands' states.** A command decides under its stream's lock (``stream_lock``: one
command per stream at a time in a process) on a state kept for the whole process
(``cached_for_command``). It is not trusted either: the command appends with the version
*and hash* of the last event that state folded (``ledger.store.append(expected_hash=...)``)
and has the stream's newer events read back in the same round trip (``read_after``),
which ``fold_read`` folds in: its own events once appended, so the next command on the
stream, from any thread, finds the state current without asking the ledger; or, when
another process wrote meanwhile and the append refused, what it missed, before it decides
again. Readers outside the lock keep to their own thread's cache, so nothing they hold
changes under them.
"""

import dataclasses
import gc
import hashlib
import hmac
import logging
import pickle
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction

from ledger.models import Snapshot
from ledger.store import RecordedEvent, read_stream

log = logging.getLogger(__name__)

S = TypeVar("S")
CACHE_SIZE = 256


@dataclasses.dataclass
class _Entry:
    version: int
    last_hash: str
    state: Any
    saved_version: int


@dataclasses.dataclass(frozen=True)
class Loaded(Generic[S]):
    """A stream's state, the version it reflects (pass it as ``expected_version``), and
    the hash of the event it ended on (pass it as ``expected_hash``; empty at version 0)."""

    state: S
    version: int
    last_hash: str = ""


class _Entries:
    """A bounded LRU of live states; its own lock guards the mapping, not the states."""

    def __init__(self) -> None:
        self.items: OrderedDict[tuple[str, str], _Entry] = OrderedDict()
        self.guard = threading.Lock()

    def get(self, key: tuple[str, str]) -> _Entry | None:
        with self.guard:
            return self.items.get(key)

    def put(self, key: tuple[str, str], entry: _Entry) -> None:
        with self.guard:
            self.items[key] = entry
            self.items.move_to_end(key)
            while len(self.items) > CACHE_SIZE:
                self.items.popitem(last=False)

    def drop(self, key: tuple[str, str]) -> None:
        with self.guard:
            self.items.pop(key, None)

    def clear(self) -> None:
        with self.guard:
            self.items.clear()


class _Cache(threading.local):
    def __init__(self) -> None:
        self.entries = _Entries()


_cache = _Cache()  # readers: one per thread
_commands = _Entries()  # commands: one per process, each entry used under its stream's lock


def load(
    stream: str,
    *,
    code_version: str,
    initial: Callable[[], S],
    apply: Callable[[S, RecordedEvent], None],
    save_every: int = 1000,
) -> Loaded[S]:
    """The state of ``stream`` folded from the ledger, via the newest valid snapshot."""
    return _load(_cache.entries, stream, code_version, initial, apply, save_every)


def _load(
    entries: _Entries,
    stream: str,
    code_version: str,
    initial: Callable[[], S],
    apply: Callable[[S, RecordedEvent], None],
    save_every: int,
) -> Loaded[S]:
    key = (stream, code_version)
    entry = entries.get(key)
    events = _events_after(stream, entry)
    if entry is None or events is None:
        entry = _stored(stream, code_version)
        events = _events_after(stream, entry)
        if entry is None or events is None:
            entry, events = _Entry(0, "", initial(), 0), read_stream(stream)
    _fold(entries, key, entry, events, apply)
    entries.put(key, entry)
    _maybe_save(stream, code_version, entry, save_every)
    return Loaded(entry.state, entry.version, entry.last_hash)


def _fold(
    entries: _Entries,
    key: tuple[str, str],
    entry: _Entry,
    events: Sequence[RecordedEvent],
    apply: Callable[[Any, RecordedEvent], None],
) -> None:
    """Fold ``events`` into ``entry``; one that fails leaves it half-folded, so it goes."""
    try:
        for event in events:
            apply(entry.state, event)
            entry.version, entry.last_hash = event.version, event.hash
    except BaseException:
        entries.drop(key)
        raise


def _maybe_save(stream: str, code_version: str, entry: _Entry, save_every: int) -> None:
    if entry.version - entry.saved_version >= save_every:
        if not _queue_save(stream, code_version):
            _save(stream, code_version, entry)
        entry.saved_version = entry.version  # queued or done: not again for save_every


# --- commands' states -------------------------------------------------------------------

SAVE_EVERY = 1000
# Striped: bounded, and a collision only makes two streams' commands take turns briefly.
# Re-entrant: a command may run another (tests do, to stage a concurrent change).
_STREAM_LOCKS = tuple(threading.RLock() for _ in range(64))


def stream_lock(stream: str) -> threading.RLock:
    """The lock a process's commands on ``stream`` take turns under."""
    return _STREAM_LOCKS[zlib.crc32(stream.encode()) % len(_STREAM_LOCKS)]


def _registered(stream: str) -> "Loader":
    loader = loader_for(stream)
    if loader is None:
        raise LookupError(f"No snapshot loader is registered for {stream!r}.")
    return loader


def cached_for_command(stream: str) -> Loaded[Any] | None:
    """The process's state of ``stream`` as its commands left it, unverified; None if none.

    Hold ``stream_lock(stream)`` while using it, and append with its version and hash.
    """
    entry = _commands.get((stream, _registered(stream).code_version))
    return None if entry is None else Loaded(entry.state, entry.version, entry.last_hash)


def load_for_command(stream: str) -> Loaded[Any]:
    """The process's state of ``stream``, brought up to the ledger (under the lock)."""
    loader = _registered(stream)
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
    entry = _commands.get(key)
    if entry is None:
        return None
    newer = _continuing(stream, entry, list(events))
    if newer is None or any(
        event.version != entry.version + n for n, event in enumerate(newer, start=1)
    ):
        _commands.drop(key)
        return None
    _fold(_commands, key, entry, newer, loader.apply)
    _maybe_save(stream, loader.code_version, entry, SAVE_EVERY)
    return Loaded(entry.state, entry.version, entry.last_hash)


# Every process (and every reader thread) whose copy of a stream crosses a save_every
# boundary asks for a save, at about the same moment; one save covers them all, and each
# costs a worker a fold and a pickle of the whole state. A stream's save is queued at
# most once in this many seconds (a snapshot only spares a cold process some folding).
SAVE_QUEUED_SECONDS = 10


def _queue_save(stream: str, code_version: str) -> bool:
    """Hand the save to a worker; False when it must be done here."""
    if settings.CELERY_TASK_ALWAYS_EAGER or loader_for(stream, code_version) is None:
        return False
    from ledger.projections import triggers
    from ledger.tasks import save_snapshot

    marker = f"ledger:snapshot-queued:{code_version}:{stream}"
    if not triggers.claim(marker, SAVE_QUEUED_SECONDS):
        return True  # another process queued it moments ago
    try:
        save_snapshot.apply_async((stream,), retry=False)
    except Exception as error:  # the broker is down: the next due save tries again
        log.warning("Could not queue the snapshot of %s (%s)", stream, error)
    return True


@dataclasses.dataclass(frozen=True)
class Loader:
    """How to fold the streams whose names start with ``prefix``."""

    prefix: str
    code_version: str
    initial: Callable[[], Any]
    apply: Callable[[Any, RecordedEvent], None]


_loaders: dict[str, Loader] = {}


def register(loader: Loader) -> Loader:
    """Let workers fold (and snapshot) streams with this prefix on a command's behalf."""
    _loaders[loader.prefix] = loader
    return loader


def loader_for(stream: str, code_version: str | None = None) -> Loader | None:
    """The registered loader of ``stream`` (for that folding-code version, if given)."""
    for prefix, loader in _loaders.items():
        if stream.startswith(prefix):
            return loader if code_version in (None, loader.code_version) else None
    return None


def save_now(stream: str) -> int:
    """Fold ``stream`` with its registered loader and store its snapshot (worker side).

    Returns the version saved; 0 when no loader is registered for the stream.
    """
    loader = loader_for(stream)
    if loader is None:
        return 0
    loaded = load(
        stream,
        code_version=loader.code_version,
        initial=loader.initial,
        apply=loader.apply,
        save_every=10**9,
    )
    entry = _cache.entries.get((stream, loader.code_version))
    if entry is not None and entry.saved_version < entry.version:
        _save(stream, loader.code_version, entry)
    return loaded.version


def forget() -> None:
    """Drop this thread's cache and the commands' (tests; after a ledger is rebuilt)."""
    _cache.entries.clear()
    _commands.clear()


def _events_after(stream: str, entry: _Entry | None) -> list[RecordedEvent] | None:
    """Events after ``entry``; None when ``entry`` no longer matches the ledger."""
    if entry is None:
        return None
    if entry.version == 0:
        return read_stream(stream)
    return _continuing(stream, entry, read_stream(stream, after_version=entry.version - 1))


def _continuing(
    stream: str, entry: _Entry, events: list[RecordedEvent]
) -> list[RecordedEvent] | None:
    """The events after ``entry``, given the stream's events from its last one on (all of
    them at version 0); None when that last one is not ``entry``'s, hash included."""
    if entry.version == 0:
        return events
    if not events or events[0].version != entry.version or events[0].hash != entry.last_hash:
        log.warning("Snapshot of %s at v%s no longer matches the ledger", stream, entry.version)
        return None
    return events[1:]


def _sign(blob: bytes) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), blob, hashlib.sha256).hexdigest()


def _stored(stream: str, code_version: str) -> _Entry | None:
    row = Snapshot.objects.filter(stream=stream, code_version=code_version).first()
    if row is None:
        return None
    blob = bytes(row.state)
    if not hmac.compare_digest(_sign(blob), row.signature):
        log.warning("Snapshot of %s has a bad signature; folding from the ledger", stream)
        return None
    with _gc_paused():  # a large state is many small objects: GC passes would triple the cost
        state = pickle.loads(blob)  # noqa: S301 - signed above with SECRET_KEY
    return _Entry(row.version, row.last_hash, state, row.version)


def _save(stream: str, code_version: str, entry: _Entry) -> None:
    with _gc_paused():
        blob = pickle.dumps(entry.state, protocol=pickle.HIGHEST_PROTOCOL)
    values = {
        "version": entry.version,
        "last_hash": entry.last_hash,
        "state": blob,
        "signature": _sign(blob),
    }
    try:
        with transaction.atomic():
            rows = Snapshot.objects.filter(stream=stream, code_version=code_version)
            if not rows.update(**values):
                Snapshot.objects.create(stream=stream, code_version=code_version, **values)
    except IntegrityError:  # another process saved it first; theirs is as good
        return
    entry.saved_version = entry.version


@contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
