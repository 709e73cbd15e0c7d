"""Report schedules: saved with their beat entries in step, refused with clear errors,
and the period each firing reports, across daylight-saving changes."""

import datetime as dt
import json
import zoneinfo
from typing import Any

import pytest
from django_celery_beat.models import CrontabSchedule, PeriodicTask
from django_celery_beat.tzcrontab import TzAwareCrontab

from consortium.models import ReportRun, ReportSchedule
from consortium.reports import schedules
from consortium.reports.beat import RUN_SCHEDULE
from consortium.reports.schedules import ScheduleError, due_at, due_period

UTC = dt.UTC
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


def schedule_of(**fields: object) -> ReportSchedule:
    values: dict[str, object] = {
        "name": "AIP daily progress",
        "kind": "progress",
        "cadence": "daily",
        "consortium": "aip",
        "formats": ["csv"],
        "timezone": "Europe/London",
        "hour": 7,
        "minute": 0,
        "recipients": "committee@example.com",
    }
    values.update(fields)
    return ReportSchedule(**values)


@pytest.fixture
def aip(formed) -> str:
    return str(formed("aip"))


# --- saving -------------------------------------------------------------------------------


def test_a_new_schedule_gets_a_crontab_entry_in_its_time_zone(aip):
    schedule = schedules.report_schedule_create(
        schedule=schedule_of(
            timezone="America/New_York",
            hour=6,
            minute=15,
            formats=["xlsx", "csv", "csv"],
            recipients="a@example.com\nA@example.com, b@example.com",
        ),
        created_by="user:alice",
    )
    task = PeriodicTask.objects.get(report_schedule=schedule)
    crontab = task.crontab
    assert crontab is not None
    assert task.task == RUN_SCHEDULE
    assert json.loads(task.kwargs) == {"schedule_id": schedule.pk}
    assert task.enabled
    assert (crontab.hour, crontab.minute, crontab.day_of_month) == ("6", "15", "*")
    assert str(crontab.timezone) == "America/New_York"
    assert schedule.formats == ["xlsx", "csv"]
    assert schedule.recipients == "a@example.com\nb@example.com"
    assert schedule.created_by == "user:alice"


def test_changing_a_schedule_changes_its_entry_and_disabling_it_disables_the_entry(aip):
    schedule = schedules.report_schedule_create(schedule=schedule_of(), created_by="user:alice")
    entry_id = schedule.periodic_task_id
    schedule.cadence, schedule.day_of_month, schedule.hour = "monthly", 3, 8
    schedule.timezone, schedule.enabled = "Asia/Tokyo", False
    schedules.report_schedule_update(schedule=schedule)
    task = PeriodicTask.objects.get(report_schedule=schedule)
    assert task.pk == entry_id
    crontab = task.crontab
    assert crontab is not None
    assert (crontab.hour, crontab.day_of_month) == ("8", "3")
    assert str(crontab.timezone) == "Asia/Tokyo"
    assert task.enabled is False
    assert PeriodicTask.objects.filter(task=RUN_SCHEDULE).count() == 1


def test_a_lost_entry_is_made_again_on_the_next_change(aip):
    schedule = schedules.report_schedule_create(schedule=schedule_of(), created_by="user:alice")
    PeriodicTask.objects.filter(report_schedule=schedule).delete()
    schedule.refresh_from_db()
    assert schedule.periodic_task is None
    schedules.report_schedule_update(schedule=schedule)
    assert PeriodicTask.objects.get(report_schedule=schedule).enabled


def test_a_schedule_that_never_ran_is_deleted_with_its_entry(aip):
    schedule = schedules.report_schedule_create(schedule=schedule_of(), created_by="user:alice")
    schedules.report_schedule_delete(schedule=schedule)
    assert not ReportSchedule.objects.exists()
    assert not PeriodicTask.objects.filter(task=RUN_SCHEDULE).exists()


def test_a_schedule_that_ran_is_kept_as_the_record(aip):
    schedule = schedules.report_schedule_create(schedule=schedule_of(), created_by="user:alice")
    ReportRun.objects.create(
        schedule=schedule,
        period="2026-01-01",
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 1, 1),
        due_at=utc(2026, 1, 2, 7),
    )
    with pytest.raises(ScheduleError, match="Disable it instead"):
        schedules.report_schedule_delete(schedule=schedule)
    assert ReportSchedule.objects.filter(pk=schedule.pk, periodic_task__isnull=False).exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"timezone": "Europe/Londn"}, "timezone", "Unknown time zone 'Europe/Londn'"),
        ({"timezone": ""}, "timezone", "Unknown time zone"),
        ({"formats": ["docx"]}, "formats", "Unknown: docx"),
        ({"formats": []}, "formats", "Choose one or more of xlsx, csv, html."),
        ({"formats": ["csv", "pdf"]}, "formats", "comes as xlsx, csv, html, not as pdf"),
        ({"kind": "notice"}, "kind", "notices are made when a call is issued"),
        ({"consortium": "nope"}, "consortium", "no consortium 'nope'"),
        ({"recipients": "ok@example.com\nnot-an-address"}, "recipients", "'not-an-address'"),
        ({"recipients": ""}, "recipients", "at least one recipient"),
        ({"send_to_partners": True}, "send_to_partners", "Only statements"),
        ({"kind": "ownership"}, "asset_id", "needs the asset"),
        ({"kind": "ownership", "asset_id": "x"}, "asset_id", "no asset 'x'"),
        ({"cadence": "weekly"}, "cadence", "daily or monthly"),
        ({"hour": 24}, "hour", "0 to 23"),
        ({"day_of_month": 31}, "day_of_month", "1 to 28"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error_and_nothing_saved(aip, fields, field, message):
    with pytest.raises(ScheduleError) as refused:
        schedules.report_schedule_create(schedule=schedule_of(**fields), created_by="user:alice")
    assert message in refused.value.errors[field]
    assert not ReportSchedule.objects.exists()
    assert not PeriodicTask.objects.filter(task=RUN_SCHEDULE).exists()
    assert not CrontabSchedule.objects.filter(hour="7", minute="0").exists()


def test_a_statement_schedule_may_go_to_partners_alone(aip):
    schedule = schedules.report_schedule_create(
        schedule=schedule_of(
            kind="statement", formats=["pdf", "csv"], recipients="", send_to_partners=True
        ),
        created_by="user:alice",
    )
    assert schedule.formats == ["csv", "pdf"]


def test_a_second_schedule_with_the_same_name_is_refused(aip):
    schedules.report_schedule_create(schedule=schedule_of(), created_by="user:alice")
    with pytest.raises(ScheduleError) as refused:
        schedules.report_schedule_create(schedule=schedule_of(), created_by="user:alice")
    assert "exists" in refused.value.errors["name"]
    assert ReportSchedule.objects.count() == 1
    assert PeriodicTask.objects.filter(task=RUN_SCHEDULE).count() == 1


# --- periods ------------------------------------------------------------------------------


def test_a_daily_pack_reports_the_previous_local_day_even_when_run_hours_late():
    schedule = schedule_of(timezone="Asia/Tokyo", hour=7)  # 07:00 Tokyo is 22:00 UTC
    on_time = due_period(schedule, utc(2026, 5, 11, 22, 0))
    assert on_time == (
        "2026-05-11",
        dt.date(2026, 5, 11),
        dt.date(2026, 5, 11),
        utc(2026, 5, 11, 22, 0),
    )
    # Beat or the worker late by 20 hours: still the period due at 22:00.
    assert due_period(schedule, utc(2026, 5, 12, 18, 0)) == on_time
    # A minute before the due time it is the day before's.
    assert due_period(schedule, utc(2026, 5, 11, 21, 59)).period == "2026-05-10"


def test_a_monthly_statement_reports_the_previous_calendar_month():
    schedule = schedule_of(
        kind="statement", cadence="monthly", day_of_month=3, hour=6, timezone="Europe/London"
    )
    period, start, end, due = due_period(schedule, utc(2026, 3, 3, 6, 0))
    assert (period, start, end, due) == (
        "2026-02",
        dt.date(2026, 2, 1),
        dt.date(2026, 2, 28),
        utc(2026, 3, 3, 6, 0),
    )
    # In July, London is on BST: 06:00 local is 05:00 UTC.
    assert due_period(schedule, utc(2026, 7, 3, 5, 0)).period == "2026-06"
    assert due_period(schedule, utc(2026, 7, 3, 4, 59)).period == "2026-05"
    # Late by days: still June's. January's run reports December of the year before.
    assert due_period(schedule, utc(2026, 7, 20)).period == "2026-06"
    january = due_period(schedule, utc(2027, 1, 10))
    assert (january.period, january.start, january.end) == (
        "2026-12",
        dt.date(2026, 12, 1),
        dt.date(2026, 12, 31),
    )
    assert due_period(schedule, utc(2028, 3, 3, 6)).end == dt.date(2028, 2, 29)


def test_a_due_time_that_happens_twice_is_its_first_occurrence():
    # 2026-11-01, New York: at 02:00 EDT clocks go back to 01:00 EST; 01:30 happens twice,
    # at 05:30 UTC (EDT) and 06:30 UTC (EST).
    schedule = schedule_of(timezone="America/New_York", hour=1, minute=30)
    assert due_at(schedule, dt.date(2026, 11, 1)) == utc(2026, 11, 1, 5, 30)
    first = due_period(schedule, utc(2026, 11, 1, 5, 30))
    second = due_period(schedule, utc(2026, 11, 1, 6, 30))
    assert first == second
    assert first.period == "2026-10-31"


def test_a_due_time_the_clock_skips_is_reached_at_the_end_of_the_gap():
    # 2026-03-08, New York: at 02:00 EST clocks go forward to 03:00 EDT; 02:30 never
    # happens, and the first local minute at or after it is 03:00 EDT (07:00 UTC).
    schedule = schedule_of(timezone="America/New_York", hour=2, minute=30)
    assert due_at(schedule, dt.date(2026, 3, 8)) == utc(2026, 3, 8, 7, 0)
    assert due_period(schedule, utc(2026, 3, 8, 7, 0)).period == "2026-03-07"
    assert due_period(schedule, utc(2026, 3, 8, 6, 59)).period == "2026-03-06"
    # The days around it are due at 02:30 local as usual (EST, then EDT).
    assert due_at(schedule, dt.date(2026, 3, 7)) == utc(2026, 3, 7, 7, 30)
    assert due_at(schedule, dt.date(2026, 3, 9)) == utc(2026, 3, 9, 6, 30)


def beat_firings(
    schedule: ReportSchedule, start: dt.datetime, end: dt.datetime
) -> list[dt.datetime]:
    """When beat's own crontab for the schedule (django-celery-beat's TzAwareCrontab, as the
    schedule's entry holds it) fires between ``start`` and ``end``, minute by minute."""
    now = [start]
    zone = zoneinfo.ZoneInfo(schedule.timezone)
    crontab: Any = TzAwareCrontab(
        minute=str(schedule.minute),
        hour=str(schedule.hour),
        tz=zoneinfo.ZoneInfo(schedule.timezone),
    )
    crontab.nowfun = lambda: now[0].astimezone(zone)
    last_run, fired = start, []
    while now[0] < end:
        now[0] += dt.timedelta(minutes=1)
        if crontab.is_due(last_run).is_due:
            fired.append(now[0])
            last_run = now[0]
    return fired


@pytest.mark.parametrize(
    ("hour", "minute", "days"),
    [
        (1, 30, (dt.date(2026, 10, 30), dt.date(2026, 11, 3))),  # 01:30 happens twice
        (2, 30, (dt.date(2026, 3, 6), dt.date(2026, 3, 10))),  # 02:30 does not happen
    ],
)
def test_across_a_daylight_saving_change_each_local_day_is_run_exactly_once(
    aip, hour, minute, days
):
    schedule = schedules.report_schedule_create(
        schedule=schedule_of(timezone="America/New_York", hour=hour, minute=minute),
        created_by="user:alice",
    )
    first, last = days
    start = dt.datetime.combine(first, dt.time(12), NEW_YORK).astimezone(UTC)
    end = dt.datetime.combine(last, dt.time(12), NEW_YORK).astimezone(UTC)
    # Every firing of beat's crontab, and a repeat of each an hour later (a second beat,
    # a redelivered message): each runs the schedule for what is due then.
    for fired in beat_firings(schedule, start, end):
        for when in (fired, fired + dt.timedelta(hours=1)):
            schedules.report_schedule_run(schedule_id=schedule.pk, fired_at=when)
    runs = ReportRun.objects.filter(schedule=schedule).order_by("due_at")
    expected = [(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days)]
    assert [run.period for run in runs] == expected
    assert {run.status for run in runs} == {"done"}, [run.error for run in runs]
