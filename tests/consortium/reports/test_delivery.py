"""Delivering stored reports by e-mail to a real SMTP server on 127.0.0.1 (aiosmtpd):
one delivery per recipient with a fixed Message-ID, attachments, retries with backoff,
failures recorded, and never a second copy to a recipient whose server acknowledged."""

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from consortium.models import Delivery
from consortium.reports import delivery
from consortium.reports.delivery import DeliveryError, queue_deliveries, send_delivery
from tests.consortium.reports.delivery_support import attachments, stored_report

BUSY = "451 4.3.0 Mailbox busy, try again later"


def queue(reports: list[Any], *recipients: str, key: str = "test:1") -> list[Delivery]:
    return queue_deliveries(
        reports=reports,
        recipients=list(recipients),
        subject="AIP statements: 2026-02",
        body_html="<p>Your statement</p>",
        key=key,
    )


@pytest.fixture
def retries(settings: Any) -> None:
    settings.REPORTS_DELIVERY_MAX_ATTEMPTS = 3
    settings.REPORTS_DELIVERY_RETRY_SECONDS = 60
    settings.REPORTS_DELIVERY_RETRY_MAX_SECONDS = 3600


pytestmark = pytest.mark.usefixtures("media", "retries")


# --- queueing -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_one_delivery_per_recipient_with_a_fixed_message_id(
    smtp, django_capture_on_commit_callbacks
):
    report = stored_report()
    with django_capture_on_commit_callbacks() as queued:
        made = queue([report], "a@example.com", "b@example.com", "a@example.com")
    assert [d.recipient for d in made] == ["a@example.com", "b@example.com"]
    assert [d.key for d in made] == ["test:1:a@example.com", "test:1:b@example.com"]
    assert all(
        d.message_id.startswith("<") and d.message_id.endswith("@consortium.test>") for d in made
    )
    assert made[0].message_id != made[1].message_id
    assert {d.status for d in made} == {"pending"}
    assert list(made[0].reports.all()) == [report]
    assert len(queued) == 2  # one send each, on commit
    # Asked again under the same key: the same deliveries, nothing queued again.
    with django_capture_on_commit_callbacks() as again:
        repeat = queue([report], "a@example.com", "b@example.com")
    assert [d.pk for d in repeat] == [d.pk for d in made]
    assert [d.message_id for d in repeat] == [d.message_id for d in made]
    assert again == []


@pytest.mark.django_db
def test_a_bad_address_or_no_report_makes_nothing(smtp):
    report = stored_report()
    with pytest.raises(DeliveryError, match="'not an address' is not an e-mail address"):
        queue([report], "a@example.com", "not an address")
    with pytest.raises(DeliveryError, match="at least one stored report"):
        queue([], "a@example.com")
    assert not Delivery.objects.exists()


# --- sending ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_message_carries_both_bodies_the_attachments_and_the_message_id(smtp):
    csv = stored_report(organisation="mgx")
    page = stored_report(fmt="html", organisation="mgx", content=b"<h1>MGX statement</h1>\n")
    (made,) = queue([csv, page], "treasury@mgx.example")
    attempt = send_delivery(delivery_id=made.pk)
    assert attempt == delivery.Attempt("sent", 1)
    (received,) = smtp.mailbox.to("treasury@mgx.example")
    assert received["Message-ID"] == made.message_id
    assert received["Subject"] == "AIP statements: 2026-02"
    assert received["From"] == "reports@consortium.test"
    plain = received.get_body(("plain",))
    html = received.get_body(("html",))
    assert plain is not None and "statement-mgx.csv" in plain.get_content()
    assert "ledger position 42" in plain.get_content()
    assert html is not None and html.get_content().strip() == "<p>Your statement</p>"
    assert attachments(received) == {
        "statement-mgx.csv": ("text/csv", csv.file.open("rb").read()),
        "statement-mgx.html": ("text/html", b"<h1>MGX statement</h1>\n"),
    }  # byte for byte: the same SHA-256 as stored (line endings untouched)
    made.refresh_from_db()
    assert (made.status, made.attempts, made.last_error) == ("sent", 1, "")
    assert made.sent_at is not None and made.last_attempt_at is not None


@pytest.mark.django_db
def test_a_sent_delivery_is_never_sent_again(smtp):
    (made,) = queue([stored_report()], "a@example.com")
    send_delivery(delivery_id=made.pk)
    # A retried or duplicated task: nothing reaches the server.
    assert send_delivery(delivery_id=made.pk) == delivery.Attempt("sent", 1)
    assert len(smtp.mailbox.to("a@example.com")) == 1


@pytest.mark.django_db
def test_a_busy_server_is_retried_with_backoff_until_the_last_attempt_fails(smtp):
    smtp.mailbox.refuse["a@example.com"] = BUSY
    (made,) = queue([stored_report()], "a@example.com")
    first = send_delivery(delivery_id=made.pk)
    assert (first.status, first.attempts, first.retry_in) == ("pending", 1, 60)
    assert "451" in first.error and "try again later" in first.error
    second = send_delivery(delivery_id=made.pk)
    assert (second.status, second.attempts, second.retry_in) == ("pending", 2, 120)
    last = send_delivery(delivery_id=made.pk)
    assert (last.status, last.attempts, last.retry_in) == ("failed", 3, None)
    made.refresh_from_db()
    assert made.status == "failed" and made.attempts == 3 and "451" in made.last_error
    assert made.sent_at is None and made.last_attempt_at is not None
    # Given up: a late duplicate of the task does not try again.
    assert send_delivery(delivery_id=made.pk).attempts == 3
    assert smtp.mailbox.refusals == ["a@example.com"] * 3
    assert smtp.mailbox.messages == []


@pytest.mark.django_db
def test_a_server_that_recovers_gets_the_message_once_with_the_same_message_id(smtp):
    smtp.mailbox.refuse["a@example.com"] = BUSY
    smtp.mailbox.times["a@example.com"] = 1
    (made,) = queue([stored_report()], "a@example.com")
    assert send_delivery(delivery_id=made.pk).status == "pending"
    assert send_delivery(delivery_id=made.pk) == delivery.Attempt("sent", 2)
    (received,) = smtp.mailbox.messages
    assert received["Message-ID"] == made.message_id


@pytest.mark.django_db
def test_a_permanent_refusal_fails_at_once(smtp):
    smtp.mailbox.refuse["gone@example.com"] = "550 5.1.1 No such mailbox"
    (made,) = queue([stored_report()], "gone@example.com")
    attempt = send_delivery(delivery_id=made.pk)
    assert (attempt.status, attempt.attempts, attempt.retry_in) == ("failed", 1, None)
    assert "550" in attempt.error


@pytest.mark.django_db
def test_a_closed_port_is_recorded_and_retried(smtp, settings):
    smtp.stop()
    (made,) = queue([stored_report()], "a@example.com")
    attempt = send_delivery(delivery_id=made.pk)
    assert (attempt.status, attempt.retry_in) == ("pending", 60)
    assert "ConnectionRefusedError" in attempt.error


def test_backoff_doubles_up_to_its_cap(settings):
    settings.REPORTS_DELIVERY_RETRY_SECONDS = 60
    settings.REPORTS_DELIVERY_RETRY_MAX_SECONDS = 600
    assert [delivery.retry_seconds(n) for n in range(1, 7)] == [60, 120, 240, 480, 600, 600]


# --- through the task, eagerly (the embedded default) ---------------------------------------


@pytest.mark.django_db(transaction=True)
def test_eager_tasks_send_the_acknowledged_once_and_retry_only_the_failing(smtp, eager):
    smtp.mailbox.refuse["busy@example.com"] = BUSY
    made = queue([stored_report()], "ok@example.com", "busy@example.com")  # commits: sends
    ok, busy = (Delivery.objects.get(pk=d.pk) for d in made)
    assert (ok.status, ok.attempts) == ("sent", 1)
    assert (busy.status, busy.attempts) == ("failed", 3)
    assert "451" in busy.last_error
    assert len(smtp.mailbox.to("ok@example.com")) == 1
    assert smtp.mailbox.refusals == ["busy@example.com"] * 3


@pytest.mark.django_db
def test_the_sweep_queues_again_only_overdue_pending_deliveries(
    smtp, eager, django_capture_on_commit_callbacks
):
    now = timezone.now()
    with django_capture_on_commit_callbacks():  # their queued sends are lost
        lost, fresh, retrying, sent = (
            queue([stored_report()], f"{name}@example.com", key=f"test:{name}")[0]
            for name in ("lost", "fresh", "retrying", "sent")
        )
    Delivery.objects.filter(pk=lost.pk).update(created_at=now - dt.timedelta(minutes=6))
    Delivery.objects.filter(pk=fresh.pk).update(created_at=now - dt.timedelta(minutes=1))
    # Failed twice, a minute ago: its retry (in 120 s) is still to come.
    Delivery.objects.filter(pk=retrying.pk).update(
        created_at=now - dt.timedelta(hours=1),
        attempts=2,
        last_attempt_at=now - dt.timedelta(minutes=1),
    )
    Delivery.objects.filter(pk=sent.pk).update(
        created_at=now - dt.timedelta(hours=1), status="sent", sent_at=now
    )
    assert delivery.sweep_deliveries(now) == [lost.pk]
    assert [str(m["To"]) for m in smtp.mailbox.messages] == ["lost@example.com"]
    # Seven minutes later the retry is overdue too, and the fresh one's send is lost.
    later = now + dt.timedelta(minutes=7)
    assert sorted(delivery.sweep_deliveries(later)) == sorted([fresh.pk, retrying.pk])


# --- concurrency (PostgreSQL: the row lock) ------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_one_delivery_at_once_send_it_once(postgres_only, smtp, eager):
    (made,) = queue([stored_report()], "a@example.com")
    Delivery.objects.filter(pk=made.pk).update(status="pending", attempts=0, sent_at=None)
    smtp.mailbox.messages.clear()
    start = threading.Barrier(2)
    results: list[delivery.Attempt] = []

    def worker() -> None:
        try:
            start.wait()
            results.append(send_delivery(delivery_id=made.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted((r.status, r.attempts) for r in results) == [("sent", 1), ("sent", 1)]
    assert len(smtp.mailbox.to("a@example.com")) == 1


@pytest.mark.django_db
def test_a_misconfigured_backend_is_recorded_on_the_delivery(settings, tmp_path):
    # The file backend pointed at a file, not a directory (as a read-only container
    # without EMAIL_HOST would be): each attempt fails, and says why.
    (tmp_path / "mail").write_text("not a directory")
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    (made,) = queue([stored_report()], "a@example.com")
    attempt = send_delivery(delivery_id=made.pk)
    assert (attempt.status, attempt.attempts, attempt.retry_in) == ("pending", 1, 60)
    assert attempt.error.startswith("ImproperlyConfigured: ")
    made.refresh_from_db()
    assert made.last_error == attempt.error
