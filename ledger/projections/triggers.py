"""After each append commits, make sure a catch-up is on its way, without waiting on it.

- **Coalesced**: a burst of appends queues one catch-up, not one per append. A Redis key
  (``SET NX`` with a short expiry) says "a catch-up is queued"; the task clears it when it
  starts, so appends that land while it runs queue exactly one more.
- **Never in the way**: the append is already committed when this runs, and the request
  only sets a flag: a background thread per process talks to Redis (one ``SET NX`` and,
  if that wins, one publish), so a command never waits on the broker. The broker is asked
  once, with a short timeout and no retries; if Redis is down the miss is logged and the
  periodic sweep (Celery beat) catches up once it is back. Appends within a few
  milliseconds of each other, or while the thread is busy, share one request.
- **Embedded default** (no broker): the catch-up runs in-process right after the commit,
  so a deal team on the SQLite demo reads its own writes.
"""

import logging
import os
import threading
import time
from typing import Any

import redis
from django.conf import settings

log = logging.getLogger(__name__)

PENDING_KEY = "ledger:projections:catch-up-queued"
PENDING_SECONDS = 5
# After the first append wakes the thread it waits this long, so one request covers every
# append of the next few milliseconds (a few ms of lag against a Redis call per append).
DEBOUNCE_SECONDS = 0.005

_client: "redis.Redis | None" = None


def _redis() -> "redis.Redis":
    global _client
    if _client is None:
        _client = redis.Redis.from_url(
            settings.CELERY_BROKER_URL,
            socket_connect_timeout=0.25,
            socket_timeout=0.25,
            retry_on_timeout=False,
        )
    return _client


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
        request_catch_up()
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
    from ledger import tasks

    if settings.CELERY_TASK_ALWAYS_EAGER:
        tasks.catch_up_projections()
        return
    try:
        if not _redis().set(PENDING_KEY, b"1", nx=True, ex=PENDING_SECONDS):
            return  # already queued; that task will see these events too
        tasks.catch_up_projections.apply_async(retry=False)
    except Exception as error:  # the broker is down: the sweep will catch up later
        log.warning("Could not queue a projection catch-up (%s); the sweep will.", error)


def claim(key: str, seconds: int) -> bool:
    """Set ``key`` for ``seconds`` unless it is set: True when this caller set it.

    For "queue it once": whoever claims the key queues the task. When Redis cannot be
    asked the answer is True (queue anyway: a duplicate task is harmless, a lost one not).
    """
    try:
        return bool(_redis().set(key, b"1", nx=True, ex=seconds))
    except Exception as error:
        log.warning("Could not set %s (%s); queueing anyway.", key, error)
        return True


def clear_pending() -> None:
    """Called by the catch-up task as it starts: later appends must queue another."""
    try:
        _redis().delete(PENDING_KEY)
    except Exception as error:
        log.warning("Could not clear the catch-up marker (%s).", error)
