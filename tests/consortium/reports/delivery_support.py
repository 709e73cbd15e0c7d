"""What the schedule and delivery tests share: a real SMTP server on 127.0.0.1 (aiosmtpd,
started and stopped by the test), real stored reports in a temporary media root, and
Celery run eagerly in this process whatever the backend."""

import contextlib
import datetime as dt
import email
import email.policy
import hashlib
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import kombu.pools
import pytest
from aiosmtpd.controller import Controller
from django.core.files.base import ContentFile

from config.celery import app as celery_app
from consortium.models import StoredReport
from tests.ledger.worker_support import free_port, point_celery_at


class Mailbox:
    """The aiosmtpd handler: keeps every accepted message; answers ``refuse[address]``
    (an SMTP reply such as ``451 4.3.0 Try again later``) to DATA for that recipient,
    ``times[address]`` times (or always when absent)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refusals: list[str] = []
        self.refuse: dict[str, str] = {}
        self.times: dict[str, int] = {}
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            for address in envelope.rcpt_tos:
                reply = self.refuse.get(address)
                if reply is not None and self.times.get(address, 1) > 0:
                    if address in self.times:
                        self.times[address] -= 1
                    self.refusals.append(address)
                    return reply
            parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            self.messages.append(parsed)
        return "250 2.0.0 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m in self.messages if address in str(m["To"])]


class SMTPServer:
    def __init__(self) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

        self.running = False

    def start(self) -> None:
        self.controller.start()
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.controller.stop()
            self.running = False


@pytest.fixture
def smtp(settings: Any) -> Iterator[SMTPServer]:
    """A real SMTP server on 127.0.0.1, and this process's e-mail settings pointing at it."""
    server = SMTPServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    settings.DEFAULT_FROM_EMAIL = "reports@consortium.test"
    settings.REPORTS_MESSAGE_ID_DOMAIN = "consortium.test"
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def media(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "media"
    settings.MEDIA_ROOT = str(root)
    return root


@contextlib.contextmanager
def running_eagerly(settings: Any) -> Iterator[None]:
    """Celery tasks run in this process (the embedded default), on either backend.

    An eager call still takes a producer from kombu's process-wide pools (for its
    serializer); a test before this one may have closed the pool for this broker URL
    (``point_celery_at``), so the pools start afresh here."""
    saved = celery_app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = True
    point_celery_at(celery_app.conf.broker_url, eager=True)
    kombu.pools.reset()
    try:
        yield
    finally:
        point_celery_at(celery_app.conf.broker_url, eager=saved)
        kombu.pools.reset()


@pytest.fixture
def eager(settings: Any) -> Iterator[None]:
    with running_eagerly(settings):
        yield


def stored_report(
    *, fmt: str = "csv", organisation: str = "", content: bytes | None = None, key: str = ""
) -> StoredReport:
    """A real stored report with a small real file (as ``generate_reports`` stores them)."""
    content = content or f"Statement,{organisation or 'all'}\r\nCommitment,600.00\r\n".encode()
    types = {"csv": "text/csv", "html": "text/html", "pdf": "application/pdf"}
    filename = f"statement-{organisation or 'aip'}.{fmt}"
    report = StoredReport(
        kind="statement",
        format=fmt,
        consortium="aip",
        organisation_id=organisation,
        parameters={"consortium": "aip"},
        report_date=dt.date(2026, 2, 28),
        position=42,
        chain_hash="ab" * 32,
        filename=filename,
        content_type=types[fmt],
        size=len(content),
        checksum=hashlib.sha256(content).hexdigest(),
        requested_by="test",
        key=key or None,
    )
    report.file.save(filename, ContentFile(content), save=False)
    report.save()
    return report


def attachments(message: EmailMessage) -> dict[str, tuple[str, bytes]]:
    """File name -> (content type without parameters, bytes) of every attachment."""
    found = {}
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        found[str(part.get_filename())] = (part.get_content_type(), payload)
    return found
