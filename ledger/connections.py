"""Database connections at the start of every Celery task, as at the start of a request.

Django re-arms its connection health checks (``CONN_HEALTH_CHECKS``) and drops obsolete
or broken connections on ``request_started`` and ``request_finished``
(``close_old_connections``); no request signal fires in a Celery worker. Celery's own
Django fix-up closes a worker's connections around each task unless
``CELERY_DB_REUSE_MAX`` keeps them, and does nothing for a task run in-process. So every
task starts here (``task_prerun``): each of the thread's connections outside a
transaction goes if it is past ``CONN_MAX_AGE`` or broke, and is otherwise health-checked
before its first statement, so a connection PostgreSQL dropped while the worker was idle
costs the task a reconnect, never a failure. A connection with a transaction open, and
a task run in-process (eager: part of its caller's request), are left alone.
"""

from typing import Any

from django.db import connections


def before_task(task: Any = None, **_signal: Any) -> None:
    """``task_prerun``: what ``close_old_connections`` does for a request, per connection
    this thread opened and has no transaction open on. A task run in-process (eager) is
    part of its caller's request, whose start did this already."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    for wrapper in connections.all(initialized_only=True):
        if not wrapper.in_atomic_block:
            wrapper.close_if_unusable_or_obsolete()
