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

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from consortium.domain.events import DistributionPaid
from consortium.models import DistributionNoticeRequest
from consortium.reports.errors import ReportError
from consortium.reports.notices import RequestsConsumer, queue_to_partners, retry_later
from consortium.streams import load_consortium
from ledger.projections import registry

log = logging.getLogger(__name__)

NAME = "distribution_notices"
TASK = "consortium.reports.distribution_notices.make_distribution_notices"
FORMATS = ("pdf", "html")
REQUESTED_BY = "distribution_notices"
RETRIES = 6


def notice_key(consortium: str, distribution_id: str) -> str:
    """The key of a distribution's stored notices (``StoredReport.key`` adds partner and
    format)."""
    return f"distribution-notice:{consortium}:{distribution_id}"


def delivery_key(consortium: str, distribution_id: str, organisation_id: str) -> str:
    return f"{notice_key(consortium, distribution_id)}:{organisation_id}"


class DistributionNoticesProjection(RequestsConsumer):
    """One ``DistributionNoticeRequest`` per paid distribution; queues its notices once
    committed."""

    name = NAME
    event_types = frozenset({DistributionPaid.TYPE})
    models = (DistributionNoticeRequest,)
    id_field = "distribution_id"
    date_field = "paid_on"

    def queue(self, consortium: str, identifier: str) -> None:
        queue_distribution_notices(consortium, identifier)


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
        retry_later(self, error, f"Notices of distribution {distribution_id} in {consortium}")


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
