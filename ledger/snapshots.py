"""Load a stream's folded state at a cost that does not grow with the stream's history.

``load`` returns the state of a stream at its current version by taking the newest valid
snapshot and folding only the events after it. Two layers:

- a per-thread, in-process LRU of live states (the hot path: one indexed query for the
  events after the cached version, usually none or a few), and
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
"""

import dataclasses
import gc
import hashlib
import hmac
import logging
import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
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
    """A stream's state and the version it reflects (pass it as ``expected_version``)."""

    state: S
    version: int


class _Cache(threading.local):
    def __init__(self) -> None:
        self.entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()


_cache = _Cache()


def load(
    stream: str,
    *,
    code_version: str,
    initial: Callable[[], S],
    apply: Callable[[S, RecordedEvent], None],
    save_every: int = 1000,
) -> Loaded[S]:
    """The state of ``stream`` folded from the ledger, via the newest valid snapshot."""
    key = (stream, code_version)
    entry = _cache.entries.get(key)
    events = _events_after(stream, entry)
    if entry is None or events is None:
        entry = _stored(stream, code_version)
        events = _events_after(stream, entry)
        if entry is None or events is None:
            entry, events = _Entry(0, "", initial(), 0), read_stream(stream)
    for event in events:
        apply(entry.state, event)
        entry.version, entry.last_hash = event.version, event.hash
    _cache.entries[key] = entry
    _cache.entries.move_to_end(key)
    while len(_cache.entries) > CACHE_SIZE:
        _cache.entries.popitem(last=False)
    if entry.version - entry.saved_version >= save_every:
        if not _queue_save(stream, code_version):
            _save(stream, code_version, entry)
        entry.saved_version = entry.version  # queued or done: not again for save_every
    return Loaded(entry.state, entry.version)


def _queue_save(stream: str, code_version: str) -> bool:
    """Hand the save to a worker; False when it must be done here."""
    if settings.CELERY_TASK_ALWAYS_EAGER or loader_for(stream, code_version) is None:
        return False
    from ledger.tasks import save_snapshot

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
    entry = _cache.entries[(stream, loader.code_version)]
    if entry.saved_version < entry.version:
        _save(stream, loader.code_version, entry)
    return loaded.version


def forget() -> None:
    """Drop this thread's in-process cache (tests; after a ledger is rebuilt)."""
    _cache.entries.clear()


def _events_after(stream: str, entry: _Entry | None) -> list[RecordedEvent] | None:
    """Events after ``entry``; None when ``entry`` no longer matches the ledger."""
    if entry is None:
        return None
    if entry.version == 0:
        return read_stream(stream)
    events = read_stream(stream, after_version=entry.version - 1)
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
