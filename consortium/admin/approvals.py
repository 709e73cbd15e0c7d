"""Workspace room: approvals, the maker-checker queue of capital calls.

``admin:workspace-approvals`` lists, in the consortia the user may read, the capital calls
awaiting approval (``draft``) and those approved and awaiting issue, each with the
allocation per partner it would get if issued now: the issue decision's own arithmetic
(``rules.check_call_within_unfunded`` and ``allocation.allocate_call`` over
``positions.signed_equity_by_partner`` and ``unfunded_by_partner``) on the folded
consortium state, the state the approve and issue commands decide on.

The approve button leads to the approve form (``admin:workspace-command`` with
``capital-call-approve`` and ``?call_id=``); the preparer never sees it on their own call
(the service refuses anyway: rule 7), nor does a user without WRITE there. The sidebar's
badge counts the calls awaiting approval from the ``consortium`` projection (one query on
every page), so it may trail the queue by the projection's lag.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, URLPattern, path, reverse
from django.utils import timezone

from consortium import roles
from consortium.admin.journal import readable_consortia
from consortium.domain.allocation import allocate_call
from consortium.domain.errors import DomainError
from consortium.domain.money import Money
from consortium.domain.positions import (
    recallable_by_partner,
    signed_equity_by_partner,
    unfunded_by_partner,
)
from consortium.domain.rules import check_call_within_unfunded
from consortium.domain.state import CallState, ConsortiumState
from consortium.models import CapitalCallRow
from consortium.streams import load_consortium
from ledger.projections.runner import live_generation


def command_link(slug: str, command: str, **params: str) -> str | None:
    """The URL of a command's form, with GET parameters to prefill it; None when that form
    does not exist in this checkout (another room builds the forms)."""
    try:
        url = reverse("admin:workspace-command", args=[slug, command])
    except NoReverseMatch:
        return None
    return f"{url}?{urlencode(params)}" if params else url


@dataclass(frozen=True)
class Share:
    """One partner's part of a call if it were issued now."""

    organisation_id: str
    name: str
    signed: Money
    unfunded: Money
    allocation: Money


@dataclass(frozen=True)
class QueuedCall:
    slug: str
    consortium: str
    call: CallState
    amount: Money
    shares: tuple[Share, ...]
    refusal: str  # why it could not be issued now ("" if it could)
    action: str | None  # the approve or issue form's URL, when this user may use it
    note: str  # said instead of the button, when there is something to say
    past_due: bool


def allocation_now(state: ConsortiumState, call: CallState) -> tuple[tuple[Share, ...], str]:
    """What each partner would be allocated if the call were issued now, or why not."""
    currency = state.base_currency
    try:
        check_call_within_unfunded(state, Money.from_minor(call.amount_minor, currency))
        signed, unfunded = signed_equity_by_partner(state), unfunded_by_partner(state)
        allocation = allocate_call(
            call.amount_minor, signed, unfunded, recallable_by_partner(state)
        )
    except DomainError as refusal:
        return (), str(refusal)
    shares = tuple(
        Share(
            org,
            state.partners[org].name,
            Money.from_minor(signed[org], currency),
            Money.from_minor(unfunded[org], currency),
            Money.from_minor(minor, currency),
        )
        for org, minor in sorted(allocation.items())
        if signed[org] > 0
    )
    return shares, ""


def _queued(user: Any, slug: str, state: ConsortiumState, call: CallState) -> QueuedCall:
    shares, refusal = allocation_now(state, call)
    today = timezone.now().date()
    may_write = roles.has_capability(user, roles.WRITE, slug)
    action, note = None, ""
    if call.status == "draft":
        if call.prepared_by == user.get_username():
            note = "Prepared by you: another person must approve."
        elif may_write:
            action = command_link(slug, "capital-call-approve", call_id=call.call_id)
    elif may_write and not refusal:
        action = command_link(slug, "capital-call-issue", call_id=call.call_id)
    return QueuedCall(
        slug=slug,
        consortium=state.name,
        call=call,
        amount=Money.from_minor(call.amount_minor, state.base_currency),
        shares=shares,
        refusal=refusal,
        action=action,
        note=note,
        past_due=call.due_on < today,
    )


def queue(user: Any) -> tuple[list[QueuedCall], list[QueuedCall]]:
    """(awaiting approval, approved awaiting issue) in the consortia the user may read,
    by consortium, due date and call id."""
    drafts, approved = [], []
    for slug in readable_consortia(user):
        state = load_consortium(slug).state
        for call in sorted(state.calls.values(), key=lambda c: (c.due_on, c.call_id)):
            if call.status == "draft":
                drafts.append(_queued(user, slug, state, call))
            elif call.status == "approved":
                approved.append(_queued(user, slug, state, call))
    return drafts, approved


def awaiting_approval(user: Any) -> int:
    """How many calls await approval in the consortia the user may read (the projection)."""
    if not roles.may_use_workspace(user):
        return 0
    drafts = CapitalCallRow.objects.filter(generation=live_generation("consortium"), status="draft")
    if not (user.is_superuser or roles.has_capability(user, roles.READ, None)):
        scoped = {
            grant.consortium
            for grant in roles.grants_everywhere(user)
            if grant.role in roles.CAPABILITIES[roles.READ] and grant.consortium
        }
        drafts = drafts.filter(consortium__in=sorted(scoped))
    return drafts.count()


def approvals_view(request: HttpRequest) -> HttpResponse:
    drafts, approved = queue(request.user)
    context = {
        **admin.site.each_context(request),
        "title": "Approvals",
        "crumbs": [("Approvals", None)],
        "drafts": drafts,
        "approved": approved,
    }
    return render(request, "workspace/approvals/queue.html", context)


def urls() -> list[URLPattern]:
    return [path("approvals/", approvals_view, name="workspace-approvals")]
