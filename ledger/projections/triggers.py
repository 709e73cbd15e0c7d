"""After each append commits, make sure a catch-up is on its way, without waiting on it.

- **Never in the way**: the append is already committed when this runs, and the request
  only hands a message to this process's outbox (``ledger.queueing.publish``); the
  outbox's thread talks to Redis, with bounded timeouts, so a command never waits on the
  broker, even one that hangs. If Redis is down or hung the miss is logged and the
  periodic sweep (Celery beat) catches up once it is back.
- **Coalesced** (speed mechanism ``debounced-triggers``): a burst of appends queues one
  catch-up, not one per append. The messages share one outbox entry, and a Redis marker
  (``SET NX`` with a short expiry, set by the outbox thread) says "a catch-up is queued"
  across processes; the task clears it when it starts (``catch_up_started``), so appends
  that land while it runs queue exactly one more. With the mechanism off, each append
  queues a catch-up of its own (still from the outbox thread).
- **Embedded default** (no broker): the catch-up runs in-process right after the commit,
  so a deal team on the SQLite demo reads its own writes (waiting its turn should another
  thread be running the projections).
- **The sweep queues nothing twice**: the rebuild of a projection whose runner died is
  queued under a marker that says so (``resume_stale_rebuilds``); the rebuild task clears
  it as it starts, and a lost message costs one marker expiry.
"""

import logging
from typing import Any

from django.conf import settings

from ledger import queueing, speed
from ledger.projections import runner

log = logging.getLogger(__name__)

PENDING_KEY = "ledger:projections:catch-up-queued"
PENDING_SECONDS = 5
WHAT = "a projection catch-up"
IF_LOST = "the sweep will catch up."


def on_events_appended(sender: Any, **kwargs: Any) -> None:
    """Receiver of ``ledger.signals.events_appended`` (sent after commit)."""
    if speed.enabled("debounced-triggers"):
        request_catch_up()
    elif settings.CELERY_TASK_ALWAYS_EAGER:
        runner.catch_up_all(wait=True)
    else:
        queueing.publish(queueing.CATCH_UP_PROJECTIONS, what=WHAT, if_lost=IF_LOST, logger=log)


def drain(timeout: float = 5.0) -> bool:
    """Wait until this process's pending catch-up requests have been sent (tests)."""
    return queueing.drain(timeout)


def request_catch_up() -> None:
    """Queue one catch-up of every projection unless one is already queued (appends call
    it, and a task that hands over to a fresh one; it goes through the outbox like every
    publish). On the embedded default, catch up here and now."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        runner.catch_up_all(wait=True)
        return
    queueing.publish(
        queueing.CATCH_UP_PROJECTIONS,
        what=WHAT,
        if_lost=IF_LOST,
        logger=log,
        key=PENDING_KEY,
        once=PENDING_KEY,
        once_seconds=PENDING_SECONDS,
    )


def catch_up_started() -> None:
    """Called by the catch-up task as it starts: later appends must queue another."""
    queueing.release(PENDING_KEY)


# --- the sweep ----------------------------------------------------------------------------

REBUILD_QUEUED_KEY = "ledger:projections:rebuild-queued:"


def resume_stale_rebuilds() -> list[str]:
    """Queue the resumption of each rebuild whose runner stopped, unless already queued
    (through the outbox, as every publish: the marker is asked by its thread); returns the
    projections handed to the outbox now."""
    queued = []
    for name in runner.stale_rebuilds():
        log.warning("Resuming the interrupted rebuild of %s", name)
        handed = queueing.publish(
            queueing.REBUILD_PROJECTION,
            name,
            runner.next_generation(name),
            what=f"the resumption of the rebuild of {name}",
            if_lost="a later sweep queues it once its marker expires.",
            logger=log,
            key=("rebuild", name),
            once=REBUILD_QUEUED_KEY + name,
            once_seconds=settings.PROJECTION_STALE_REBUILD_SECONDS,
        )
        if handed:
            queued.append(name)
    return queued


def rebuild_started(name: str) -> None:
    """Called by the rebuild task as it starts: should it die, a later sweep queues anew.
    (Without a broker there is no marker: the eager task runs where it was asked.)"""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return
    queueing.release(REBUILD_QUEUED_KEY + name)
