"""Celery tasks of the reports: they take ids and call the services that do the work
(``consortium.reports.schedules``, ``consortium.reports.delivery``), which queue them by
name. Registered in every process by ``consortium.apps``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from celery import shared_task

from consortium.reports import delivery, schedules
from consortium.reports.beat import RUN_SCHEDULE


@shared_task(name=RUN_SCHEDULE, ignore_result=True)
def run_schedule(schedule_id: int, fired_at: str | None = None) -> list[int]:
    """Run a report schedule for the period due when beat fired it (``fired_at``, ISO
    8601, added by ``consortium.reports.beat.ReportsScheduler``; now when absent)."""
    fired = dt.datetime.fromisoformat(fired_at) if fired_at else None
    return [
        run.pk for run in schedules.report_schedule_run(schedule_id=schedule_id, fired_at=fired)
    ]


@shared_task(name="consortium.reports.tasks.retry_run", ignore_result=True)
def retry_run(run_id: int) -> str:
    """Run a failed run again (asked for in the workspace)."""
    return schedules.report_run_retry(run_id=run_id).status


@shared_task(bind=True, name=delivery.SEND_DELIVERY, ignore_result=True, max_retries=None)
def send_delivery(self: Any, delivery_id: int) -> str:
    """One attempt at a delivery; retried with backoff while it is pending (the number of
    attempts is kept on the delivery, not counted by Celery). Run eagerly (the embedded
    default: no worker to come back later), the attempts follow one another at once."""
    while True:
        attempt = delivery.send_delivery(delivery_id=delivery_id)
        if attempt.retry_in is None:
            return attempt.status
        if not self.request.is_eager:
            raise self.retry(countdown=attempt.retry_in)


@shared_task(name="consortium.reports.tasks.sweep_deliveries", ignore_result=True)
def sweep_deliveries() -> int:
    """Beat's safety net: queue again the pending deliveries whose attempt never came."""
    return len(delivery.sweep_deliveries())
