"""Stored snapshots of stream states: one signed row per stream and folding-code version.

A ``ledger_snapshot`` row lets a fresh process fold a stream from a recent state instead
of from its first event. It is a cache, never the truth: it is used only if its HMAC
(keyed by ``SECRET_KEY``) checks out, since it is unpickled, and only if the event it
ended on is still in the stream with the same hash (``ledger.states`` checks that when it
folds the events after it). Changing the folding code means changing ``code_version``;
old snapshots are then ignored.

Saving a large state costs a pickling of the whole of it, so a request does not save:
``queue_save`` hands the save to a worker (``ledger.tasks.save_snapshot``), at most once
per ``SAVE_QUEUED_SECONDS`` per stream across every process, through the process's outbox
(``ledger.queueing``), so the command never waits on the broker either. On the embedded
default (no worker) the caller saves in-process.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
import pickle
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from ledger import queueing
from ledger.gc_pause import gc_paused
from ledger.models import Snapshot

log = logging.getLogger(__name__)

# Every process (and every reader thread) whose copy of a stream crosses a save boundary
# asks for a save, at about the same moment; one save covers them all, and each costs a
# worker a fold and a pickle of the whole state. A stream's save is queued at most once
# in this many seconds (a snapshot only spares a cold process some folding).
SAVE_QUEUED_SECONDS = 10


@dataclasses.dataclass(frozen=True)
class Stored:
    """A stored state: the version and last event's hash it reflects, and the state."""

    version: int
    last_hash: str
    state: Any


def read(stream: str, code_version: str) -> Stored | None:
    """The stored state of ``stream`` for ``code_version``; None if none or badly signed."""
    row = Snapshot.objects.filter(stream=stream, code_version=code_version).first()
    if row is None:
        return None
    blob = bytes(row.state)
    if not hmac.compare_digest(_sign(blob), row.signature):
        log.warning("Snapshot of %s has a bad signature; folding from the ledger", stream)
        return None
    with gc_paused():
        state = pickle.loads(blob)  # noqa: S301 - signed above with SECRET_KEY
    return Stored(row.version, row.last_hash, state)


def write(stream: str, code_version: str, stored: Stored) -> bool:
    """Store ``stored`` as the snapshot of ``stream``; False if another process's save
    got there first (theirs is as good)."""
    with gc_paused():
        blob = pickle.dumps(stored.state, protocol=pickle.HIGHEST_PROTOCOL)
    values = {
        "version": stored.version,
        "last_hash": stored.last_hash,
        "state": blob,
        "signature": _sign(blob),
    }
    try:
        with transaction.atomic():
            rows = Snapshot.objects.filter(stream=stream, code_version=code_version)
            if not rows.update(**values):
                Snapshot.objects.create(stream=stream, code_version=code_version, **values)
    except IntegrityError:
        return False
    return True


def queue_save(stream: str, code_version: str) -> bool:
    """Hand the save of ``stream`` to a worker; False when there is none (save it here).

    Returns at once: the outbox thread (``ledger.queueing``) asks Redis, so a command that
    crosses a save boundary never waits on the broker. A save the broker cannot take is
    kept in the outbox and queued once it answers again. Only for streams whose loader is
    registered (``ledger.states.register``): the worker folds them with it.
    """
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return False
    marker = f"ledger:snapshot-queued:{code_version}:{stream}"
    queueing.publish(
        queueing.SAVE_SNAPSHOT,
        stream,
        what=f"the snapshot of {stream}",
        if_lost="its next due save stands in for it.",
        logger=log,
        key=marker,
        once=marker,
        once_seconds=SAVE_QUEUED_SECONDS,
        keep=True,
    )
    return True


def _sign(blob: bytes) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), blob, hashlib.sha256).hexdigest()
