"""The API's write endpoints: one POST per command of ``consortium.services``.

Semantics (issue 5), shared by every endpoint through ``CommandView``:

- ``Idempotency-Key`` (per client): checked before anything is decided; a repeat with the
  same method, path and body replays the recorded status, body and headers with
  ``Idempotent-Replayed: true`` and appends nothing; the same key for another request is
  422. The record is a ledger receipt (``ledger.store.NewReceipt``) that the append's own
  statement writes with the events; a repeat or a racing twin finds it under the ledger
  lock, appends nothing and the view answers with the stored record. Refusals are not
  recorded.
- ``If-Match: "<n>"`` (or ``W/"<n>"`` or a bare ``n``) is the stream version the client
  decided on: stale is 412 and never retried. Without it, a concurrent change is retried
  once by the service, then 409. A malformed ``If-Match`` is 400.
- 201 answers carry the resource's key fields, ``stream``, ``version``, ``positions`` and
  ``ETag: "<version>"``. ``X-Correlation-ID`` (if sent) becomes the events' correlation id.
- Bad input is a 400 problem (malformed JSON, wrong types, bad amounts, unknown
  currencies, impossible dates, NUL or lone surrogates anywhere in the body); bodies above
  ``DATA_UPLOAD_MAX_MEMORY_SIZE`` are 413. A broken rule is 422, and so is an unknown
  consortium, call, commitment, facility, contribution, partner or asset (the domain's
  ``not_found`` problem type): the URL is well formed, the command is refused.

Extension of the published contract: ``POST consortia/{slug}/capital-calls/{id}/
contributions/{contribution}/reverse/`` (finance) reverses a contribution.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.urls import URLPattern, URLResolver, path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consortium import services as s
from consortium.api import idempotency
from consortium.api import write_serializers as ws
from consortium.api.access import (
    CAPABILITIES,
    FINANCE_WRITE,
    WRITE,
    client_id,
    has_capability,
)
from consortium.api.errors import PROBLEM
from consortium.api.read_serializers import ProblemSerializer
from consortium.domain.errors import DomainError, InvalidAmount, NotFound
from consortium.domain.money import Money, Percent, to_decimal
from consortium.domain.values import Holder, Tranche
from consortium.models import RoleGrant
from consortium.streams import load_asset, load_consortium
from ledger.store import IdempotencyConflict, NewReceipt

Body = dict[str, Any]


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def _today() -> dt.date:
    return timezone.now().date()


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _new_id() -> str:
    return str(uuid.uuid4())


def _money(value: str, currency: str, field: str = "amount") -> Money:
    """``Money`` from a validated decimal string; the currency's precision is a 400."""
    try:
        return Money.of(value, currency)
    except DomainError as error:
        raise exceptions.ValidationError({field: [error.message]}) from None


def _percent(value: str) -> Percent:
    try:
        return Percent.of(value)
    except DomainError as error:
        raise exceptions.ValidationError({"percent": [error.message]}) from None


# A consortium's base currency is fixed when it is formed, so the default currency of a
# command is looked up once per process (the service then loads the state anyway).
_BASE_CURRENCIES: dict[str, str] = {}


def _base_currency(slug: str) -> str:
    currency = _BASE_CURRENCIES.get(slug)
    if currency is None:
        state = load_consortium(slug).state
        if not state.is_formed:
            raise NotFound(f"There is no consortium {slug!r}.", field="slug")
        currency = _BASE_CURRENCIES[slug] = state.base_currency
    return currency


def forget() -> None:
    """Drop what this process remembers of consortia (tests start each on a fresh ledger)."""
    _BASE_CURRENCIES.clear()


def _check_text(value: Any, where: str = "") -> None:
    """Refuse NUL and lone surrogates anywhere in the body, keys included (400)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise exceptions.ValidationError({where or "body": ["NUL characters are not allowed."]})
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise exceptions.ValidationError(
                {where or "body": ["Lone surrogate characters are not allowed."]}
            ) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, where or "body")
            _check_text(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_text(item, f"{where}.{index}" if where else str(index))


# --- the shared write path ------------------------------------------------------------


def _receipted(actor: s.Actor, body: Body) -> s.Actor:
    """The actor whose receipt (if it has one) carries ``body``, the answer to replay."""
    if actor.receipt is None:
        return actor
    return dataclasses.replace(actor, receipt=dataclasses.replace(actor.receipt, body=body))


class CommandView(APIView):
    """POST a command: validate, check idempotency and If-Match, append, answer 201."""

    capability = {"POST": WRITE}
    request_serializer: type[serializers.Serializer[Any]]

    def command(self, actor: s.Actor, data: Body, **kwargs: str) -> tuple[s.CommandResult, Body]:
        raise NotImplementedError

    def post(self, request: Request, *args: Any, **kwargs: str) -> Response:
        length = request.META.get("CONTENT_LENGTH") or "0"
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length.isdigit() and int(length) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        try:
            data = request.data
        except RecursionError:
            raise exceptions.ParseError(
                "JSON parse error - the body is nested too deeply."
            ) from None
        _check_text(data)
        expected = idempotency.expected_version(request)
        key = idempotency.key_of(request)
        correlation = request.headers.get("X-Correlation-ID")
        if correlation is not None and not idempotency._KEY.fullmatch(correlation):
            raise exceptions.ValidationError(
                {"X-Correlation-ID": ["Use 1 to 255 visible ASCII characters."]}
            )
        client = client_id(request)
        fingerprint = idempotency.fingerprint(request, data) if key else ""
        actor = s.Actor(
            request.user,
            source="api",
            expected_version=expected,
            correlation_id=correlation,
            receipt=NewReceipt(client, key, fingerprint, {}) if key is not None else None,
        )
        try:
            serializer = self.request_serializer(data=data)
            serializer.is_valid(raise_exception=True)
            # The receipt goes in with the events, in the append's own statement, which
            # replays it when the key is already used (by an earlier request or a twin
            # racing this one): nothing here runs while the ledger is locked.
            result, body = self.command(actor, dict(serializer.validated_data), **kwargs)
        except (
            DomainError,
            s.StaleVersion,
            s.ConcurrentChange,
            IdempotencyConflict,
            exceptions.APIException,
        ):
            # Refused; but if the key was used before, the answer is that request's (a
            # retry of a command that succeeded may now be refused, as a duplicate say).
            record = idempotency.find(client, key) if key is not None else None
            if record is None:
                raise
            return idempotency.replay(record, fingerprint)
        if result.receipt is not None:  # replayed: answer as the first request was answered
            return idempotency.replay(result.receipt, fingerprint)
        return idempotency.created(body, result.stream, result.version, result.positions)


class _WriteAnywhere(permissions.BasePermission):
    """For ``assets/`` (no slug in the URL): a role with the capability in some scope;
    the view then checks it in the sponsoring consortium."""

    message = "Your role does not allow this (write)."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        return RoleGrant.objects.filter(user=request.user, role__in=CAPABILITIES[WRITE]).exists()


def _require_write_in(actor: s.Actor, sponsor: str) -> None:
    if not has_capability(actor.user, WRITE, sponsor):
        raise exceptions.PermissionDenied(
            f"Your role does not allow this (write in {sponsor}, the asset's sponsor)."
        )


# --- OpenAPI ----------------------------------------------------------------------------

_ERRORS = {
    400: "Malformed JSON, a wrong type, a bad amount, currency or date, a bad header.",
    401: "No key, or a wrong, revoked or expired key.",
    403: "Your role does not allow this here.",
    409: "Changed concurrently twice; nothing was recorded. Retry.",
    412: "If-Match names a stale version; nothing was recorded.",
    413: "The body is larger than the limit (256 KiB).",
    415: "The body is not JSON.",
    422: "A rule refuses the command (in words), an unknown id, or a reused Idempotency-Key.",
    429: "Too many requests from this client.",
}
_HEADERS = [
    OpenApiParameter(
        "Idempotency-Key",
        str,
        OpenApiParameter.HEADER,
        description="Per client. A repeat replays the first answer "
        "(`Idempotent-Replayed: true`); the same key with another body is 422.",
    ),
    OpenApiParameter(
        "If-Match",
        str,
        OpenApiParameter.HEADER,
        description='The stream version you decided on (the ETag of a write), e.g. "12"; '
        "stale is 412.",
    ),
    OpenApiParameter(
        "X-Correlation-ID",
        str,
        OpenApiParameter.HEADER,
        description="Recorded as the events' correlation id.",
    ),
]


def documented(
    request: type[serializers.Serializer[Any]],
    response: type[serializers.Serializer[Any]],
    summary: str,
    operation_id: str,
) -> Callable[[type[CommandView]], type[CommandView]]:
    """Schema for a command view's POST: its body, its 201 and every problem."""
    responses: dict[Any, Any] = {
        (201, "application/json"): OpenApiResponse(
            response, "Recorded. The `ETag` header carries the stream version."
        )
    }
    for code, text in _ERRORS.items():
        responses[(code, PROBLEM)] = OpenApiResponse(ProblemSerializer, text)

    def decorate(cls: type[CommandView]) -> type[CommandView]:
        cls.request_serializer = request

        def post(self: CommandView, request: Request, *args: Any, **kwargs: str) -> Response:
            return CommandView.post(self, request, *args, **kwargs)

        post.__doc__ = cls.__doc__
        cls.post = extend_schema(  # type: ignore[method-assign]
            request=request,
            responses=responses,
            parameters=_HEADERS,
            summary=summary,
            description=cls.__doc__,
            operation_id=operation_id,
            tags=["writes"],
        )(post)
        return cls

    return decorate


# --- consortium, targets, partners -----------------------------------------------------


@documented(ws.ConsortiumIn, ws.ConsortiumOut, "Form a consortium", "consortium_form")
class ConsortiumForm(CommandView):
    """Form a consortium (deal team). Its slug must be new."""

    def command(self, actor: s.Actor, data: Body, **kwargs: str) -> tuple[s.CommandResult, Body]:
        formed_on = data.get("formed_on") or _today()
        body = {
            "slug": data["slug"],
            "name": data["name"],
            "base_currency": data["base_currency"],
            "formed_on": _iso(formed_on),
        }
        result = s.consortium_form(
            actor=_receipted(actor, body),
            slug=data["slug"],
            name=data["name"],
            base_currency=data["base_currency"],
            formed_on=formed_on,
        )
        return result, body


@documented(ws.TargetIn, ws.TargetOut, "Set a fundraising target", "consortium_set_target")
class TargetSet(CommandView):
    """Set the fundraising target for equity, debt or the total (deal team), optionally
    with a deadline or tranches that sum to the amount."""

    def command(self, actor: s.Actor, data: Body, **kwargs: str) -> tuple[s.CommandResult, Body]:
        slug = kwargs["slug"]
        currency = data.get("currency") or _base_currency(slug)
        amount = _money(data["amount"], currency)
        tranches = [
            Tranche(_money(t["amount"], currency, f"tranches.{i}.amount"), t["available_from"])
            for i, t in enumerate(data.get("tranches") or [])
        ]
        on = data.get("effective_on") or _today()
        body = {
            "consortium": slug,
            "instrument": data["instrument"],
            "amount": str(amount.amount),
            "currency": currency,
            "deadline": _iso(data.get("deadline")),
            "tranches": [
                {"amount": str(t.amount.amount), "available_from": t.available_from.isoformat()}
                for t in tranches
            ],
            "effective_on": on.isoformat(),
        }
        result = s.consortium_set_target(
            actor=_receipted(actor, body),
            slug=slug,
            instrument=data["instrument"],
            amount=amount,
            deadline=data.get("deadline"),
            tranches=tranches,
            effective_on=on,
        )
        return result, body


@documented(ws.PartnerIn, ws.PartnerOut, "Admit a partner", "partner_admit")
class PartnerAdmit(CommandView):
    """Admit an organisation as a partner with a role (deal team)."""

    def command(self, actor: s.Actor, data: Body, **kwargs: str) -> tuple[s.CommandResult, Body]:
        on = data.get("effective_on") or _today()
        body = {
            "consortium": kwargs["slug"],
            "organisation_id": data["organisation_id"],
            "name": data["name"],
            "role": data["role"],
            "effective_on": on.isoformat(),
        }
        result = s.partner_admit(
            actor=_receipted(actor, body),
            slug=kwargs["slug"],
            organisation_id=data["organisation_id"],
            name=data["name"],
            role=data["role"],
            effective_on=on,
        )
        return result, body


@documented(ws.PartnerRoleIn, ws.PartnerRoleOut, "Change a partner's role", "partner_role")
class PartnerRole(CommandView):
    """Change a partner's role (deal team): a technical advisor becoming a member, say."""

    def command(self, actor: s.Actor, data: Body, **kwargs: str) -> tuple[s.CommandResult, Body]:
        on = data.get("effective_on") or _today()
        body = {
            "consortium": kwargs["slug"],
            "organisation_id": kwargs["partner"],
            "role": data["role"],
            "effective_on": on.isoformat(),
        }
        result = s.partner_change_role(
            actor=_receipted(actor, body),
            slug=kwargs["slug"],
            organisation_id=kwargs["partner"],
            role=data["role"],
            effective_on=on,
        )
        return result, body


# --- commitments -------------------------------------------------------------------------


@documented(ws.CommitmentIn, ws.CommitmentOut, "Record a commitment", "commitment_record")
class CommitmentRecord(CommandView):
    """Record a partner's commitment through equity, an asset contribution or a corporate
    partnership (deal team). Equity is in the base currency."""

    def command(self, actor: s.Actor, data: Body, **kwargs: str) -> tuple[s.CommandResult, Body]:
        slug = kwargs["slug"]
        currency = data.get("currency") or _base_currency(slug)
        amount = _money(data["amount"], currency)
        commitment_id = data.get("commitment_id") or _new_id()
        on = data.get("effective_on") or _today()
        body = {
            "consortium": slug,
            "commitment_id": commitment_id,
            "organisation_id": data["organisation_id"],
            "instrument": data["instrument"],
            "amount": str(amount.amount),
            "currency": currency,
            "stage": data["stage"],
            "effective_on": on.isoformat(),
        }
        result = s.commitment_record(
            actor=_receipted(actor, body),
            slug=slug,
            commitment_id=commitment_id,
            organisation_id=data["organisation_id"],
            instrument=data["instrument"],
            amount=amount,
            stage=data["stage"],
            effective_on=on,
        )
        return result, body


@documented(ws.StageIn, ws.StageOut, "Advance a commitment's stage", "commitment_stage")
class CommitmentStage(CommandView):
    """Move a commitment along indicated -> soft_circled -> signed, or withdraw it."""

    def command(self, actor: s.Actor, data: Body, **kwargs: str) -> tuple[s.CommandResult, Body]:
        on = data.get("effective_on") or _today()
        body = {
            "consortium": kwargs["slug"],
            "commitment_id": kwargs["commitment"],
            "stage": data["stage"],
            "effective_on": on.isoformat(),
        }
        result = s.commitment_advance_stage(
            actor=_receipted(actor, body),
            slug=kwargs["slug"],
            commitment_id=kwargs["commitment"],
            stage=data["stage"],
            effective_on=on,
        )
        return result, body


@documented(ws.AmendIn, ws.AmendOut, "Amend a commitment", "commitment_amend")
class CommitmentAmend(CommandView):
    """Set a commitment's new amount (never below what was already called)."""

    def command(self, actor: s.Actor, data: Body, **kwargs: str) -> tuple[s.CommandResult, Body]:
        slug = kwargs["slug"]
        if data.get("currency"):
            currency = data["currency"]
        else:
            state = load_consortium(slug).state
            commitment = state.commitments.get(kwargs["commitment"]) if state.is_formed else None
            currency = commitment.currency if commitment else _base_currency(slug)
        amount = _money(data["amount"], currency)
        on = data.get("effective_on") or _today()
        body = {
            "consortium": slug,
            "commitment_id": kwargs["commitment"],
            "amount": str(amount.amount),
            "currency": currency,
            "effective_on": on.isoformat(),
        }
        result = s.commitment_amend(
            actor=_receipted(actor, body),
            slug=slug,
            commitment_id=kwargs["commitment"],
            amount=amount,
            effective_on=on,
        )
        return result, body


# --- capital calls and contributions -------------------------------------------------


@documented(ws.CallIn, ws.CallOut, "Prepare a capital call", "capital_call_prepare")
class CallPrepare(CommandView):
    """Prepare a draft capital call (deal team); the key's user is its preparer."""

    def command(self, actor: s.Actor, data: Body, **kwargs: str) -> tuple[s.CommandResult, Body]:
        slug = kwargs["slug"]
        currency = data.get("currency") or _base_currency(slug)
        amount = _money(data["amount"], currency)
        call_id = data.get("call_id") or _new_id()
        on = data.get("effective_on") or _today()
        body = {
            "consortium": slug,
            "call_id": call_id,
            "amount": str(amount.amount),
            "currency": currency,
            "due_on": data["due_on"].isoformat(),
            "purpose": data["purpose"].strip(),
            "prepared_by": actor.username,
            "status": "draft",
            "effective_on": on.isoformat(),
        }
        result = s.capital_call_prepare(
            actor=_receipted(actor, body),
            slug=slug,
            call_id=call_id,
            amount=amount,
            due_on=data["due_on"],
            purpose=data["purpose"],
            effective_on=on,
        )
        return result, body


def _call_step(
    action: Callable[..., s.CommandResult], status_: str
) -> Callable[[CommandView, s.Actor, Body], tuple[s.CommandResult, Body]]:
    def command(
        self: CommandView, actor: s.Actor, data: Body, **kwargs: str
    ) -> tuple[s.CommandResult, Body]:
        on = data.get("effective_on") or _today()
        extra = {"reason": data["reason"]} if "reason" in data else {}
        body = {
            "consortium": kwargs["slug"],
            "call_id": kwargs["call"],
            "status": status_,
            "by": actor.username,
            "effective_on": on.isoformat(),
        }
        result = action(
            actor=_receipted(actor, body),
            slug=kwargs["slug"],
            call_id=kwargs["call"],
            effective_on=on,
            **extra,
        )
        return result, body

    return command


@documented(ws.DatedIn, ws.CallStepOut, "Approve a capital call", "capital_call_approve")
class CallApprove(CommandView):
    """Approve a draft call (deal team): the key's user must not be its preparer."""

    command = _call_step(s.capital_call_approve, "approved")  # type: ignore[assignment]


@documented(ws.DatedIn, ws.CallStepOut, "Issue a capital call", "capital_call_issue")
class CallIssue(CommandView):
    """Issue an approved call (deal team): allocations are fixed pro rata to signed
    equity, each within the partner's unfunded amount."""

    command = _call_step(s.capital_call_issue, "issued")  # type: ignore[assignment]


@documented(ws.CancelIn, ws.CallStepOut, "Cancel a capital call", "capital_call_cancel")
class CallCancel(CommandView):
    """Cancel a draft or approved call (deal team); an issued call cannot be cancelled."""

    command = _call_step(s.capital_call_cancel, "cancelled")  # type: ignore[assignment]


@documented(ws.ContributionIn, ws.ContributionOut, "Record a contribution", "contribution_receive")
class ContributionReceive(CommandView):
    """Record cash received from a partner against an issued call (finance)."""

    capability = {"POST": FINANCE_WRITE}

    def command(self, actor: s.Actor, data: Body, **kwargs: str) -> tuple[s.CommandResult, Body]:
        slug = kwargs["slug"]
        currency = data.get("currency") or _base_currency(slug)
        amount = _money(data["amount"], currency)
        contribution_id = data.get("contribution_id") or _new_id()
        on = data.get("received_on") or _today()
        body = {
            "consortium": slug,
            "call_id": kwargs["call"],
            "contribution_id": contribution_id,
            "organisation_id": data["organisation_id"],
            "amount": str(amount.amount),
            "currency": currency,
            "bank_reference": data["bank_reference"].strip(),
            "received_on": on.isoformat(),
        }
        result = s.contribution_receive(
            actor=_receipted(actor, body),
            slug=slug,
            contribution_id=contribution_id,
            call_id=kwargs["call"],
            organisation_id=data["organisation_id"],
            amount=amount,
            bank_reference=data["bank_reference"],
            received_on=on,
        )
        return result, body


@documented(ws.ReversalIn, ws.ReversalOut, "Reverse a contribution", "contribution_reverse")
class ContributionReverse(CommandView):
    """Reverse a contribution recorded in error or returned by the bank (finance). An
    extension of the published contract; the contribution must be on this call."""

    capability = {"POST": FINANCE_WRITE}

    def command(self, actor: s.Actor, data: Body, **kwargs: str) -> tuple[s.CommandResult, Body]:
        slug, call_id, contribution_id = kwargs["slug"], kwargs["call"], kwargs["contribution"]
        state = load_consortium(slug).state
        contribution = state.contributions.get(contribution_id)
        if contribution is not None and contribution.call_id != call_id:
            raise NotFound(
                f"Contribution {contribution_id!r} was received on capital call "
                f"{contribution.call_id!r}, not {call_id!r}.",
                field="contribution_id",
            )
        on = data.get("effective_on") or _today()
        body = {
            "consortium": slug,
            "call_id": call_id,
            "contribution_id": contribution_id,
            "reason": data["reason"].strip(),
            "effective_on": on.isoformat(),
        }
        result = s.contribution_reverse(
            actor=_receipted(actor, body),
            slug=slug,
            contribution_id=contribution_id,
            reason=data["reason"],
            effective_on=on,
        )
        return result, body


# --- debt facilities and FX ---------------------------------------------------------------


@documented(ws.FacilityIn, ws.FacilityOut, "Arrange a debt facility", "facility_arrange")
class FacilityArrange(CommandView):
    """Record a committed credit line from a lender (deal team); counts as signed debt."""

    def command(self, actor: s.Actor, data: Body, **kwargs: str) -> tuple[s.CommandResult, Body]:
        slug = kwargs["slug"]
        currency = data.get("currency") or _base_currency(slug)
        amount = _money(data["amount"], currency)
        facility_id = data.get("facility_id") or _new_id()
        on = data.get("effective_on") or _today()
        body = {
            "consortium": slug,
            "facility_id": facility_id,
            "lender": data["lender"],
            "amount": str(amount.amount),
            "currency": currency,
            "maturity_on": data["maturity_on"].isoformat(),
            "revolving": data["revolving"],
            "effective_on": on.isoformat(),
        }
        result = s.facility_arrange(
            actor=_receipted(actor, body),
            slug=slug,
            facility_id=facility_id,
            lender=data["lender"],
            amount=amount,
            maturity_on=data["maturity_on"],
            revolving=data["revolving"],
            effective_on=on,
        )
        return result, body


def _facility_currency(slug: str, facility_id: str) -> str:
    state = load_consortium(slug).state
    facility = state.facilities.get(facility_id) if state.is_formed else None
    return facility.currency if facility else _base_currency(slug)


@documented(ws.DrawIn, ws.DrawOut, "Draw on a debt facility", "facility_draw")
class FacilityDraw(CommandView):
    """Draw on a facility (finance); counts as debt funded."""

    capability = {"POST": FINANCE_WRITE}

    def command(self, actor: s.Actor, data: Body, **kwargs: str) -> tuple[s.CommandResult, Body]:
        slug, facility_id = kwargs["slug"], kwargs["facility"]
        currency = data.get("currency") or _facility_currency(slug, facility_id)
        amount = _money(data["amount"], currency)
        draw_id = data.get("draw_id") or _new_id()
        on = data.get("effective_on") or _today()
        body = {
            "consortium": slug,
            "facility_id": facility_id,
            "draw_id": draw_id,
            "amount": str(amount.amount),
            "currency": currency,
            "effective_on": on.isoformat(),
        }
        result = s.facility_draw(
            actor=_receipted(actor, body),
            slug=slug,
            facility_id=facility_id,
            draw_id=draw_id,
            amount=amount,
            effective_on=on,
        )
        return result, body


@documented(ws.RepaymentIn, ws.RepaymentOut, "Repay a debt facility", "facility_repay")
class FacilityRepay(CommandView):
    """Repay drawn debt (finance); restores availability only on a revolving facility."""

    capability = {"POST": FINANCE_WRITE}

    def command(self, actor: s.Actor, data: Body, **kwargs: str) -> tuple[s.CommandResult, Body]:
        slug, facility_id = kwargs["slug"], kwargs["facility"]
        currency = data.get("currency") or _facility_currency(slug, facility_id)
        amount = _money(data["amount"], currency)
        repayment_id = data.get("repayment_id") or _new_id()
        on = data.get("effective_on") or _today()
        body = {
            "consortium": slug,
            "facility_id": facility_id,
            "repayment_id": repayment_id,
            "amount": str(amount.amount),
            "currency": currency,
            "effective_on": on.isoformat(),
        }
        result = s.facility_repay(
            actor=_receipted(actor, body),
            slug=slug,
            facility_id=facility_id,
            repayment_id=repayment_id,
            amount=amount,
            effective_on=on,
        )
        return result, body


@documented(ws.FxRateIn, ws.FxRateOut, "Record an FX rate", "fx_rate_record")
class FxRateRecord(CommandView):
    """Record a rate (finance): base units per one unit of the currency, in force from its
    date until the next."""

    capability = {"POST": FINANCE_WRITE}

    def command(self, actor: s.Actor, data: Body, **kwargs: str) -> tuple[s.CommandResult, Body]:
        try:
            rate = to_decimal(data["rate"], field="rate")
        except InvalidAmount as error:  # pragma: no cover - the serializer checked it
            raise exceptions.ValidationError({"rate": [error.message]}) from None
        on = data.get("effective_on") or _today()
        body = {
            "consortium": kwargs["slug"],
            "currency": data["currency"],
            "rate": data["rate"],
            "effective_on": on.isoformat(),
        }
        result = s.fx_rate_record(
            actor=_receipted(actor, body),
            slug=kwargs["slug"],
            currency=data["currency"],
            rate=rate,
            effective_on=on,
        )
        return result, body


# --- assets and stakes --------------------------------------------------------------------


@documented(ws.AssetIn, ws.AssetOut, "Register an asset", "asset_register")
class AssetRegister(CommandView):
    """Register a data centre or energy facility (the sponsoring consortium's deal team)."""

    permission_classes = [_WriteAnywhere]

    def command(self, actor: s.Actor, data: Body, **kwargs: str) -> tuple[s.CommandResult, Body]:
        sponsor = data["sponsor"]
        _require_write_in(actor, sponsor)
        currency = data.get("currency") or _base_currency(sponsor)
        cost = _money(data["estimated_cost"], currency, "estimated_cost")
        asset_id = data.get("asset_id") or _new_id()
        on = data.get("effective_on") or _today()
        body = {
            "asset_id": asset_id,
            "sponsor": sponsor,
            "kind": data["kind"],
            "name": data["name"].strip(),
            "location": data["location"].strip(),
            "capacity_mw": data["capacity_mw"],
            "estimated_cost": str(cost.amount),
            "currency": currency,
            "effective_on": on.isoformat(),
        }
        result = s.asset_register(
            actor=_receipted(actor, body),
            asset_id=asset_id,
            sponsor=sponsor,
            kind=data["kind"],
            name=data["name"],
            location=data["location"],
            capacity_mw=to_decimal(data["capacity_mw"], field="capacity_mw"),
            estimated_cost=cost,
            effective_on=on,
        )
        return result, body


@documented(ws.StakeIn, ws.StakeOut, "Acquire, transfer or sell a stake", "asset_stake")
class AssetStake(CommandView):
    """Acquire, transfer or sell a stake in an asset (the sponsor's deal team); stakes in
    one asset never exceed 100 %."""

    permission_classes = [_WriteAnywhere]

    def command(self, actor: s.Actor, data: Body, **kwargs: str) -> tuple[s.CommandResult, Body]:
        asset_id = kwargs["asset"]
        sponsor = load_asset(asset_id).state.sponsor
        if not sponsor:
            raise NotFound(f"No asset {asset_id!r} is registered.", field="asset_id")
        _require_write_in(actor, sponsor)
        holder = Holder(data["holder"]["kind"], data["holder"]["id"])
        percent = _percent(data["percent"])
        on = data.get("effective_on") or _today()
        to_holder = None
        if data["action"] == "transfer":
            to_holder = Holder(data["to_holder"]["kind"], data["to_holder"]["id"])
        body = {
            "asset_id": asset_id,
            "action": data["action"],
            "holder": {"kind": holder.kind, "id": holder.id},
            "to_holder": {"kind": to_holder.kind, "id": to_holder.id} if to_holder else None,
            "percent": data["percent"],
            "effective_on": on.isoformat(),
        }
        signed = _receipted(actor, body)
        if to_holder is not None:
            result = s.stake_transfer(
                actor=signed,
                asset_id=asset_id,
                from_holder=holder,
                to_holder=to_holder,
                percent=percent,
                effective_on=on,
            )
        elif data["action"] == "sell":
            result = s.stake_sell(
                actor=signed, asset_id=asset_id, holder=holder, percent=percent, effective_on=on
            )
        else:
            result = s.stake_acquire(
                actor=signed, asset_id=asset_id, holder=holder, percent=percent, effective_on=on
            )
        return result, body


# --- routes -----------------------------------------------------------------------------


def _shared(route: str, view: type[CommandView], name: str) -> URLPattern:
    """A POST route whose path also has a GET in ``reads``: other methods go there.

    ``urls.py`` lists the writes first, so without this a ``GET consortia/`` would stop at
    the write view (405). The callback keeps ``cls`` and ``initkwargs`` so the schema
    generator still documents the POST; the GET is documented from ``reads``.
    """
    post_view = view.as_view()

    def dispatch(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method not in {"POST", "OPTIONS"}:
            match = _resolve_read(pattern, request.path_info)
            if match is not None:
                return match.func(request, *match.args, **match.kwargs)  # type: ignore[no-any-return]
        return post_view(request, *args, **kwargs)

    dispatch.cls = view  # type: ignore[attr-defined]
    dispatch.initkwargs = {}  # type: ignore[attr-defined]
    pattern = path(route, csrf_exempt(dispatch), name=name)
    return pattern


def _resolve_read(pattern: URLPattern, path_info: str) -> Any:
    from consortium.api import reads  # imported late: reads may import writes' helpers

    for start in [i + 1 for i, char in enumerate(path_info) if char == "/"]:
        tail = path_info[start:]
        if pattern.pattern.match(tail) is None:
            continue
        for candidate in reads.urlpatterns:
            if isinstance(candidate, URLResolver):
                continue
            match = candidate.resolve(tail)
            if match is not None:
                return match
        return None
    return None


_C = "consortia/<str:slug>/"
_CALL = _C + "capital-calls/<str:call>/"
_FAC = _C + "facilities/<str:facility>/"

urlpatterns: list[URLPattern | URLResolver] = [
    _shared("consortia/", ConsortiumForm, "api-consortium-form"),
    path(_C + "targets/", TargetSet.as_view(), name="api-targets"),
    path(_C + "partners/", PartnerAdmit.as_view(), name="api-partners"),
    path(_C + "partners/<str:partner>/role/", PartnerRole.as_view(), name="api-partner-role"),
    path(_C + "commitments/", CommitmentRecord.as_view(), name="api-commitments"),
    path(
        _C + "commitments/<str:commitment>/stage/",
        CommitmentStage.as_view(),
        name="api-commitment-stage",
    ),
    path(
        _C + "commitments/<str:commitment>/amend/",
        CommitmentAmend.as_view(),
        name="api-commitment-amend",
    ),
    _shared(_C + "capital-calls/", CallPrepare, "api-call-prepare"),
    path(_CALL + "approve/", CallApprove.as_view(), name="api-call-approve"),
    path(_CALL + "issue/", CallIssue.as_view(), name="api-call-issue"),
    path(_CALL + "cancel/", CallCancel.as_view(), name="api-call-cancel"),
    path(_CALL + "contributions/", ContributionReceive.as_view(), name="api-contributions"),
    path(
        _CALL + "contributions/<str:contribution>/reverse/",
        ContributionReverse.as_view(),
        name="api-contribution-reverse",
    ),
    path(_C + "facilities/", FacilityArrange.as_view(), name="api-facilities"),
    path(_FAC + "draws/", FacilityDraw.as_view(), name="api-facility-draws"),
    path(_FAC + "repayments/", FacilityRepay.as_view(), name="api-facility-repayments"),
    path(_C + "fx-rates/", FxRateRecord.as_view(), name="api-fx-rates"),
    _shared("assets/", AssetRegister, "api-asset-register"),
    path("assets/<str:asset>/stakes/", AssetStake.as_view(), name="api-asset-stakes"),
]

__all__ = ["urlpatterns"]
