"""Capital call notices: issuing a call makes the ``notices`` consumer (its own checkpoint,
not the command) store each partner's notice and send it to that partner's recipients
only, with the payment instructions in force; replays (a rebuild, a repeated task) store
and send nothing twice.

On the embedded default (and, in-process, on the PostgreSQL run) the consumer runs as the
embedded default runs it: the catch-up after the commit, tasks eager. The last test runs
the real path on PostgreSQL: a private Redis and a real Celery worker catch up, make the
notices and queue the deliveries.
"""

import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from pypdf import PdfReader

from config.celery import app as celery_app
from consortium import services as s
from consortium.models import Delivery, NoticeRequest, PartnerRecipient, StoredReport
from consortium.reports import instructions as i
from consortium.reports.notices import NAME, make_notices, unmade_notices
from ledger import store
from ledger.models import ProjectionState
from ledger.projections import registry, runner
from tests.consortium.conftest import usd
from tests.ledger.worker_support import Processes, RedisServer, private_broker, wait_until

CALL = "call-1"
IBAN = "GB82WEST12345698765432"
RECIPIENTS = {
    "mgx": ["cfo@mgx.example.com", "ir@mgx.example.com"],
    "microsoft": ["treasury@microsoft.example.com"],
}


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def in_process(settings: Any) -> Iterator[None]:
    """Tasks run where they are queued (the embedded default's way), whatever the run's
    broker: the consumer's path is the same, minus the broker."""
    saved = celery_app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = True
    celery_app.conf.task_always_eager = True
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = saved


@pytest.fixture
def partners(formed, alice, bob) -> str:
    """aip: mgx 600 and microsoft 400 signed, nvidia a technical advisor (allocated
    nothing); recipients for each (some not for notices); instructions in force."""
    formed("aip")
    s.partner_admit(
        actor=alice,
        slug="aip",
        organisation_id="nvidia",
        name="Nvidia",
        role="technical_advisor",
        effective_on=dt.date(2025, 1, 7),
    )
    for org, emails in {**RECIPIENTS, "nvidia": ["partnerships@nvidia.example.com"]}.items():
        for email in emails:
            i.partner_recipient_add(consortium="aip", organisation_id=org, email=email)
    gone = i.partner_recipient_add(
        consortium="aip", organisation_id="mgx", email="former@mgx.example.com"
    )
    i.partner_recipient_deactivate(recipient_id=gone.pk)
    i.partner_recipient_add(
        consortium="aip",
        organisation_id="microsoft",
        email="statements@microsoft.example.com",
        receives_notices=False,
    )
    proposal = i.payment_instruction_propose(
        consortium="aip",
        beneficiary="AIP LP",
        bank="Example Bank plc",
        account=IBAN,
        bic="WESTGB2L",
        reference="AIP call",
        by=alice.user,
    )
    i.payment_instruction_approve(instruction_id=proposal.pk, by=bob.user)
    return "aip"


def issue(alice, bob) -> None:
    """A 500.00 call through the services: mgx 300.00, microsoft 200.00."""
    s.capital_call_prepare(
        actor=alice,
        slug="aip",
        call_id=CALL,
        amount=usd("500.00"),
        due_on=dt.date(2025, 3, 1),
        purpose="Land",
        effective_on=dt.date(2025, 2, 1),
    )
    s.capital_call_approve(actor=bob, slug="aip", call_id=CALL, effective_on=dt.date(2025, 2, 2))
    s.capital_call_issue(actor=bob, slug="aip", call_id=CALL, effective_on=dt.date(2025, 2, 3))


def delivered() -> dict[str, set[str]]:
    """Recipient -> the organisations whose reports its deliveries carry."""
    found: dict[str, set[str]] = {}
    for delivery in Delivery.objects.prefetch_related("reports"):
        orgs = {report.organisation_id for report in delivery.reports.all()}
        found.setdefault(delivery.recipient, set()).update(orgs)
    return found


def expected() -> dict[str, set[str]]:
    return {email: {org} for org, emails in RECIPIENTS.items() for email in emails}


@pytest.fixture
def issued(partners, alice, bob, in_process, django_capture_on_commit_callbacks) -> str:
    """The call issued, and the catch-up and tasks that follow its commit run."""
    with django_capture_on_commit_callbacks(execute=True):
        issue(alice, bob)
        runner.catch_up_all()  # what the commit's trigger does (here in the test's transaction)
    return CALL


@pytest.mark.django_db
def test_the_command_only_appends_and_the_consumer_makes_the_notices(partners, alice, bob):
    issue(alice, bob)  # commit-time work never runs inside the test's transaction
    assert not NoticeRequest.objects.exists() and not StoredReport.objects.exists()

    runner.catch_up_all()

    (request,) = NoticeRequest.live()
    assert (request.consortium, request.call_id, request.issued_on) == (
        "aip",
        CALL,
        dt.date(2025, 2, 3),
    )
    assert ProjectionState.objects.get(name=NAME).checkpoint == store.head()
    assert unmade_notices() == [("aip", CALL)], "its task was queued, never run"


@pytest.mark.django_db
def test_each_partner_allocated_gets_its_own_notice_at_its_own_recipients(issued):
    stored = StoredReport.objects.filter(kind="notice")
    assert sorted((r.organisation_id, r.format) for r in stored) == [
        ("mgx", "html"),
        ("mgx", "pdf"),
        ("microsoft", "html"),
        ("microsoft", "pdf"),
    ]
    assert {r.key for r in stored} == {
        f"notice:aip:{CALL}:{org}:{fmt}" for org in RECIPIENTS for fmt in ("html", "pdf")
    }
    assert {r.requested_by for r in stored} == {"notices"}
    assert delivered() == expected()  # not nvidia (nothing allocated), not the inactive
    for delivery in Delivery.objects.all():
        org = next(iter(delivery.reports.all())).organisation_id
        assert delivery.key == f"notice:aip:{CALL}:{org}:{delivery.recipient}"
        assert [r.format for r in delivery.reports.all()] == ["pdf"]
        assert delivery.subject == f"Capital call notice: AIP, call {CALL}"
    assert unmade_notices() == []


@pytest.mark.django_db
def test_the_notice_shows_the_payment_instructions_in_force(issued):
    in_force = i.payment_instruction_in_force("aip")
    assert in_force is not None
    notice = StoredReport.objects.get(key=f"notice:aip:{CALL}:mgx:pdf")
    assert notice.parameters["payment_instruction"] == str(in_force.pk)
    with notice.file.open("rb") as pdf:
        text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    compact = "".join(text.split())
    assert IBAN in compact and "WESTGB2L" in compact and "ExampleBankplc" in compact
    body = Delivery.objects.filter(recipient="ir@mgx.example.com").get().body_html
    assert "AIP LP" in body and "WESTGB2L" in body


@pytest.mark.django_db
def test_a_rebuild_stores_and_sends_nothing_twice(
    issued, in_process, django_capture_on_commit_callbacks
):
    reports = sorted(StoredReport.objects.values_list("id", "checksum"))
    deliveries = sorted(Delivery.objects.values_list("id", "key", "message_id"))
    # Someone added since must not receive the old call's notice when it is replayed.
    i.partner_recipient_add(consortium="aip", organisation_id="mgx", email="new@mgx.example.com")

    with django_capture_on_commit_callbacks(execute=True) as queued:
        runner.rebuild(NAME)

    assert runner.live_generation(NAME) == 2
    assert [(r.generation, r.call_id) for r in NoticeRequest.objects.all()] == [(2, CALL)]
    assert sorted(StoredReport.objects.values_list("id", "checksum")) == reports
    assert sorted(Delivery.objects.values_list("id", "key", "message_id")) == deliveries
    notices = [c for c in queued if c.__qualname__.startswith("queue_notices.")]
    assert notices == [], "the live generation had seen the call: nothing queued again"


@pytest.mark.django_db
def test_a_repeated_task_stores_and_sends_nothing_twice(issued, in_process):
    reports, deliveries = StoredReport.objects.count(), Delivery.objects.count()
    make_notices.delay("aip", CALL)  # a redelivered message, or a duplicate
    assert (StoredReport.objects.count(), Delivery.objects.count()) == (reports, deliveries)


@pytest.mark.django_db
def test_a_rebuild_queues_the_calls_the_live_generation_has_not_seen(
    partners, alice, bob, in_process, django_capture_on_commit_callbacks
):
    """A switch moves the checkpoint past events the live runner never applied: the
    rebuild queues those (and only those)."""
    issue(alice, bob)  # the live generation has not caught up
    with django_capture_on_commit_callbacks(execute=True):
        runner.rebuild(NAME)
    assert ProjectionState.objects.get(name=NAME).checkpoint == store.head()
    assert delivered() == expected()


@pytest.mark.django_db
def test_a_partner_without_recipients_has_its_notice_stored_not_sent(
    partners, alice, bob, in_process, django_capture_on_commit_callbacks
):
    PartnerRecipient.objects.filter(organisation_id="microsoft").delete()
    with django_capture_on_commit_callbacks(execute=True):
        issue(alice, bob)
        runner.catch_up_all()
    assert StoredReport.objects.filter(organisation_id="microsoft", format="pdf").exists()
    assert delivered() == {e: {"mgx"} for e in RECIPIENTS["mgx"]}


@pytest.mark.django_db
def test_manage_make_notices_finishes_what_a_lost_task_left(partners, alice, bob, in_process):
    issue(alice, bob)
    runner.catch_up_all()  # its task is queued on a commit that never comes: "lost"
    assert unmade_notices() == [("aip", CALL)]
    out = io.StringIO()

    call_command("make_notices", stdout=out)

    assert "aip call-1: notices made; sent to mgx (2), microsoft (1)." in out.getvalue()
    assert delivered() == expected()
    assert unmade_notices() == []
    again = io.StringIO()
    call_command("make_notices", stdout=again)
    assert "Every issued call has its notices." in again.getvalue()


@pytest.mark.django_db
def test_the_consumer_is_listed_with_the_projections(partners, alice, bob):
    assert NAME in registry.names()
    issue(alice, bob)
    runner.catch_up_all()
    out = io.StringIO()
    call_command("projections_status", stdout=out)
    (line,) = [row for row in out.getvalue().splitlines() if row.startswith(NAME)]
    assert "ok (generation 1)" in line


# --- the real path: PostgreSQL, a broker, a worker ----------------------------------------


@pytest.fixture
def broker(
    postgres_only: None,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RedisServer]:
    with private_broker(settings, monkeypatch, tmp_path_factory.mktemp("notices-logs")) as server:
        yield server


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_catches_up_makes_the_notices_and_queues_each_partners_deliveries(
    partners, alice, bob, broker: RedisServer, tmp_path_factory: pytest.TempPathFactory
):
    issue(alice, bob)  # committed: its trigger queues a catch-up on the broker
    assert not NoticeRequest.objects.exists()
    processes = Processes(broker, tmp_path_factory, sweep_seconds=5, stale_rebuild_seconds=30)
    with processes.running():
        processes.worker()
        wait_until(
            lambda: delivered() == expected(),
            timeout=90,
            interval=0.2,
            what="the worker to queue each partner's notice to its recipients",
        )
    (request,) = NoticeRequest.live()
    assert request.call_id == CALL
    assert StoredReport.objects.filter(kind="notice", format="pdf").count() == 2
    assert ProjectionState.objects.get(name=NAME).checkpoint == store.head()


@pytest.mark.django_db
def test_manage_make_notices_says_why_a_call_is_refused(partners, alice, bob, in_process):
    issue(alice, bob)
    runner.catch_up_all()
    with pytest.raises(CommandError, match=r"aip call-9: .*no capital call 'call-9'"):
        call_command("make_notices", "--call", "aip:call-9", "--call", "aip:call-1")
    assert delivered() == expected(), "the other call was still made"
    assert not StoredReport.objects.filter(key__startswith="notice:aip:call-9:").exists()
