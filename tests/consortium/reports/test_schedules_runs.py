"""Running a schedule: one run per period, the reports generated and stored for it, the
e-mails queued (every report to the schedule's recipients, each partner's own statement
to its recipients), and a failure recorded on the run."""

import datetime as dt

import pytest

from consortium.models import Delivery, PartnerRecipient, ReportRun, ReportSchedule, StoredReport
from consortium.reports import schedules, tasks

MARCH_3 = dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.UTC)  # after 06:00 London, 3 March


@pytest.fixture
def statements(formed) -> ReportSchedule:
    formed("aip")  # partners mgx and microsoft
    for organisation, email, statements in (
        ("mgx", "treasury@mgx.example", True),
        ("mgx", "cfo@mgx.example", True),
        ("mgx", "legal@mgx.example", False),  # notices only
        ("microsoft", "funds@microsoft.example", True),
    ):
        PartnerRecipient.objects.create(
            consortium="aip",
            organisation_id=organisation,
            email=email,
            receives_statements=statements,
        )
    PartnerRecipient.objects.create(
        consortium="aip",
        organisation_id="microsoft",
        email="left@microsoft.example",
        active=False,
    )
    return schedules.report_schedule_create(
        schedule=ReportSchedule(
            name="AIP monthly statements",
            kind="statement",
            cadence="monthly",
            day_of_month=3,
            hour=6,
            consortium="aip",
            formats=["csv", "pdf"],
            timezone="Europe/London",
            recipients="committee@aip.example",
            send_to_partners=True,
        ),
        created_by="user:alice",
    )


def delivered(run: ReportRun) -> dict[str, set[tuple[str, str]]]:
    """Recipient -> {(organisation, format)} of the reports its delivery carries."""
    return {
        d.recipient: {(r.organisation_id, r.format) for r in d.reports.all()}
        for d in Delivery.objects.filter(run=run)
    }


@pytest.mark.django_db
def test_a_run_stores_the_periods_reports_and_sends_each_partner_only_its_own(
    statements, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        (run,) = schedules.report_schedule_run(schedule_id=statements.pk, fired_at=MARCH_3)
    assert (run.period, run.period_start, run.period_end) == (
        "2026-02",
        dt.date(2026, 2, 1),
        dt.date(2026, 2, 28),
    )
    assert run.due_at == dt.datetime(2026, 3, 3, 6, 0, tzinfo=dt.UTC)
    assert (run.status, run.error) == ("done", "")
    assert run.finished_at is not None
    stored = StoredReport.objects.filter(run=run)
    assert {(r.organisation_id, r.format) for r in stored} == {
        ("mgx", "csv"),
        ("mgx", "pdf"),
        ("microsoft", "csv"),
        ("microsoft", "pdf"),
    }
    report = stored.first()
    assert report is not None
    assert report.requested_by == f"schedule:{statements.pk}"
    assert report.key is not None and report.key.startswith(f"run:{run.pk}:")
    assert {k: report.parameters[k] for k in ("consortium", "period_start", "period_end")} == {
        "consortium": "aip",
        "period_start": "2026-02-01",
        "period_end": "2026-02-28",
    }
    assert report.report_date == dt.date(2026, 2, 28)
    mgx = {("mgx", "csv"), ("mgx", "pdf")}
    microsoft = {("microsoft", "csv"), ("microsoft", "pdf")}
    assert delivered(run) == {
        "committee@aip.example": mgx | microsoft,
        "treasury@mgx.example": mgx,
        "cfo@mgx.example": mgx,
        "funds@microsoft.example": microsoft,
    }
    assert {d.subject for d in Delivery.objects.filter(run=run)} == {
        "AIP monthly statements: 2026-02"
    }
    sends = [f for f in queued if f.__qualname__.endswith("send_after_commit")]
    assert len(sends) == 4  # one send per delivery, once the run commits


@pytest.mark.django_db
def test_a_second_firing_for_the_same_period_does_nothing(statements):
    (run,) = schedules.report_schedule_run(schedule_id=statements.pk, fired_at=MARCH_3)
    deliveries = Delivery.objects.count()
    reports = StoredReport.objects.count()
    later = MARCH_3 + dt.timedelta(days=5)  # late, but still February's due time
    assert schedules.report_schedule_run(schedule_id=statements.pk, fired_at=later) == []
    assert list(ReportRun.objects.all()) == [run]
    assert (Delivery.objects.count(), StoredReport.objects.count()) == (deliveries, reports)


@pytest.mark.django_db
def test_a_run_after_beat_was_down_makes_the_missed_periods_too(statements, settings):
    schedules.report_schedule_run(schedule_id=statements.pk, fired_at=MARCH_3)
    settings.REPORTS_CATCH_UP_PERIODS = 2
    # Beat was down from March to June: June's firing runs May and, missed, April
    # (at most two periods: March is left, said in the log).
    june = dt.datetime(2026, 6, 3, 9, 0, tzinfo=dt.UTC)
    made = schedules.report_schedule_run(schedule_id=statements.pk, fired_at=june)
    assert [run.period for run in made] == ["2026-04", "2026-05"]
    assert sorted(ReportRun.objects.values_list("period", flat=True)) == [
        "2026-02",
        "2026-04",
        "2026-05",
    ]


@pytest.mark.django_db
def test_a_failed_run_is_recorded_with_its_error_and_sends_nothing(statements):
    # The schedule names a consortium the ledger does not have (changed behind the
    # services' back): the builder refuses, and the run says why.
    ReportSchedule.objects.filter(pk=statements.pk).update(consortium="gone")
    (run,) = schedules.report_schedule_run(schedule_id=statements.pk, fired_at=MARCH_3)
    assert run.status == "failed"
    assert run.error.startswith("ReportError: ") and "gone" in run.error
    assert run.finished_at is not None
    assert not StoredReport.objects.exists()
    assert not Delivery.objects.exists()
    # The period is taken: the next firing does not silently try again.
    assert schedules.report_schedule_run(schedule_id=statements.pk, fired_at=MARCH_3) == []
    # The cause fixed, the deal team runs it again: the same run, done, sent.
    ReportSchedule.objects.filter(pk=statements.pk).update(consortium="aip")
    assert schedules.report_run_retry(run_id=run.pk).status == "done"
    run.refresh_from_db()
    assert (run.status, run.error) == ("done", "")
    assert StoredReport.objects.filter(run=run).count() == 4
    assert Delivery.objects.filter(run=run).count() == 4
    with pytest.raises(schedules.ScheduleError, match="Only a failed run"):
        schedules.report_run_retry(run_id=run.pk)


@pytest.mark.django_db
def test_a_deleted_schedule_runs_nothing():
    assert schedules.report_schedule_run(schedule_id=999, fired_at=MARCH_3) == []


@pytest.mark.django_db
def test_a_worker_running_the_task_days_late_reports_the_period_beat_fired_for(statements):
    # Beat fired on 3 March (February due); the worker gets to it in April.
    made = tasks.run_schedule(statements.pk, fired_at=MARCH_3.isoformat())
    (run,) = ReportRun.objects.filter(pk__in=made)
    assert run.period == "2026-02"
