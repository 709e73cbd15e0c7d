"""``manage.py projections_status``: checkpoints, lag and errors of every projection, and
the broker's queued and unacknowledged messages."""

import json
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ledger import queueing
from ledger.projections import runner

# Where kombu's Redis transport keeps messages delivered to a worker and not yet
# acknowledged (a hash by delivery tag, and their delivery times in a sorted set).
UNACKED_KEY = "unacked"
UNACKED_INDEX_KEY = "unacked_index"
DEFAULT_QUEUE = "celery"


class Command(BaseCommand):
    help = (
        "Show each projection's checkpoint, the ledger head, the lag in events and seconds, "
        "rebuild progress and the last error; then the broker's queued messages and the "
        "unacknowledged ones (redelivered after the visibility timeout). Exits non-zero "
        "when a projection is stopped on an error."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        rows = runner.status(held=True)
        self.stdout.write(
            f"{'projection':<16} {'checkpoint':>10} {'head':>10} {'lag':>8} {'lag s':>8}  state"
        )
        failed = [row.name for row in rows if row.stopped]
        for row in rows:
            held = f"; {' and '.join(row.held_by)} now" if row.held_by else ""
            self.stdout.write(
                f"{row.name:<16} {row.checkpoint:>10,} {row.head:>10,} {row.lag_events:>8,} "
                f"{row.lag_seconds:>8.1f}  {row.state()} (generation {row.generation}{held})"
            )
        self.stdout.write(broker_lines())
        if failed:
            raise CommandError(f"Stopped on an error: {', '.join(failed)}.")


def broker_lines() -> str:
    """The broker's side: queued messages, and those delivered but not acknowledged.

    A message stays unacknowledged while its task runs (rebuilds acknowledge at the end)
    or waits prefetched in a worker; one whose worker died stays until it is older than
    the visibility timeout, when Redis hands it out again.
    """
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "broker: none (tasks run in-process)"
    timeout = float(settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600))
    try:
        client = queueing.broker()
        queued = int(client.llen(DEFAULT_QUEUE))
        unacked = int(client.zcard(UNACKED_INDEX_KEY))
        oldest = client.zrange(UNACKED_INDEX_KEY, 0, 0, withscores=True)
        task = _task_of(client.hget(UNACKED_KEY, oldest[0][0])) if oldest else ""
    except Exception as error:  # the broker is down or hung: say so, the rest stands
        return f"broker: unreachable ({error})"
    lines = [
        f"broker: {queued:,} queued; {unacked:,} unacknowledged "
        f"(visibility timeout {timeout:.0f} s: a message whose worker died is "
        "redelivered once it is that old)"
    ]
    if oldest:
        age = max(time.time() - float(oldest[0][1]), 0.0)
        due = max(timeout - age, 0.0)
        lines.append(
            f"  oldest unacknowledged: {task or 'unknown task'}, delivered {age:.0f} s ago, "
            f"redelivered in {due:.0f} s if still unacknowledged"
        )
    return "\n".join(lines)


def _task_of(raw: bytes | str | None) -> str:
    """The task name in a stored unacknowledged message ([message, exchange, key])."""
    if not raw:
        return ""
    try:
        message = json.loads(raw)[0]
        return str(message.get("headers", {}).get("task", ""))
    except (ValueError, TypeError, IndexError, AttributeError):
        return ""
