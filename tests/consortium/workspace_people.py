"""People for the workspace and partner-view tests: users with grants, signed in.

``person(username, *grants, staff=False, superuser=False)`` makes an active user with a
password and the grants given as ``"deal_team"``, ``"auditor@aip"`` (in one consortium)
or ``"partner:mgx"``; ``signed_in(user)`` is a test client with its session. The demo
data (``seeded``) is ``seed_demo``'s AIP and Stargate, projections caught up.
"""

import datetime as dt
from io import StringIO

from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from consortium.models import RoleGrant
from ledger.projections import runner

PASSWORD = "correct horse battery staple"


def person(username: str, *grants: str, staff: bool = False, superuser: bool = False) -> User:
    user = User.objects.create_user(
        username, f"{username}@example.com", PASSWORD, is_staff=staff, is_superuser=superuser
    )
    for grant in grants:
        role, _, consortium = grant.partition("@")
        kind, _, organisation = role.partition(":")
        RoleGrant.objects.create(
            user=user, role=kind, organisation_id=organisation, consortium=consortium
        )
    return user


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def seed() -> None:
    """The demo data, every projection caught up with it, and a report schedule that ran
    (so each of the workspace's report pages has a row to show)."""
    call_command("seed_demo", stdout=StringIO())
    runner.catch_up_all(wait=True)
    report_rows()


def report_rows() -> None:
    """A daily AIP progress schedule, one failed run of it, and one delivery."""
    from consortium.models import Delivery, ReportRun, ReportSchedule
    from consortium.reports import schedules

    if ReportSchedule.objects.exists():
        return
    schedule = schedules.report_schedule_create(
        schedule=ReportSchedule(
            name="AIP daily progress",
            kind="progress",
            cadence="daily",
            consortium="aip",
            formats=["csv"],
            timezone="Europe/London",
            recipients="committee@aip.example.com",
        ),
        created_by="user:alice.deal",
    )
    run = ReportRun.objects.create(
        schedule=schedule,
        period="2026-01-05",
        period_start=dt.date(2026, 1, 5),
        period_end=dt.date(2026, 1, 5),
        due_at=dt.datetime(2026, 1, 6, 7, tzinfo=dt.UTC),
        status="failed",
        error="SMTPServerDisconnected: Connection unexpectedly closed",
    )
    Delivery.objects.create(
        key=f"run:{run.pk}:committee@aip.example.com",
        recipient="committee@aip.example.com",
        subject="AIP daily progress: 2026-01-05",
        message_id="<demo.1@consortium.example.com>",
        run=run,
    )
