"""Report schedules in the workspace: the deal team adds, changes and deletes them through
the services (the beat entry follows); finance and auditors read them, their runs and
deliveries; django-celery-beat's own pages are not on the workspace."""

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django_celery_beat.models import PeriodicTask

from consortium.models import Delivery, ReportRun, ReportSchedule
from consortium.reports import schedules
from consortium.reports.beat import RUN_SCHEDULE
from tests.consortium.reports.delivery_support import running_eagerly

pytestmark = pytest.mark.django_db

LIST = "/admin/consortium/reportschedule/"
ADD = LIST + "add/"


def form(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "AIP daily progress",
        "kind": "progress",
        "consortium": "aip",
        "asset_id": "",
        "formats": ["xlsx", "csv"],
        "cadence": "daily",
        "timezone": "America/New_York",
        "hour": "6",
        "minute": "30",
        "day_of_month": "1",
        "recipients": "committee@aip.example\nboard@aip.example",
        "enabled": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def aip(formed) -> None:
    formed("aip")
    formed("stargate")


@pytest.fixture
def dana(make_user, signed_in):
    return signed_in(make_user("dana", ("deal_team", "aip")))


def test_the_deal_team_adds_a_schedule_and_its_beat_entry_follows(aip, dana):
    response = dana.post(ADD, form())
    assert response.status_code == 302, response.content.decode()[:3000]
    schedule = ReportSchedule.objects.get()
    assert schedule.created_by == "user:dana"
    assert schedule.formats == ["xlsx", "csv"]
    task = PeriodicTask.objects.get(report_schedule=schedule)
    assert task.task == RUN_SCHEDULE and task.enabled
    crontab = task.crontab
    assert crontab is not None
    assert (crontab.hour, crontab.minute, str(crontab.timezone)) == ("6", "30", "America/New_York")

    change = f"{LIST}{schedule.pk}/change/"
    response = dana.post(change, form(hour="8", enabled=None))
    assert response.status_code == 302
    changed = PeriodicTask.objects.get(pk=task.pk)
    assert changed.crontab is not None and changed.crontab.hour == "8"
    assert changed.enabled is False

    response = dana.post(f"{LIST}{schedule.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not ReportSchedule.objects.exists()
    assert not PeriodicTask.objects.filter(task=RUN_SCHEDULE).exists()


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"timezone": "Mars/Olympus"}, "Mars/Olympus"),
        (
            {"recipients": "committee@aip.example\nnobody"},
            "Not an e-mail address: &#x27;nobody&#x27;",
        ),
        ({"formats": ["pdf"]}, "comes as xlsx, csv, html, not as pdf"),
        ({"send_to_partners": "on"}, "Only statements are sent to partners"),
        ({"consortium": "stargate"}, "Select a valid choice"),
    ],
)
def test_a_refused_schedule_shows_why_and_saves_nothing(aip, dana, changes, words):
    response = dana.post(ADD, form(**changes))
    assert response.status_code == 200
    assert words in response.content.decode()
    assert not ReportSchedule.objects.exists()
    assert not PeriodicTask.objects.filter(task=RUN_SCHEDULE).exists()


def test_finance_and_auditors_read_but_do_not_change(aip, make_user, signed_in):
    schedule = schedules.report_schedule_create(
        schedule=ReportSchedule(
            name="AIP progress",
            kind="progress",
            cadence="daily",
            consortium="aip",
            formats=["csv"],
            timezone="UTC",
            recipients="a@example.com",
        ),
        created_by="user:dana",
    )
    run = ReportRun.objects.create(
        schedule=schedule,
        period="2026-01-01",
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 1, 1),
        due_at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
        status="failed",
        error="ReportError: something the deal team understands",
    )
    Delivery.objects.create(
        key="k:a@example.com",
        recipient="a@example.com",
        subject="AIP",
        message_id="<1@consortium.test>",
        run=run,
        attempts=2,
        last_error="SMTPDataError: 451 busy",
    )
    for role in ("finance", "auditor"):
        reader = signed_in(make_user(f"{role}-reader", (role, "aip")))
        page = reader.get(LIST).content.decode()
        assert "AIP progress" in page
        assert reader.get(ADD).status_code == 403
        change = f"{LIST}{schedule.pk}/change/"
        assert reader.get(change).status_code == 200  # the read-only view
        assert reader.post(change, form(name="Renamed")).status_code == 403
        assert reader.post(f"{LIST}{schedule.pk}/delete/", {"post": "yes"}).status_code == 403
        runs = reader.get("/admin/consortium/reportrun/").content.decode()
        assert "something the deal team understands" in runs
        deliveries = reader.get("/admin/consortium/delivery/").content.decode()
        assert "a@example.com" in deliveries
        assert (
            reader.get(
                f"/admin/consortium/delivery/{Delivery.objects.get().pk}/change/"
            ).status_code
            == 200
        )
        reader.logout()
    assert ReportSchedule.objects.get().name == "AIP progress"


def test_a_schedule_that_ran_cannot_be_deleted_and_others_see_no_foreign_schedules(
    aip, dana, make_user, signed_in
):
    schedule = schedules.report_schedule_create(
        schedule=ReportSchedule(
            name="AIP progress",
            kind="progress",
            cadence="daily",
            consortium="aip",
            formats=["csv"],
            timezone="UTC",
            recipients="a@example.com",
        ),
        created_by="user:dana",
    )
    ReportRun.objects.create(
        schedule=schedule,
        period="2026-01-01",
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 1, 1),
        due_at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
    )
    assert dana.post(f"{LIST}{schedule.pk}/delete/", {"post": "yes"}).status_code == 403
    assert ReportSchedule.objects.exists()
    dana.logout()
    other = signed_in(make_user("sam", ("deal_team", "stargate")))
    assert "AIP progress" not in other.get(LIST).content.decode()
    assert other.get(f"{LIST}{schedule.pk}/change/").status_code in (302, 403, 404)


def test_beats_own_pages_are_not_on_the_workspace(aip, make_user, signed_in):
    root = signed_in(make_user("root", ("deal_team", ""), superuser=True))
    assert root.get("/admin/django_celery_beat/periodictask/").status_code == 404
    sidebar = root.get(LIST).content.decode()
    for entry in ("Report schedules", "Report runs", "Deliveries"):
        assert entry in sidebar


@pytest.fixture
def eager(settings, tmp_path):
    """Tasks run in this process (as on the embedded default); files in a temporary dir."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    with running_eagerly(settings):
        yield


def test_the_deal_team_runs_a_failed_run_again_and_finance_cannot(
    aip, dana, make_user, signed_in, eager, django_capture_on_commit_callbacks
):
    schedule = schedules.report_schedule_create(
        schedule=ReportSchedule(
            name="AIP progress",
            kind="progress",
            cadence="daily",
            consortium="aip",
            formats=["csv"],
            timezone="UTC",
            recipients="a@example.com",
        ),
        created_by="user:dana",
    )
    run = ReportRun.objects.create(
        schedule=schedule,
        period="2026-01-01",
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2026, 1, 1),
        due_at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
        status="failed",
        error="OSError: the disk was full",
    )
    runs = "/admin/consortium/reportrun/"
    action = {"action": "run_again", "_selected_action": [str(run.pk)]}
    finance = signed_in(make_user("fran", ("finance", "aip")))
    finance.post(runs, action)
    run.refresh_from_db()
    assert run.status == "failed"
    finance.logout()

    dana.force_login(User.objects.get(username="dana"))
    with django_capture_on_commit_callbacks(execute=True):
        response = dana.post(runs, action, follow=True)
    assert "1 run(s) queued to run again" in response.content.decode()
    run.refresh_from_db()
    assert (run.status, run.error) == ("done", "")
    assert Delivery.objects.filter(run=run).count() == 1
