"""After each append commits, make sure a catch-up is on its way, without waiting on it.

- **Coalesced** (speed mechanism ``debounced-triggers``): a burst of appends queues one
  catch-up, not one per append. A Redis key (``SET NX`` with a short expiry) says "a
  catch-up is queued"; the task clears it when it starts (``catch_up_started``), so
  appends that land while it runs queue exactly one more.
- **Never in the way**: the append is already committed when this runs, and the request
  only sets a flag: a background thread per process talks to Redis (one ``SET NX`` and,
  if that wins, one publish), so a command never waits on the broker. The broker is asked
  once, with a short timeout and no retries (``ledger.queueing``); if Redis is down the
  miss is logged and the periodic sweep (Celery beat) catches up once it is back. Appends
  within a few milliseconds of each other, or while the thread is busy, share one request.
  With the mechanism off, each append queues its own catch-up from the request.
- **Embedded default** (no broker): the catch-up runs in-process right after the commit,
  so a deal team on the SQLite demo reads its own writes (waiting its turn should another
  thread be running the projections).
- **The sweep queues nothing twice**: the rebuild of a projection whose runner died is
  queued under a marker that says so (``resume_stale_rebuilds``); the rebuild task clears
  it as it starts, and a lost message costs one marker expiry.
"""

import logging
import os
import threading
import time
from typing import Any

from django.conf import settings

from ledger import queueing, speed
from ledger.projections import runner

log = logging.getLogger(__name__)

PENDING_KEY = "ledger:projections:catch-up-queued"
PENDING_SECONDS = 5
# After the first append wakes the thread it waits this long, so one request covers every
# append of the next few milliseconds (a few ms of lag against a Redis call per append).
DEBOUNCE_SECONDS = 0.005


class _Trigger:
    """The per-process thread that asks for catch-ups on the requests' behalf."""

    def __init__(self) -> None:
        self.wake = threading.Event()
        self.idle = threading.Event()
        self.idle.set()
        self.pid = os.getpid()
        self.thread = threading.Thread(target=self.run, name="projection-trigger", daemon=True)
        self.thread.start()

    def run(self) -> None:
        while True:
            self.wake.wait()
            self.idle.clear()
            time.sleep(DEBOUNCE_SECONDS)
            self.wake.clear()
            try:
                request_catch_up()
            finally:
                if not self.wake.is_set():
                    self.idle.set()


_trigger: _Trigger | None = None
_trigger_lock = threading.Lock()


def _thread() -> _Trigger:
    global _trigger
    with _trigger_lock:
        if _trigger is None or _trigger.pid != os.getpid():  # a forked child starts its own
            _trigger = _Trigger()
        return _trigger


def on_events_appended(sender: Any, **kwargs: Any) -> None:
    """Receiver of ``ledger.signals.events_appended`` (sent after commit)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        runner.catch_up_all(wait=True)
        return
    if not speed.enabled("debounced-triggers"):
        _send()
        return
    trigger = _thread()
    trigger.idle.clear()
    trigger.wake.set()


def drain(timeout: float = 5.0) -> bool:
    """Wait until this process's pending catch-up requests have been sent (tests)."""
    trigger = _trigger
    return trigger is None or trigger.pid != os.getpid() or trigger.idle.wait(timeout)


def request_catch_up() -> None:
    """Queue one catch-up of every projection unless one is already queued."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        runner.catch_up_all(wait=True)
        return
    try:
        if not queueing.broker().set(PENDING_KEY, b"1", nx=True, ex=PENDING_SECONDS):
            return  # already queued; that task will see these events too
    except Exception as error:  # the broker is down: the sweep will catch up later
        log.warning("Could not queue a projection catch-up (%s); the sweep will.", error)
        return
    _send()


def _send() -> None:
    try:
        queueing.send(queueing.CATCH_UP_PROJECTIONS)
    except Exception as error:  # the broker is down: the sweep will catch up later
        log.warning("Could not queue a projection catch-up (%s); the sweep will.", error)


def catch_up_started() -> None:
    """Called by the catch-up task as it starts: later appends must queue another."""
    queueing.release(PENDING_KEY)


# --- the sweep ----------------------------------------------------------------------------

REBUILD_QUEUED_KEY = "ledger:projections:rebuild-queued:"


def resume_stale_rebuilds() -> list[str]:
    """Queue the resumption of each rebuild whose runner stopped, unless already queued;
    returns the projections queued now."""
    queued = []
    for name in runner.stale_rebuilds():
        if not queueing.claim(REBUILD_QUEUED_KEY + name, settings.PROJECTION_STALE_REBUILD_SECONDS):
            continue  # queued by an earlier sweep and not started yet
        log.warning("Resuming the interrupted rebuild of %s", name)
        try:
            queueing.send(queueing.REBUILD_PROJECTION, name, runner.next_generation(name))
        except Exception as error:  # the broker is down: a later sweep queues it
            queueing.release(REBUILD_QUEUED_KEY + name)
            log.warning("Could not queue the rebuild of %s (%s).", name, error)
            continue
        queued.append(name)
    return queued


def rebuild_started(name: str) -> None:
    """Called by the rebuild task as it starts: should it die, a later sweep queues anew."""
    queueing.release(REBUILD_QUEUED_KEY + name)
