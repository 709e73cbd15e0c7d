"""Queueing the ledger's background work from a request: by task name, at most once.

The code that decides work is due (an append's trigger, a snapshot save) sends the task
by name; ``ledger.tasks`` defines the tasks under these names and calls that code. So
the dependency runs one way, from the tasks to what they run, and a request never
imports the worker's side.

Whatever is asked of the broker is asked once, with a short timeout and no retries: a
request is never held up by a broker that is down (the periodic sweep makes up for a
lost catch-up, and the next due save for a lost save).
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from celery import current_app
from django.conf import settings

log = logging.getLogger(__name__)

CATCH_UP_PROJECTIONS = "ledger.tasks.catch_up_projections"
SAVE_SNAPSHOT = "ledger.tasks.save_snapshot"
SWEEP_PROJECTIONS = "ledger.tasks.sweep_projections"
REBUILD_PROJECTION = "ledger.tasks.rebuild_projection"

_client: tuple[str, redis.Redis] | None = None


def broker() -> redis.Redis:
    """A Redis client on the broker, with short timeouts (requests must not wait on it).

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
                url, socket_connect_timeout=0.25, socket_timeout=0.25, retry_on_timeout=False
            ),
        )
    return _client[1]


def send(task: str, *args: Any) -> None:
    """Queue ``task`` (one of the names above) with ``args``; publishing is not retried."""
    current_app.send_task(task, args, retry=False)


def claim(key: str, seconds: int) -> bool:
    """Set ``key`` for ``seconds`` unless it is set: True when this caller set it.

    For "queue it once": whoever claims the key queues the task. When Redis cannot be
    asked the answer is True (queue anyway: a duplicate task is harmless, a lost one not).
    """
    try:
        return bool(broker().set(key, b"1", nx=True, ex=seconds))
    except Exception as error:
        log.warning("Could not set %s (%s); queueing anyway.", key, error)
        return True


def release(key: str) -> None:
    """Delete ``key`` (the work it stood for has started: later requests queue anew)."""
    try:
        broker().delete(key)
    except Exception as error:
        log.warning("Could not clear %s (%s).", key, error)
