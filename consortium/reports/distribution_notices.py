"""Distribution notices: a ledger consumer of ``DistributionPaid`` that makes each
partner's notice of a paid distribution and sends it to that partner's recipients.

A sibling of the capital call notices (``consortium.reports.notices``), built the same
way: paying a distribution (``consortium.services.distribution_pay``) appends the event
and nothing else; the ``distribution_notices`` projection (its own checkpoint) writes a
``DistributionNoticeRequest`` row in the runner's transaction and queues on commit the
task ``make_distribution_notices(consortium, distribution_id)``.

**No new report kind**: a distribution notice is the partner's *statement* for the day the
distribution was paid (kind ``statement``, period = that day, anchored at the payment's
ledger position), whose "Distributions in the period" section shows the partner's share
and the part of it that is recallable, and its distributed, recallable, net invested and
DPI figures after it; the e-mail's subject names the distribution.

**Exactly once, whatever is replayed**: the stored reports are keyed by
``distribution-notice:<consortium>:<distribution>``, the deliveries by that key plus the
partner, so a retried, duplicated or replayed task stores and sends nothing twice; a
rebuild queues a task only for payments the live generation had not yet seen.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from consortium.domain.events import DistributionPaid
from consortium.models import DistributionNoticeRequest
from consortium.projections.common import slug_of
from consortium.reports.errors import ReportError
from consortium.reports.notices import queue_to_partners
from consortium.streams import load_consortium
from ledger.models import ProjectionState
from ledger.projections import registry
from ledger.projections.base import Keys, Projection, replace_rows
from ledger.store import RecordedEvent

log = logging.getLogger(__name__)

NAME = "distribution_notices"
TASK = "consortium.reports.distribution_notices.make_distribution_notices"
FORMATS = ("pdf", "html")
REQUESTED_BY = "distribution_notices"
RETRIES = 6
RETRY_FIRST_SECONDS = 30


def notice_key(consortium: str, distribution_id: str) -> str:
    """The key of a distribution's stored notices (``StoredReport.key`` adds partner and
    format)."""
    return f"distribution-notice:{consortium}:{distribution_id}"


def delivery_key(consortium: str, distribution_id: str, organisation_id: str) -> str:
    return f"{notice_key(consortium, distribution_id)}:{organisation_id}"


class DistributionNoticesProjection(Projection):
    """One ``DistributionNoticeRequest`` per paid distribution; queues its notices once
    committed."""

    name = NAME
    event_types = frozenset({DistributionPaid.TYPE})
    models = (DistributionNoticeRequest,)

    def apply(self, events: Sequence[RecordedEvent], *, generation: int, after: int) -> None:
        paid = [(slug_of(e.stream), str(e.data["distribution_id"])) for e in events]
        requests: list[dict[str, Any]] = [
            {
                "generation": generation,
                "position": event.position,
                "consortium": consortium,
                "distribution_id": distribution_id,
                "paid_on": event.effective_on,
            }
            for event, (consortium, distribution_id) in zip(events, paid, strict=True)
        ]
        keys = Keys(DistributionNoticeRequest, ("consortium", "distribution_id"), paid)
        replace_rows(generation, [keys], [(DistributionNoticeRequest, requests)])
        unseen = _live_checkpoint()
        for event, (consortium, distribution_id) in zip(events, paid, strict=True):
            if event.position > unseen:
                queue_distribution_notices(consortium, distribution_id)


def _live_checkpoint() -> int:
    state = ProjectionState.objects.filter(name=NAME).values_list("checkpoint", flat=True)
    return state.first() or 0


def queue_distribution_notices(consortium: str, distribution_id: str) -> None:
    """Queue the task once the current transaction commits (never if it rolls back)."""

    def send() -> None:
        make_distribution_notices.delay(consortium, distribution_id)

    transaction.on_commit(send, robust=True)


@shared_task(name=TASK, bind=True, ignore_result=True, acks_late=True, max_retries=RETRIES)
def make_distribution_notices(self: object, consortium: str, distribution_id: str) -> None:
    """Make and send the distribution's notices; retried with backoff when generating or
    queueing fails, never when the input is refused (logged)."""
    try:
        distribution_notices_make(consortium=consortium, distribution_id=distribution_id)
    except ReportError as refused:
        log.error(
            "Notices of distribution %s in %s refused: %s", distribution_id, consortium, refused
        )
    except Exception as error:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            log.exception("Notices of distribution %s in %s failed.", distribution_id, consortium)
            return
        retries = getattr(getattr(self, "request", None), "retries", 0) or 0
        countdown = RETRY_FIRST_SECONDS * 2**retries
        raise self.retry(exc=error, countdown=countdown) from error  # type: ignore[attr-defined]


def distribution_notices_make(*, consortium: str, distribution_id: str) -> dict[str, list[str]]:
    """Generate each partner's notice (its statement for the day of payment) and queue it
    to that partner's recipients, in one transaction; returns the addresses queued per
    partner. Idempotent (keys)."""
    from consortium.reports.services import generate_reports

    key = notice_key(consortium, distribution_id)
    with transaction.atomic():
        requests = list(
            DistributionNoticeRequest.objects.select_for_update()
            .filter(consortium=consortium, distribution_id=distribution_id)
            .order_by("-generation")
        )
        if not requests:
            raise ReportError(f"Distribution {distribution_id!r} of {consortium!r} is not paid.")
        paid = requests[0]
        state = load_consortium(consortium).state
        distribution = state.distributions.get(distribution_id)
        if distribution is None:
            raise ReportError(f"{consortium!r} has no distribution {distribution_id!r}.")
        partners = sorted(org for org, share in distribution.shares.items() if share > 0)
        day = min(paid.paid_on, timezone.localdate())
        reports = generate_reports(
            kind="statement",
            parameters={
                "consortium": consortium,
                "period_start": paid.paid_on.isoformat(),
                "period_end": paid.paid_on.isoformat(),
                "organisation": ",".join(partners),
            },
            formats=list(FORMATS),
            key=key,
            requested_by=REQUESTED_BY,
            position=paid.position,
            report_date=day,
        )
        return queue_to_partners(
            consortium,
            reports,
            subject=(
                f"Distribution notice: {state.name or consortium}, distribution {distribution_id}"
            ),
            what=f"notice of distribution {distribution_id}",
            key_of=lambda organisation_id: delivery_key(
                consortium, distribution_id, organisation_id
            ),
        )


registry.register(DistributionNoticesProjection())
