"""Beat's scheduler (``consortium.reports.beat.ReportsScheduler``) against the real
database: the code's entries cannot be switched off, changed or deleted from the
database, and a report schedule's entry, when due, runs the schedule through to the
e-mail, here with Celery eager (the embedded default: no Redis).

The tests commit (``transaction=True``): the scheduler closes a connection it finds in
a transaction, as beat's process must (``close_old_connections``)."""

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from celery.signals import task_prerun
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks

import consortium.reports.tasks  # noqa: F401  (beat finds the tasks as its process would)
import ledger.tasks  # noqa: F401
from config.celery import app as celery_app
from consortium.models import Delivery, ReportRun, ReportSchedule, StoredReport
from consortium.reports import schedules
from consortium.reports.beat import (
    CODE_DEFINED,
    RUN_SCHEDULE,
    ReportsScheduler,
    is_code_defined,
)
from tests.consortium.reports.delivery_support import attachments
from tests.ledger.worker_support import wait_until


@pytest.fixture
def scheduler() -> Iterator[Callable[[], ReportsScheduler]]:
    """Makes beat's scheduler on this process's database; at teardown (before the test
    database goes) each one's exit-time sync is cancelled."""
    made: list[ReportsScheduler] = []

    def make() -> ReportsScheduler:
        made.append(ReportsScheduler(app=celery_app))
        return made[-1]

    yield make
    for beat in made:
        beat._finalize.cancel()


@pytest.mark.django_db(transaction=True)
def test_the_code_entries_are_written_as_the_code_says(settings, scheduler):
    beat = scheduler()
    sweep = PeriodicTask.objects.get(name="sweep-projections")
    assert sweep.enabled and sweep.task == "ledger.tasks.sweep_projections"
    assert sweep.interval is not None
    assert (sweep.interval.every, sweep.interval.period) == (
        settings.PROJECTION_SWEEP_SECONDS,
        "seconds",
    )
    # The stock scheduler drops an entry's "expires" option; the sweep keeps its own.
    assert sweep.expire_seconds == settings.PROJECTION_SWEEP_SECONDS
    assert sweep.description == CODE_DEFINED
    assert {"sweep-projections", "sweep-deliveries"} <= set(beat.schedule)
    assert is_code_defined("sweep-projections") and not is_code_defined("report-schedule-1")


@pytest.mark.django_db(transaction=True)
def test_switching_off_changing_or_deleting_a_code_entry_is_undone_at_the_next_read(scheduler):
    beat = scheduler()
    # What the admin of django_celery_beat would do: switch the sweep off, slow it to
    # hourly, and delete the delivery sweep.
    sweep = PeriodicTask.objects.get(name="sweep-projections")
    sweep.enabled = False
    sweep.interval = IntervalSchedule.objects.create(every=3600, period="seconds")
    sweep.save()
    PeriodicTask.objects.filter(name="sweep-deliveries").delete()
    assert "sweep-projections" in beat.schedule  # the change is seen, and undone
    sweep.refresh_from_db()
    assert sweep.enabled
    assert sweep.interval is not None and sweep.interval.every != 3600
    assert PeriodicTask.objects.get(name="sweep-deliveries").enabled
    assert {"sweep-projections", "sweep-deliveries"} <= set(beat.schedule)
    # Nothing differs now, so reading again writes nothing (no endless reloads).
    marker = PeriodicTasks.last_change()
    beat.schedule  # noqa: B018
    assert PeriodicTasks.last_change() == marker


@pytest.mark.django_db(transaction=True)
def test_a_disabled_report_schedule_stays_off(formed, scheduler):
    formed("aip")
    schedule = schedules.report_schedule_create(
        schedule=ReportSchedule(
            name="Off",
            kind="progress",
            cadence="daily",
            consortium="aip",
            formats=["csv"],
            timezone="UTC",
            recipients="a@example.com",
            enabled=False,
        ),
        created_by="user:alice",
    )
    beat = scheduler()
    assert f"report-schedule-{schedule.pk}" not in beat.schedule
    assert PeriodicTask.objects.get(report_schedule=schedule).enabled is False


def due_now(schedule: ReportSchedule) -> dt.datetime:
    """Make the schedule's entry due: its time two minutes ago (UTC), last run two days
    ago. Returns the due time."""
    due = (timezone.now() - dt.timedelta(minutes=2)).replace(second=0, microsecond=0)
    schedule.hour, schedule.minute = due.hour, due.minute
    schedules.report_schedule_update(schedule=schedule)
    PeriodicTask.objects.filter(report_schedule=schedule).update(
        last_run_at=timezone.now() - dt.timedelta(days=2)
    )
    return due


def tick_until(beat: ReportsScheduler, done: Any, *, timeout: float) -> None:
    """Beat's own loop, in this process: one tick at a time until ``done()``."""

    def ticked() -> bool:
        beat.tick()
        return bool(done())

    wait_until(ticked, timeout=timeout, interval=0.2, what="the schedule's run")


@pytest.mark.django_db(transaction=True)
def test_eager_beat_runs_the_schedule_and_mails_the_report(formed, smtp, media, eager, scheduler):
    """The embedded default: beat's scheduler ticks in this process and Celery runs each
    task where it is sent, so the whole flow needs no Redis."""
    formed("aip")
    schedule = schedules.report_schedule_create(
        schedule=ReportSchedule(
            name="AIP daily progress",
            kind="progress",
            cadence="daily",
            consortium="aip",
            formats=["csv", "html"],
            timezone="UTC",
            recipients="committee@aip.example",
        ),
        created_by="user:alice",
    )
    due = due_now(schedule)
    started: list[dict[str, Any]] = []

    def seen(sender: Any = None, kwargs: Any = None, **_: Any) -> None:
        if sender is not None and sender.name == RUN_SCHEDULE:
            started.append(dict(kwargs or {}))

    task_prerun.connect(seen)
    try:
        tick_until(scheduler(), lambda: ReportRun.objects.exists(), timeout=30)
    finally:
        task_prerun.disconnect(seen)
    # Beat said when it fired, so a late worker would still report this period.
    (fired,) = started
    assert fired["schedule_id"] == schedule.pk
    assert due <= dt.datetime.fromisoformat(fired["fired_at"]) <= timezone.now()
    run = ReportRun.objects.get()
    assert (run.status, run.error) == ("done", "")
    assert run.period == (due.date() - dt.timedelta(days=1)).isoformat()
    assert run.due_at == due
    delivery = Delivery.objects.get(run=run)
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    (message,) = smtp.mailbox.to("committee@aip.example")
    assert message["Message-ID"] == delivery.message_id
    stored = {r.filename: r for r in StoredReport.objects.filter(run=run)}
    files = attachments(message)
    assert set(files) == set(stored)
    for name, report in stored.items():
        with report.file.open("rb") as file:
            assert files[name] == (report.content_type.partition(";")[0], file.read())
    html = message.get_body(("html",))
    assert html is not None and "AIP" in html.get_content()
    task = PeriodicTask.objects.get(report_schedule=schedule)
    assert json.loads(task.kwargs) == {"schedule_id": schedule.pk}  # fired_at is per firing
