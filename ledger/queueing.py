"""Queueing the ledger's background work: by task name, from one thread, never in the way.

The code that decides work is due (an append's trigger, a snapshot save) names the task;
``ledger.tasks`` defines the tasks under these names and calls that code. So the
dependency runs one way, from the tasks to what they run, and a request never imports the
worker's side.

**No request waits on the broker.** A request only ``publish``-es a message into this
process's outbox and returns; one daemon thread per process (``ledger-outbox``) does every
round trip to Redis on the requests' behalf: the "queue it once" markers (``SET NX``) and
the Celery publishes. A broker that refuses connections, or accepts them and never answers
(a hung or SIGSTOPped Redis: the kernel still completes the TCP handshake), costs a
request a dictionary insert under a lock that is never held across I/O.

- **Bounded waits.** The thread publishes on a Celery connection of its own whose Redis
  sockets time out on every read and write (``BROKER_TIMEOUT``), with no retries. Celery's
  pooled producer only bounds connecting (``CELERY_BROKER_CONNECTION_TIMEOUT``): a publish
  on it waits forever on a hung server, and so would whoever made it.
- **Bounded memory, coalesced.** Messages with the same key share one entry (a burst of
  appends asks for one catch-up; a stream's due save is one entry however often it is
  asked for). At most ``MAX_PENDING`` entries wait; a message that finds the outbox full is
  dropped and logged, never waited for.
- **What a failure loses.** After a failed round trip the thread leaves the broker alone
  for a back-off (``RETRY_FIRST_SECONDS`` doubling to ``RETRY_MAX_SECONDS``). A message
  published with ``keep=False`` (a catch-up: beat's sweep catches up anyway) is dropped
  when its attempt fails; one with ``keep=True`` (a snapshot save: nothing else asks for
  it until the stream's next save is due) waits in the outbox and is sent once the broker
  answers again. A timed-out publish may still reach Redis when it wakes up; every task
  queued this way is harmless twice.
- **Debounced**: woken by a message, the thread waits ``DEBOUNCE_SECONDS`` before its
  round, so the appends of the next few milliseconds share one entry (speed mechanism
  ``debounced-triggers``).

The worker's side (``release`` when a task starts) talks to Redis directly, with the
same short timeouts: it is no request, and it must clear its marker before it reads.
On the embedded default (eager Celery, no broker) nothing reaches this module: callers
do the work in-process.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import os
import threading
import time
from collections.abc import Hashable
from typing import Any

import redis
from celery import current_app
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

CATCH_UP_PROJECTIONS = "ledger.tasks.catch_up_projections"
SAVE_SNAPSHOT = "ledger.tasks.save_snapshot"
SWEEP_PROJECTIONS = "ledger.tasks.sweep_projections"
REBUILD_PROJECTION = "ledger.tasks.rebuild_projection"

# Seconds any one read or write to the broker may take (connecting included). Only the
# outbox thread and the workers ever wait this long; a request never does.
BROKER_TIMEOUT = 1.0
MAX_PENDING = 1000  # distinct messages waiting (and one being sent); more are dropped, logged
DEBOUNCE_SECONDS = 0.005
RETRY_FIRST_SECONDS = 0.5
RETRY_MAX_SECONDS = 5.0

_client: tuple[str, redis.Redis] | None = None


def broker() -> redis.Redis:
    """A Redis client on the broker with short timeouts and no retries.

    One per process, made again if ``CELERY_BROKER_URL`` changes (tests point it at a
    server of their own).
    """
    global _client
    url = settings.CELERY_BROKER_URL
    if _client is None or _client[0] != url:
        if _client is not None:
            _client[1].close()
        _client = (
            url,
            redis.Redis.from_url(
                url,
                socket_connect_timeout=BROKER_TIMEOUT,
                socket_timeout=BROKER_TIMEOUT,
                retry=Retry(NoBackoff(), 0),
            ),
        )
    return _client[1]


def release(key: str) -> None:
    """Delete ``key`` (the work it stood for has started: later requests queue anew).

    Called by workers, not requests: the task clears its marker before it reads, so an
    append that lands meanwhile queues another task.
    """
    try:
        broker().delete(key)
    except Exception as error:
        log.warning("Could not clear %s (%s).", key, error)


@dataclasses.dataclass
class Message:
    """One task to queue: what to say if it is lost, and whether to keep it for a retry."""

    task: str
    args: tuple[Any, ...]
    what: str  # "a projection catch-up": for the log
    if_lost: str  # what makes up for it when it is dropped: for the log
    logger: logging.Logger  # the caller's, so a miss is logged where its cause lives
    once: str | None = None  # queue only if this marker can be set (for ``once_seconds``)
    once_seconds: int = 0
    keep: bool = False  # kept for the next attempt when the broker fails
    claimed: bool = False  # the marker is ours (or could not be asked): just send


_unique = itertools.count()


def publish(
    task: str,
    *args: Any,
    what: str,
    if_lost: str = "nothing else asks for it.",
    logger: logging.Logger | None = None,
    key: Hashable | None = None,
    once: str | None = None,
    once_seconds: int = 0,
    keep: bool = False,
) -> bool:
    """Hand ``task`` to the outbox thread and return at once; never touches the broker.

    ``key``: messages with the same key share one entry (None: never shared). ``once``:
    the thread queues the task only if it can set this Redis marker (``SET NX`` for
    ``once_seconds``), so one process in many queues it; a marker that cannot be asked
    counts as won (a duplicate task is harmless, a lost one not). ``keep``: a message the
    broker fails to take waits for its next attempt instead of being dropped (``what``
    and ``if_lost`` are logged when one is lost). False when the outbox is full and the
    message was dropped.
    """
    message = Message(task, args, what, if_lost, logger or log, once, once_seconds, keep)
    return _outbox().put(("unique", next(_unique)) if key is None else key, message)


def drain(timeout: float = 5.0) -> bool:
    """Wait until this process's outbox is empty and its thread idle (tests, benchmarks)."""
    outbox = _the_outbox
    return outbox is None or outbox.pid != os.getpid() or outbox.idle.wait(timeout)


def pending() -> int:
    """Messages waiting in this process's outbox."""
    outbox = _the_outbox
    return 0 if outbox is None or outbox.pid != os.getpid() else len(outbox.messages)


def send(task: str, *args: Any) -> None:
    """Publish ``task`` now, on the outbox thread's connection (call it on that thread)."""
    current_app.send_task(task, args, connection=_connection(), retry=False)


def claim(key: str, seconds: int) -> bool:
    """Set ``key`` for ``seconds`` unless it is set: True when this caller set it (raises
    when the broker cannot be asked)."""
    return bool(broker().set(key, b"1", nx=True, ex=seconds))


_write: tuple[str, Any] | None = None  # the outbox thread's Celery connection, by URL


def _connection() -> Any:
    global _write
    url = current_app.conf.broker_write_url
    if _write is None or _write[0] != url:
        _forget_connection()
        options = {
            "socket_timeout": BROKER_TIMEOUT,
            "socket_connect_timeout": BROKER_TIMEOUT,
            "retry_on_timeout": False,
            "max_retries": 0,  # kombu's connect retries; bounded by BROKER_TIMEOUT anyway
        }
        _write = (url, current_app.connection_for_write(url, transport_options=options))
    return _write[1]


def _forget_connection() -> None:
    """Close the thread's connection (no round trip): the next send starts afresh, with
    no memory of queues it declared on a server that may have restarted empty."""
    global _write
    if _write is not None:
        connection, _write = _write[1], None
        try:
            connection.release()
        except Exception as error:
            log.debug("Closing the broker connection failed (%s)", error)


class _Outbox:
    """The per-process queue of messages and the thread that sends them."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.messages: dict[Hashable, Message] = {}  # insertion order is sending order
        self.wake = threading.Event()
        self.idle = threading.Event()
        self.idle.set()
        self.retry_after = 0.0  # monotonic time before which the broker is left alone
        self.backoff = 0.0
        self.dropped = 0
        self.thread = threading.Thread(target=self.run, name="ledger-outbox", daemon=True)
        self.thread.start()

    def put(self, key: Hashable, message: Message) -> bool:
        with self.lock:
            full = key not in self.messages and len(self.messages) >= MAX_PENDING
            dropped = 0
            if full:
                self.dropped += 1
                dropped = self.dropped
            else:
                self.messages.setdefault(key, message)
            self.idle.clear()
            self.wake.set()
        if full and (dropped == 1 or dropped % MAX_PENDING == 0):  # not a line per request
            message.logger.warning(
                "Could not queue %s: %s messages already wait for the broker (%s dropped "
                "so far); %s",
                message.what,
                MAX_PENDING,
                dropped,
                message.if_lost,
            )
        return not full

    def run(self) -> None:
        while True:
            self.wake.wait()
            wait = max(DEBOUNCE_SECONDS, self.retry_after - time.monotonic())
            time.sleep(wait)
            self.wake.clear()
            try:
                self.send_round()
            except Exception:  # a bug here must not stop the thread (requests go on anyway)
                log.exception("The outbox thread failed a round; it carries on.")
            with self.lock:
                if not self.messages and not self.wake.is_set():
                    self.idle.set()
                elif self.messages:
                    self.wake.set()  # kept messages: try again after the back-off

    def send_round(self) -> None:
        """Send what waits, oldest first, until the broker fails once.

        A message leaves the outbox before it is sent, so one published meanwhile under
        its key gets an entry (and a round trip) of its own: an append that lands after
        its catch-up's marker was asked is never folded into that answer.
        """
        while True:
            with self.lock:
                if not self.messages:
                    return
                key = next(iter(self.messages))
                message = self.messages.pop(key)
            try:
                self.deliver(message)
            except Exception as error:
                self.failed(key, message, error)
                return
            self.backoff = 0.0

    def deliver(self, message: Message) -> None:
        if message.once is not None and not message.claimed:
            try:
                won = claim(message.once, message.once_seconds)
            except Exception as error:
                message.logger.warning(
                    "Could not set %s (%s); queueing anyway.", message.once, error
                )
                won = True
            message.claimed = True
            if not won:
                return  # another process queued it moments ago
        send(message.task, *message.args)

    def failed(self, key: Hashable, message: Message, error: Exception) -> None:
        """Back off; keep what must be kept, drop what something else makes up for."""
        _forget_connection()
        self.backoff = min(RETRY_MAX_SECONDS, max(RETRY_FIRST_SECONDS, self.backoff * 2))
        self.retry_after = time.monotonic() + self.backoff
        with self.lock:
            if message.keep:
                newer = self.messages.setdefault(key, message)
                newer.claimed = newer.claimed or message.claimed  # the marker may be ours
            lost = [message] if not message.keep else []
            for k in [k for k, m in self.messages.items() if not m.keep]:
                lost.append(self.messages.pop(k))
            kept = len(self.messages)
        if message.keep:
            message.logger.warning(
                "Could not queue %s (%s); trying again in %.1f s (%s kept).",
                message.what,
                error,
                self.backoff,
                kept,
            )
        for m in lost:
            m.logger.warning("Could not queue %s (%s); %s", m.what, error, m.if_lost)


_the_outbox: _Outbox | None = None
_outbox_lock = threading.Lock()


def _outbox() -> _Outbox:
    global _the_outbox
    outbox = _the_outbox
    if outbox is not None and outbox.pid == os.getpid():
        return outbox
    with _outbox_lock:
        if _the_outbox is None or _the_outbox.pid != os.getpid():  # a forked child: its own
            _the_outbox = _Outbox()
        return _the_outbox
