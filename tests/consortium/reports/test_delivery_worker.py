"""A report schedule through the production topology: beat's scheduler fires the entry,
a real Celery worker (its own process, on a private ``redis-server``) generates and stores
the report and sends it to a real SMTP server on 127.0.0.1 (aiosmtpd, in this test).

How beat fires: this test drives ``ReportsScheduler.tick()`` (the loop ``celery beat``
runs) in its own process against the real test database and the private Redis, so the
worker receives ``run_schedule`` from Redis exactly as from a beat process. A separate
``celery beat`` process would fire only at a crontab minute boundary (up to a minute's
wait, or a test that depends on the wall clock's seconds); ticking the same scheduler
class fires the moment the entry is due, and the rest of the path is the real one.

PostgreSQL only (the worker reads the test database, so the test commits); skipped on
the embedded SQLite run, where ``test_schedules_beat`` covers the eager flow.
"""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

import consortium.reports.tasks  # noqa: F401  (the scheduler finds the tasks by name)
import ledger.tasks  # noqa: F401
from config.celery import app as celery_app
from consortium.models import Delivery, ReportRun, ReportSchedule, StoredReport
from consortium.reports import schedules
from consortium.reports.beat import ReportsScheduler
from consortium.reports.tasks import send_delivery
from tests.consortium.reports.delivery_support import SMTPServer, attachments
from tests.ledger.worker_support import Processes, RedisServer, private_broker, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BUSY = "451 4.3.0 Mailbox busy, try again later"
SENT = "Task consortium.reports.tasks.send_delivery["


@pytest.fixture
def broker(
    postgres_only: None,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RedisServer]:
    """A private redis-server, and this process's Celery app publishing to it."""
    with private_broker(settings, monkeypatch, tmp_path_factory.mktemp("delivery-logs")) as server:
        yield server


@pytest.fixture
def worker(
    broker: RedisServer, smtp: SMTPServer, media: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Processes]:
    processes = Processes(broker, tmp_path_factory, sweep_seconds=5, stale_rebuild_seconds=30)
    processes.env.update(
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp.port),
        EMAIL_TIMEOUT="10",
        DEFAULT_FROM_EMAIL="reports@consortium.test",
        REPORTS_MESSAGE_ID_DOMAIN="consortium.test",
        DJANGO_MEDIA_ROOT=str(media),
        REPORTS_DELIVERY_MAX_ATTEMPTS="3",
        REPORTS_DELIVERY_RETRY_SECONDS="1",
    )
    with processes.running():
        processes.worker()
        yield processes


@pytest.fixture
def beat() -> Iterator[ReportsScheduler]:
    scheduler = ReportsScheduler(app=celery_app)
    yield scheduler
    scheduler._finalize.cancel()  # no exit-time sync after the test database is gone


def test_beat_fires_the_worker_stores_and_mails_and_a_busy_server_is_retried_then_failed(
    formed, smtp: SMTPServer, worker: Processes, beat: ReportsScheduler
) -> None:
    formed("aip")
    smtp.mailbox.refuse["busy@aip.example"] = BUSY
    due = (timezone.now() - dt.timedelta(minutes=2)).replace(second=0, microsecond=0)
    schedule = schedules.report_schedule_create(
        schedule=ReportSchedule(
            name="AIP daily progress",
            kind="progress",
            cadence="daily",
            consortium="aip",
            formats=["xlsx", "csv"],
            timezone="UTC",
            hour=due.hour,
            minute=due.minute,
            recipients="committee@aip.example\nbusy@aip.example",
        ),
        created_by="user:alice",
    )
    # Last fired two days ago: the entry is due now.
    PeriodicTask.objects.filter(report_schedule=schedule).update(
        last_run_at=timezone.now() - dt.timedelta(days=2)
    )

    def fired() -> bool:
        beat.tick()
        return PeriodicTask.objects.get(report_schedule=schedule).total_run_count > 0

    wait_until(fired, timeout=30, interval=0.2, what="beat to fire the schedule")
    wait_until(
        lambda: ReportRun.objects.filter(status__in=["done", "failed"]).exists(),
        timeout=120,
        what="the worker's run",
    )
    run = ReportRun.objects.get()
    assert (run.status, run.error) == ("done", "")
    assert run.period == (due.date() - dt.timedelta(days=1)).isoformat()
    ok = Delivery.objects.get(recipient="committee@aip.example")
    busy = Delivery.objects.get(recipient="busy@aip.example")
    wait_until(
        lambda: Delivery.objects.filter(status="pending").count() == 0,
        timeout=60,
        what="both deliveries to settle",
    )
    ok.refresh_from_db()
    busy.refresh_from_db()
    assert (ok.status, ok.attempts, ok.last_error) == ("sent", 1, "")
    assert (busy.status, busy.attempts) == ("failed", 3)
    assert "451" in busy.last_error and busy.sent_at is None
    assert smtp.mailbox.refusals == ["busy@aip.example"] * 3

    (message,) = smtp.mailbox.to("committee@aip.example")
    assert message["Message-ID"] == ok.message_id
    stored = {r.filename: r for r in StoredReport.objects.filter(run=run)}
    assert {r.format for r in stored.values()} == {"xlsx", "csv"}
    files = attachments(message)
    assert set(files) == set(stored)
    for name, report in stored.items():
        with report.file.open("rb") as file:
            assert files[name] == (report.content_type.partition(";")[0], file.read())

    # A duplicated task for the acknowledged delivery: the worker runs it, sends nothing.
    finished = worker.all[0].output().count(SENT)
    send_delivery.delay(ok.pk)
    wait_until(
        lambda: worker.all[0].output().count(SENT) > finished, timeout=30, what="the duplicate task"
    )
    wait_until(
        lambda: "succeeded" in worker.all[0].output().rsplit(SENT, 1)[1],
        timeout=30,
        what="the duplicate task to finish",
    )
    assert len(smtp.mailbox.to("committee@aip.example")) == 1
    ok.refresh_from_db()
    assert ok.attempts == 1
