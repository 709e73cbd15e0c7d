"""Capital call notices: a ledger consumer of ``CapitalCallIssued`` that makes each
partner's notice and sends it to that partner's recipients.

Issuing a call (``consortium.services.capital_call_issue``) appends the event and nothing
else. The ``notices`` projection (``NoticesProjection``, its own checkpoint, run by the
projection runner like every read model) sees the event, writes a ``NoticeRequest`` row in
the runner's transaction (the one that advances its checkpoint), and queues on commit the
Celery task ``make_notices(consortium, call_id)``. The task generates the call's notices
(``consortium.reports.services.generate_reports``, kind ``notice``: a PDF to attach and an
HTML body, per partner allocated) and hands each partner's own notice to that partner's
recipients (``consortium.reports.delivery.queue_deliveries``), never another's.

**Exactly once, whatever is replayed.** Every step is keyed: the stored reports by
``notice:<consortium>:<call>`` (``StoredReport.key`` adds the partner and format), the
deliveries by ``notice:<consortium>:<call>:<organisation>`` (``Delivery.key`` adds the
address), so a retried, duplicated or replayed task stores and sends nothing twice. A
rebuild of the projection (a new generation replaying every ``CapitalCallIssued``) queues
a task only for the events the live generation has not yet applied (those past its
checkpoint, which the switch would otherwise skip); the others were handled when the live
generation met them.

The projection is registered when this module is imported, which ``ConsortiumConfig.ready``
(``consortium/apps.py``) does in every process; that also makes its task known to every
Celery worker (autodiscovery only imports ``<app>/tasks.py``). Generating and delivering
are imported when the task runs, so start-up does not load the renderers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from consortium.domain.events import CapitalCallIssued
from consortium.models import NoticeRequest, StoredReport
from consortium.projections.common import slug_of
from consortium.reports.errors import ReportError
from consortium.reports.instructions import notice_recipients
from consortium.streams import load_consortium
from ledger.models import ProjectionState
from ledger.projections import registry
from ledger.projections.base import Keys, Projection, replace_rows
from ledger.store import RecordedEvent

log = logging.getLogger(__name__)

NAME = "notices"
TASK = "consortium.reports.notices.make_notices"
# A PDF to attach, and the HTML the e-mail's body is made of.
FORMATS = ("pdf", "html")
ATTACHED = ("pdf",)
REQUESTED_BY = "notices"
RETRIES = 6
RETRY_FIRST_SECONDS = 30


def notice_key(consortium: str, call_id: str) -> str:
    """The key of a call's stored notices (``StoredReport.key`` adds partner and format)."""
    return f"notice:{consortium}:{call_id}"


def delivery_key(consortium: str, call_id: str, organisation_id: str) -> str:
    """The key of one partner's notice deliveries (``Delivery.key`` adds the address)."""
    return f"{notice_key(consortium, call_id)}:{organisation_id}"


class RequestsConsumer(Projection):
    """A ledger consumer that records one request row per event (``models[0]``: the
    consortium, the event's ``id_field`` and its effective date as ``date_field``) in the
    runner's transaction, and queues ``queue(consortium, id)`` on commit for the events the
    live generation has not seen (a rebuild replays the others, already handled)."""

    id_field: ClassVar[str]
    date_field: ClassVar[str]

    def queue(self, consortium: str, identifier: str) -> None:
        raise NotImplementedError

    def apply(self, events: Sequence[RecordedEvent], *, generation: int, after: int) -> None:
        model = self.models[0]
        found = [(slug_of(event.stream), str(event.data[self.id_field])) for event in events]
        requests: list[dict[str, Any]] = [
            {
                "generation": generation,
                "position": event.position,
                "consortium": consortium,
                self.id_field: identifier,
                self.date_field: event.effective_on,
            }
            for event, (consortium, identifier) in zip(events, found, strict=True)
        ]
        keys = Keys(model, ("consortium", self.id_field), found)
        replace_rows(generation, [keys], [(model, requests)])
        unseen = _live_checkpoint(self.name)
        for event, (consortium, identifier) in zip(events, found, strict=True):
            if event.position > unseen:
                self.queue(consortium, identifier)


def _live_checkpoint(name: str) -> int:
    """The live generation's checkpoint as committed (its runner holds the row: it has not
    moved it yet for the batch being applied). Events past it have not been seen live."""
    state = ProjectionState.objects.filter(name=name).values_list("checkpoint", flat=True)
    return state.first() or 0


def retry_later(task: Any, error: Exception, what: str) -> None:
    """After a failed notices task: in-process (eager) there is no worker to retry later,
    so it is logged; else Celery retries it after ``RETRY_FIRST_SECONDS``, doubling."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        log.exception("%s failed.", what)
        return
    retries = getattr(getattr(task, "request", None), "retries", 0) or 0
    log.warning("%s failed (%s); retrying.", what, error)
    countdown = RETRY_FIRST_SECONDS * 2**retries
    raise task.retry(exc=error, countdown=countdown) from error


class NoticesProjection(RequestsConsumer):
    """One ``NoticeRequest`` per issued call; queues its notices once committed."""

    name = NAME
    event_types = frozenset({CapitalCallIssued.TYPE})
    models = (NoticeRequest,)
    id_field = "call_id"
    date_field = "issued_on"

    def queue(self, consortium: str, identifier: str) -> None:
        queue_notices(consortium, identifier)


def queue_notices(consortium: str, call_id: str) -> None:
    """Queue ``make_notices`` once the current transaction commits (never if it rolls
    back). A broker that refuses the message is logged; the ``NoticeRequest`` row stays,
    and ``unmade_notices`` lists it for ``manage.py make_notices`` to finish."""

    def send() -> None:
        make_notices.delay(consortium, call_id)

    transaction.on_commit(send, robust=True)


@shared_task(name=TASK, bind=True, ignore_result=True, acks_late=True, max_retries=RETRIES)
def make_notices(self: object, consortium: str, call_id: str) -> None:
    """Make and send the call's notices (see the module docstring); retried with backoff
    when generating or queueing fails, never when the input is refused (logged)."""
    try:
        notices_make(consortium=consortium, call_id=call_id)
    except ReportError as refused:
        log.error("The notices of call %s in %s were refused: %s", call_id, consortium, refused)
    except Exception as error:
        retry_later(self, error, f"Notices of call {call_id} in {consortium}")


def notices_make(*, consortium: str, call_id: str) -> dict[str, list[str]]:
    """Generate the call's notices and queue each partner's to its own recipients, in one
    transaction; returns the addresses queued per partner. Idempotent (keys)."""
    from consortium.reports.services import generate_reports

    key = notice_key(consortium, call_id)
    with transaction.atomic():
        # One task per call at a time: a duplicate waits here, then finds everything keyed.
        requests = list(
            NoticeRequest.objects.select_for_update()
            .filter(consortium=consortium, call_id=call_id)
            .order_by("-generation")
        )
        # Anchored at the issue (its position, dated the day it took effect): the same
        # notice whenever the task runs, later contributions and calls left out.
        issue = requests[0] if requests else None
        reports = generate_reports(
            kind="notice",
            parameters={"consortium": consortium, "call": call_id},
            formats=list(FORMATS),
            key=key,
            requested_by=REQUESTED_BY,
            position=issue.position if issue else None,
            report_date=min(issue.issued_on, timezone.localdate()) if issue else None,
        )
        return queue_to_partners(
            consortium,
            reports,
            subject=_subject(consortium, call_id),
            what=f"notice of call {call_id}",
            key_of=lambda organisation_id: delivery_key(consortium, call_id, organisation_id),
        )


def queue_to_partners(
    consortium: str,
    reports: Sequence[StoredReport],
    *,
    subject: str,
    what: str,
    key_of: Callable[[str], str],
) -> dict[str, list[str]]:
    """Queue each partner's own reports (its PDF attached, its HTML as the body) to that
    partner's recipients of notices, and nobody else's; returns the addresses queued per
    partner. A partner with no recipient has its ``what`` stored, not sent (logged).
    Keyed by ``key_of(organisation_id)``: a repeat queues nothing twice."""
    from consortium.reports.delivery import queue_deliveries

    queued: dict[str, list[str]] = {}
    for organisation_id, own in sorted(_by_partner(reports).items()):
        recipients = notice_recipients(consortium, organisation_id)
        if not recipients:
            log.warning(
                "%s has no recipient of notices in %s: its %s is stored, not sent.",
                organisation_id,
                consortium,
                what,
            )
            continue
        queue_deliveries(
            reports=[r for r in own if r.format in ATTACHED],
            recipients=recipients,
            subject=subject,
            body_html=_body(own),
            key=key_of(organisation_id),
        )
        queued[organisation_id] = recipients
    return queued


def _by_partner(reports: Sequence[StoredReport]) -> dict[str, list[StoredReport]]:
    grouped: dict[str, list[StoredReport]] = {}
    for report in reports:
        if report.organisation_id:  # a notice is always one partner's
            grouped.setdefault(report.organisation_id, []).append(report)
    return grouped


def _subject(consortium: str, call_id: str) -> str:
    name = load_consortium(consortium).state.name or consortium
    return f"Capital call notice: {name}, call {call_id}"


def _body(reports: Sequence[StoredReport]) -> str:
    """The partner's HTML notice, as the e-mail's body."""
    for report in reports:
        if report.format == "html":
            with report.file.open("rb") as stored:
                content: bytes = stored.read()
                return content.decode("utf-8")
    return ""


def unmade_notices() -> list[tuple[str, str]]:
    """Issued calls (live ``NoticeRequest`` rows) with no stored notice: a queued task
    that was lost or gave up. ``manage.py make_notices`` finishes them."""
    requests = NoticeRequest.live().order_by("consortium", "call_id")
    return [
        (consortium, call_id)
        for consortium, call_id in requests.values_list("consortium", "call_id")
        if not StoredReport.objects.filter(
            key__startswith=f"{notice_key(consortium, call_id)}:"
        ).exists()
    ]


registry.register(NoticesProjection())
