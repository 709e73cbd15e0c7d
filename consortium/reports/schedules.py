"""Report schedules: creating, changing and deleting them with their beat entries, the
period a run reports, and running a schedule for its periods.

A ``ReportSchedule`` and its ``django_celery_beat.PeriodicTask`` (a crontab in the
schedule's time zone, task ``consortium.reports.tasks.run_schedule`` with the schedule's
id) change together, in one transaction. Beat only says "run schedule N now"; the run works
out which period that is (``due_period``) in the schedule's time zone:

- a **daily** schedule is due every day at ``hour:minute`` local time and reports the
  previous local day (period ``YYYY-MM-DD``; the report date is that day);
- a **monthly** schedule is due on ``day_of_month`` at ``hour:minute`` and reports the
  previous calendar month (period ``YYYY-MM``, from its first to its last day; the report
  date is the last day).

A due time that the clock skips (a spring daylight-saving change) is reached at the first
minute after the gap; one that happens twice (autumn) is its first occurrence. A run is
(schedule, period), unique in the database, so a second firing for a period does nothing;
a late run (beat or the worker late) reports the period it was due for, and a run also
makes any period missed since the schedule's last run (beat down, a skipped time), up to
``REPORTS_CATCH_UP_PERIODS`` of them.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import zoneinfo
from collections.abc import Iterable
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask
from kombu.utils.json import dumps

from consortium import streams
from consortium.models import Delivery, PartnerRecipient, ReportRun, ReportSchedule, StoredReport
from consortium.reports import delivery, services
from consortium.reports.beat import RUN_SCHEDULE
from consortium.reports.document import FORMATS

log = logging.getLogger(__name__)

SCHEDULED_KINDS = ("progress", "statement", "ownership")  # notices come from the ledger
CADENCES = ("daily", "monthly")


class ScheduleError(ValueError):
    """A schedule that cannot be saved: ``errors`` maps each field to what is wrong."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors


class Period(NamedTuple):
    """What a run reports: ``period`` (``YYYY-MM-DD`` or ``YYYY-MM``), its first and last
    day, and the instant the schedule was due for it (aware, UTC)."""

    period: str
    start: dt.date
    end: dt.date
    due_at: dt.datetime


# --- validation ------------------------------------------------------------------------


@functools.cache
def known_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def parse_recipients(text: str) -> list[str]:
    """E-mail addresses one per line (commas and semicolons also separate), in order,
    without repeats; ``ValueError`` naming every address that is not one."""
    words = text.replace(",", "\n").replace(";", "\n").splitlines()
    addresses: list[str] = []
    bad: list[str] = []
    for word in (w.strip() for w in words):
        if not word:
            continue
        try:
            validate_email(word)
        except ValidationError:
            bad.append(word)
            continue
        if word.lower() not in (a.lower() for a in addresses):
            addresses.append(word)
    if bad:
        raise ValueError(
            "Not an e-mail address: " + ", ".join(repr(b) for b in bad) + " (one per line)."
        )
    return addresses


def check_schedule(schedule: ReportSchedule) -> None:
    """Raise ``ScheduleError`` (every problem, by field) unless the schedule can run;
    normalises its formats (known order, no repeats) and recipients (one per line)."""
    errors: dict[str, str] = {}
    if not schedule.name.strip():
        errors["name"] = "Give the schedule a name."
    if schedule.kind not in SCHEDULED_KINDS:
        errors["kind"] = (
            f"A schedule makes {', '.join(SCHEDULED_KINDS)} reports; capital call notices "
            "are made when a call is issued, not on a schedule."
        )
    if schedule.cadence not in CADENCES:
        errors["cadence"] = "Choose daily or monthly."
    if schedule.consortium not in streams.formed_consortia():
        errors["consortium"] = f"The ledger has no consortium {schedule.consortium!r}."
    if schedule.kind == "ownership":
        if not schedule.asset_id:
            errors["asset_id"] = "An asset ownership report needs the asset."
        elif schedule.asset_id not in streams.registered_assets():
            errors["asset_id"] = f"The ledger has no asset {schedule.asset_id!r}."
    formats = list(schedule.formats) if isinstance(schedule.formats, list | tuple) else []
    available = services.formats_for(schedule.kind) if schedule.kind in SCHEDULED_KINDS else []
    unknown = [str(f) for f in formats if f not in FORMATS]
    if not formats or unknown:
        errors["formats"] = f"Choose one or more of {', '.join(available or FORMATS)}." + (
            f" Unknown: {', '.join(unknown)}." if unknown else ""
        )
    elif available and not set(formats) <= set(available):
        errors["formats"] = (
            f"A {schedule.kind} report comes as {', '.join(available)}, not as "
            f"{', '.join(f for f in formats if f not in available)}."
        )
    else:
        schedule.formats = [f for f in FORMATS if f in formats]
    if schedule.timezone not in known_time_zones():
        errors["timezone"] = (
            f"Unknown time zone {schedule.timezone!r}: use an IANA name such as "
            "Europe/London or America/New_York."
        )
    if not 0 <= schedule.hour <= 23:
        errors["hour"] = "The hour is 0 to 23."
    if not 0 <= schedule.minute <= 59:
        errors["minute"] = "The minute is 0 to 59."
    if not 1 <= schedule.day_of_month <= 28:
        errors["day_of_month"] = "The day of the month is 1 to 28 (every month has it)."
    try:
        schedule.recipients = "\n".join(parse_recipients(schedule.recipients))
    except ValueError as error:
        errors["recipients"] = str(error)
    if schedule.send_to_partners and schedule.kind != "statement":
        errors["send_to_partners"] = "Only statements are sent to partners (each its own)."
    if not schedule.recipients and not schedule.send_to_partners and "recipients" not in errors:
        errors["recipients"] = "Name at least one recipient, or send statements to partners."
    if errors:
        raise ScheduleError(errors)


# --- the schedule and its beat entry ---------------------------------------------------


def _crontab(schedule: ReportSchedule) -> CrontabSchedule:
    spec = {
        "minute": str(schedule.minute),
        "hour": str(schedule.hour),
        "day_of_week": "*",
        "day_of_month": str(schedule.day_of_month) if schedule.cadence == "monthly" else "*",
        "month_of_year": "*",
        "timezone": schedule.timezone,
    }
    crontab = CrontabSchedule.objects.filter(**spec).order_by("id").first()
    return crontab or CrontabSchedule.objects.create(**spec)


def _keep_beat_entry(schedule: ReportSchedule) -> None:
    """Make the schedule's PeriodicTask say what the schedule says (created if missing)."""
    task = schedule.periodic_task or PeriodicTask(name=f"report-schedule-{schedule.pk}")
    task.task = RUN_SCHEDULE
    task.crontab = _crontab(schedule)
    task.interval = task.solar = task.clocked = None
    task.kwargs = dumps({"schedule_id": schedule.pk})
    task.enabled = schedule.enabled
    task.description = f"Report schedule {schedule.name!r} (change it under Report schedules)."
    task.save()  # type: ignore[no-untyped-call]
    if schedule.periodic_task_id != task.pk:
        schedule.periodic_task = task
        schedule.save(update_fields=["periodic_task", "updated_at"])


def report_schedule_create(*, schedule: ReportSchedule, created_by: str) -> ReportSchedule:
    """Save a new schedule (unsaved ``ReportSchedule``) and its beat entry, or neither."""
    if not schedule._state.adding:
        raise ValueError("report_schedule_create takes a new, unsaved schedule")
    check_schedule(schedule)
    schedule.created_by = created_by
    with transaction.atomic():
        _save_unique_name(schedule)
        _keep_beat_entry(schedule)
    return schedule


def report_schedule_update(*, schedule: ReportSchedule) -> ReportSchedule:
    """Save a changed schedule and bring its beat entry in step, or neither."""
    check_schedule(schedule)
    with transaction.atomic():
        _save_unique_name(schedule)
        _keep_beat_entry(schedule)
    return schedule


def report_schedule_delete(*, schedule: ReportSchedule) -> None:
    """Delete a schedule that never ran, with its beat entry. One that ran is kept: its
    runs and deliveries are the record of what was sent (disable it instead)."""
    with transaction.atomic():
        runs = ReportRun.objects.filter(schedule=schedule).count()
        if runs:
            raise ScheduleError(
                {
                    "enabled": f"{schedule.name!r} has run {runs} time(s); its runs and "
                    "deliveries are the record of what was sent, so it is kept. Disable it "
                    "instead."
                }
            )
        task = schedule.periodic_task
        schedule.delete()
        if task is not None:
            task.delete()  # type: ignore[no-untyped-call]


def _save_unique_name(schedule: ReportSchedule) -> None:
    try:
        with transaction.atomic():
            schedule.save()
    except IntegrityError:
        if ReportSchedule.objects.filter(name=schedule.name).exclude(pk=schedule.pk).exists():
            raise ScheduleError({"name": f"A schedule named {schedule.name!r} exists."}) from None
        raise


# --- periods ---------------------------------------------------------------------------


def due_at(schedule: ReportSchedule, day: dt.date) -> dt.datetime:
    """When the schedule is due on local ``day`` (aware, UTC): the first moment the local
    clock shows ``hour:minute`` or later (a skipped time: the end of the gap; a time that
    happens twice: its first occurrence)."""
    zone = zoneinfo.ZoneInfo(schedule.timezone)
    wall = dt.datetime.combine(day, dt.time(schedule.hour, schedule.minute))
    for _minute in range(24 * 60):
        local = wall.replace(tzinfo=zone, fold=0)
        instant = local.astimezone(dt.UTC)
        if instant.astimezone(zone).replace(tzinfo=None) == wall:  # exists on the clock
            return instant
        wall += dt.timedelta(minutes=1)
    raise AssertionError(f"no valid local time after {day} {schedule.hour}:{schedule.minute}")


def _due_day(schedule: ReportSchedule, year: int, month: int) -> dt.date:
    return dt.date(year, month, schedule.day_of_month)


def _month_before(day: dt.date) -> tuple[int, int]:
    return (day.year - 1, 12) if day.month == 1 else (day.year, day.month - 1)


def due_period(schedule: ReportSchedule, now: dt.datetime) -> Period:
    """The period the schedule's latest due time at or before ``now`` reports."""
    if timezone.is_naive(now):
        raise ValueError("due_period needs an aware datetime")
    local_today = now.astimezone(zoneinfo.ZoneInfo(schedule.timezone)).date()
    if schedule.cadence == "daily":
        day = local_today
        if due_at(schedule, day) > now:
            day -= dt.timedelta(days=1)
        reported = day - dt.timedelta(days=1)
        return Period(reported.isoformat(), reported, reported, due_at(schedule, day))
    due_day = _due_day(schedule, local_today.year, local_today.month)
    if due_at(schedule, due_day) > now:
        due_day = _due_day(schedule, *_month_before(due_day))
    year, month = _month_before(due_day)
    first = dt.date(year, month, 1)
    last = due_day.replace(day=1) - dt.timedelta(days=1)
    return Period(f"{year:04d}-{month:02d}", first, last, due_at(schedule, due_day))


def periods_to_run(schedule: ReportSchedule, now: dt.datetime) -> list[Period]:
    """The latest due period at ``now`` and, oldest first before it, those missed since
    the schedule's last run (at most ``REPORTS_CATCH_UP_PERIODS`` in all)."""
    latest = due_period(schedule, now)
    last = ReportRun.objects.filter(schedule=schedule).order_by("-due_at").first()
    periods = [latest]
    if last is not None:
        limit = max(1, settings.REPORTS_CATCH_UP_PERIODS)
        while True:
            before = due_period(schedule, periods[-1].due_at - dt.timedelta(microseconds=1))
            if before.due_at <= last.due_at:
                break
            if len(periods) == limit:
                log.warning(
                    "Schedule %s missed periods up to %s since its last run (%s); only the "
                    "latest %s are made (REPORTS_CATCH_UP_PERIODS).",
                    schedule.pk,
                    before.period,
                    last.period,
                    limit,
                )
                break
            periods.append(before)
    return periods[::-1]


# --- running ---------------------------------------------------------------------------


def parameters_for(schedule: ReportSchedule, period: Period) -> dict[str, str]:
    """``generate_reports``'s parameters for one period of the schedule."""
    if schedule.kind == "statement":
        return {
            "consortium": schedule.consortium,
            "period_start": period.start.isoformat(),
            "period_end": period.end.isoformat(),
        }
    if schedule.kind == "ownership":
        return {"asset": schedule.asset_id}
    return {"consortium": schedule.consortium}


def report_schedule_run(
    *, schedule_id: int, fired_at: dt.datetime | None = None
) -> list[ReportRun]:
    """Run the schedule for the period due at ``fired_at`` (beat's firing time; now when
    not given) and any missed before it. A period already run is skipped; the runs made
    are returned, each ``done`` or ``failed`` (with its error)."""
    schedule = ReportSchedule.objects.filter(pk=schedule_id).first()
    if schedule is None:
        log.warning("Report schedule %s no longer exists; nothing to run.", schedule_id)
        return []
    runs = []
    for period in periods_to_run(schedule, fired_at or timezone.now()):
        run = run_period(schedule, period)
        if run is not None:
            runs.append(run)
    return runs


def run_period(schedule: ReportSchedule, period: Period) -> ReportRun | None:
    """Make the run for one period: generate, store, queue the deliveries, mark it done;
    or mark it failed with the error. None when the period was already run."""
    try:
        with transaction.atomic():
            run = ReportRun.objects.create(
                schedule=schedule,
                period=period.period,
                period_start=period.start,
                period_end=period.end,
                due_at=period.due_at,
            )
    except IntegrityError:
        log.info("Schedule %s already ran for %s.", schedule.pk, period.period)
        return None
    return _complete(schedule, run, period)


def report_run_retry(*, run_id: int) -> ReportRun:
    """Run a failed run again (the deal team, once the cause is fixed): what it stored
    before is reused, deliveries already made are not made twice. ``ScheduleError`` for a
    run that did not fail."""
    with transaction.atomic():
        run = ReportRun.objects.select_for_update().select_related("schedule").get(pk=run_id)
        if run.status != "failed":
            raise ScheduleError(
                {"status": f"Only a failed run is run again; this one is {run.status}."}
            )
        run.status, run.error, run.finished_at = "running", "", None
        run.save(update_fields=["status", "error", "finished_at"])
    period = Period(run.period, run.period_start, run.period_end, run.due_at)
    return _complete(run.schedule, run, period)


def _complete(schedule: ReportSchedule, run: ReportRun, period: Period) -> ReportRun:
    """Generate and store the run's reports, queue its deliveries and mark it done; or
    mark it failed with the error."""
    try:
        reports = services.generate_reports(
            kind=schedule.kind,
            parameters=parameters_for(schedule, period),
            formats=list(schedule.formats),
            requested_by=f"schedule:{schedule.pk}",
            report_date=period.end,
            key=f"run:{run.pk}",
            run=run,
        )
        with transaction.atomic():
            deliver_run(schedule, run, period, reports)
            run.status = "done"
            run.finished_at = timezone.now()
            run.save(update_fields=["status", "finished_at"])
    except Exception as error:  # recorded on the run and logged: never silent
        log.exception("Report schedule %s failed for %s", schedule.pk, period.period)
        run.status = "failed"
        run.error = f"{type(error).__name__}: {error}"
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
    return run


def deliver_run(
    schedule: ReportSchedule, run: ReportRun, period: Period, reports: Iterable[StoredReport]
) -> list[Delivery]:
    """Queue the run's e-mails: every report to the schedule's recipients; with
    ``send_to_partners``, each partner's statement to its own recipients only."""
    reports = list(reports)
    subject = f"{schedule.name}: {period.period}"
    made = []
    recipients = [line for line in schedule.recipients.splitlines() if line.strip()]
    if recipients and reports:
        made += delivery.queue_deliveries(
            reports=reports,
            recipients=recipients,
            subject=subject,
            body_html=delivery.body_html(reports, subject),
            key=f"run:{run.pk}",
            run=run,
        )
    if schedule.send_to_partners and schedule.kind == "statement":
        by_partner: dict[str, list[StoredReport]] = {}
        for report in reports:
            if report.organisation_id:
                by_partner.setdefault(report.organisation_id, []).append(report)
        for organisation, own in by_partner.items():
            partner_recipients = list(
                PartnerRecipient.objects.filter(
                    consortium=schedule.consortium,
                    organisation_id=organisation,
                    receives_statements=True,
                    active=True,
                ).values_list("email", flat=True)
            )
            if not partner_recipients:
                continue
            made += delivery.queue_deliveries(
                reports=own,
                recipients=partner_recipients,
                subject=subject,
                body_html=delivery.body_html(own, subject),
                key=f"run:{run.pk}:partner:{organisation}",
                run=run,
            )
    return made
