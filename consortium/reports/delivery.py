"""Delivering stored reports by e-mail: one ``Delivery`` per recipient, sent through
Django's e-mail backend, retried with backoff, every attempt recorded.

- ``queue_deliveries`` makes one delivery per recipient (key ``f"{key}:{recipient}"``;
  an existing one is returned as it is and not queued again) with a ``Message-ID`` fixed
  now, and queues its sending when the transaction commits.
- ``send_delivery`` makes one attempt, holding the delivery's row lock: a delivery that
  is already ``sent`` (its recipient's server acknowledged it) is never sent again, so a
  retried, duplicated or redelivered task cannot send twice. A failed attempt records
  ``attempts``, ``last_error`` and ``last_attempt_at`` and says when to retry
  (``REPORTS_DELIVERY_RETRY_SECONDS`` doubling, at most ``REPORTS_DELIVERY_RETRY_MAX_SECONDS``);
  after ``REPORTS_DELIVERY_MAX_ATTEMPTS``, or on a permanent refusal (an SMTP 5xx), it is
  ``failed`` with its error.
- ``sweep_deliveries`` (beat, every few minutes) queues again the pending deliveries whose
  queued attempt never came (a lost broker message, a worker killed mid-retry).

One gap no e-mail system closes: a server that accepted the message while this process
died before recording it gets it again on the next attempt, with the same Message-ID,
which is what lets mail systems and people recognise the repeat.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import smtplib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email import encoders
from email.mime.base import MIMEBase

from celery import current_app
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, make_msgid
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from consortium.models import Delivery, ReportRun, StoredReport

log = logging.getLogger(__name__)

SEND_DELIVERY = "consortium.reports.tasks.send_delivery"
# A pending delivery whose next attempt is this late is queued again by the sweep.
SWEEP_GRACE = dt.timedelta(minutes=5)


class DeliveryError(ValueError):
    """Deliveries that cannot be made as asked (no report, a bad address)."""


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one ``send_delivery`` call did: the delivery's status and attempts after it,
    and in how many seconds to try again (None: nothing more to do)."""

    status: str
    attempts: int
    retry_in: float | None = None
    error: str = ""


# --- queueing --------------------------------------------------------------------------


def queue_deliveries(
    *,
    reports: Sequence[StoredReport],
    recipients: Iterable[str],
    subject: str,
    body_html: str,
    key: str,
    run: ReportRun | None = None,
) -> list[Delivery]:
    """One delivery of ``reports`` per recipient, sent once the caller's transaction
    commits. A recipient already given a delivery under ``key`` gets that one back,
    unchanged and not queued again. ``DeliveryError`` (nothing made) for no report or an
    address that is not one."""
    reports = list(reports)
    if not reports:
        raise DeliveryError("A delivery carries at least one stored report.")
    addresses = []
    for recipient in recipients:
        address = recipient.strip()
        try:
            validate_email(address)
        except ValidationError:
            raise DeliveryError(f"{recipient!r} is not an e-mail address.") from None
        if address not in addresses:
            addresses.append(address)
    made = []
    with transaction.atomic():
        for address in addresses:
            made.append(_delivery(reports, address, subject, body_html, f"{key}:{address}", run))
    return made


def _delivery(
    reports: list[StoredReport],
    recipient: str,
    subject: str,
    body_html: str,
    key: str,
    run: ReportRun | None,
) -> Delivery:
    existing = Delivery.objects.filter(key=key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            made = Delivery.objects.create(
                key=key,
                recipient=recipient,
                subject=subject[:300],
                body_html=body_html,
                message_id=make_msgid(domain=settings.REPORTS_MESSAGE_ID_DOMAIN),
                run=run,
            )
            made.reports.set(reports)
    except IntegrityError:  # made by a concurrent caller under the same key
        return Delivery.objects.get(key=key)

    # robust: a failed publish is logged and left to the sweep, never lost with the
    # caller's committed work (a named function: Django's log line needs __qualname__).
    def send_after_commit() -> None:
        queue_send(made.pk)

    transaction.on_commit(send_after_commit, robust=True)
    return made


def queue_send(delivery_id: int) -> None:
    """Queue one sending attempt: the task ``SEND_DELIVERY``, by name (``consortium.apps``
    registers the reports' tasks in every process; run in-process on the embedded
    default)."""
    current_app.signature(SEND_DELIVERY, args=(delivery_id,)).apply_async()


def body_html(reports: Sequence[StoredReport], title: str) -> str:
    """The HTML body for ``reports``: the HTML rendering when exactly one report is in
    HTML, else a list of the attached files with their anchors."""
    rendered = [r for r in reports if r.format == "html"]
    if len(rendered) == 1:
        with rendered[0].file.open("rb") as file:
            return bytes(file.read()).decode("utf-8")
    items = "".join(
        f"<li>{html.escape(r.filename)}: report date {r.report_date.isoformat()}, "
        f"ledger position {r.position}, hash <code>{html.escape(r.chain_hash)}</code></li>"
        for r in reports
    )
    return (
        f"<!doctype html><html><body><h1>{html.escape(title)}</h1>"
        f"<p>The reports are attached:</p><ul>{items}</ul></body></html>"
    )


def body_text(delivery: Delivery, reports: Sequence[StoredReport]) -> str:
    """The plain-text body: what is attached, each with the anchor printed on it."""
    lines = [delivery.subject, "", "Attached:"]
    for report in reports:
        lines.append(
            f"- {report.filename} (report date {report.report_date.isoformat()}, "
            f"ledger position {report.position}, hash {report.chain_hash})"
        )
    lines += ["", "Check a report's anchor with: manage.py verify_ledger --expect POS:HASH"]
    return "\n".join(lines) + "\n"


# --- sending ---------------------------------------------------------------------------


def message(delivery: Delivery) -> EmailMultiAlternatives:
    """The e-mail for ``delivery``, with its fixed Message-ID and its reports attached."""
    reports = list(delivery.reports.order_by("id"))
    email = EmailMultiAlternatives(
        subject=delivery.subject,
        body=body_text(delivery, reports),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.recipient],
        headers={"Message-ID": delivery.message_id},
    )
    if delivery.body_html:
        email.attach_alternative(delivery.body_html, "text/html")
    for report in reports:
        with report.file.open("rb") as file:
            email.attach(attachment(report.filename, bytes(file.read()), report.content_type))
    return email


def attachment(filename: str, content: bytes, content_type: str) -> MIMEBase:
    """A file as an attachment in base64 whatever its type, so the recipient's copy is
    the stored bytes exactly (its SHA-256 is the report's checksum); text parts would
    otherwise have their line endings rewritten on the way."""
    kind, _, rest = content_type.partition(";")
    maintype, _, subtype = kind.strip().partition("/")
    params = {
        name.strip(): value.strip().strip('"')
        for name, _, value in (p.partition("=") for p in rest.split(";") if "=" in p)
    }
    part = MIMEBase(maintype or "application", subtype or "octet-stream")
    for name, value in params.items():
        part.set_param(name, value)
    part.set_payload(content)
    encoders.encode_base64(part)
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def retry_seconds(attempts: int) -> float:
    """Seconds before the attempt after ``attempts`` failed ones: doubling, capped."""
    base = float(settings.REPORTS_DELIVERY_RETRY_SECONDS)
    cap = float(settings.REPORTS_DELIVERY_RETRY_MAX_SECONDS)
    return min(base * 2.0 ** max(attempts - 1, 0), cap)


def permanent(error: Exception) -> bool:
    """A refusal that no retry changes: the server answered 5xx (for every recipient)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return 500 <= error.smtp_code < 600
    return False


def describe(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error
        reply = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
        return f"{type(error).__name__}: {error.smtp_code} {reply}"
    return f"{type(error).__name__}: {error}"


def send_delivery(*, delivery_id: int) -> Attempt:
    """One attempt at sending a delivery, under its row lock (see the module's notes)."""
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:
            log.warning("Delivery %s no longer exists; nothing to send.", delivery_id)
            return Attempt("missing", 0)
        if delivery.status != "pending":  # sent (acknowledged) or given up: never again
            return Attempt(delivery.status, delivery.attempts)
        delivery.attempts += 1
        delivery.last_attempt_at = timezone.now()
        try:
            message(delivery).send(fail_silently=False)
        except Exception as error:  # SMTP, network, storage, configuration: all recorded
            delivery.last_error = describe(error)
            give_up = (
                permanent(error) or delivery.attempts >= settings.REPORTS_DELIVERY_MAX_ATTEMPTS
            )
            if give_up:
                delivery.status = "failed"
            delivery.save(update_fields=["attempts", "last_attempt_at", "last_error", "status"])
            (log.error if give_up else log.warning)(
                "Delivery %s to %s, attempt %s: %s%s",
                delivery.pk,
                delivery.recipient,
                delivery.attempts,
                delivery.last_error,
                " (given up)" if give_up else "",
            )
            return Attempt(
                delivery.status,
                delivery.attempts,
                None if give_up else retry_seconds(delivery.attempts),
                delivery.last_error,
            )
        delivery.status = "sent"
        delivery.sent_at = timezone.now()
        delivery.save(update_fields=["attempts", "last_attempt_at", "status", "sent_at"])
        return Attempt("sent", delivery.attempts)


def sweep_deliveries(now: dt.datetime | None = None) -> list[int]:
    """Queue again every pending delivery whose next attempt is overdue by
    ``SWEEP_GRACE`` (its queued message was lost); the ids queued."""
    now = now or timezone.now()
    overdue = []
    for delivery_id, attempts, created_at, last_attempt_at in Delivery.objects.filter(
        status="pending"
    ).values_list("id", "attempts", "created_at", "last_attempt_at"):
        if attempts == 0 or last_attempt_at is None:
            due = created_at
        else:
            due = last_attempt_at + dt.timedelta(seconds=retry_seconds(attempts))
        if due + SWEEP_GRACE <= now:
            overdue.append(delivery_id)
    for delivery_id in overdue:
        queue_send(delivery_id)
    if overdue:
        log.warning("Queued %s pending deliveries again: %s", len(overdue), overdue)
    return overdue
