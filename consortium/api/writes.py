"""The API's write endpoints: one POST per command of ``consortium.services``.

Every endpoint is a ``CommandView``: its request serializer validates the body, ``call``
makes one service call with what the client sent (an omitted currency or id is the
service's to default), and its response serializer renders the command as the service
resolved it. Idempotency and ``If-Match`` are ``idempotency``'s (issue 5):

- ``Idempotency-Key`` (per client): a repeat with the same method, path and body replays
  the first answer (the same body bytes and ``ETag``, plus ``Idempotent-Replayed: true``)
  and appends nothing; the same key for another request is 422.
- ``If-Match: "<n>"`` is the stream version the client decided on: stale is 412 and never
  retried; a weak ETag never matches (412); a malformed one is 400. Without it, a
  concurrent change is retried by the service, then 409.
- 201 answers carry the resource's key fields, ``stream``, ``version``, ``positions`` and
  ``ETag: "<version>"``. ``X-Correlation-ID`` (if sent) becomes the events' correlation id.
- Bad input is a 400 problem (malformed JSON, wrong types, bad amounts, unknown
  currencies, impossible dates, text over its limit, NUL, lone surrogates or other
  control characters anywhere in the body); bodies above ``DATA_UPLOAD_MAX_MEMORY_SIZE``
  are 413. An unknown consortium or asset in the URL, or a slug or asset id that none
  could have, is 404; a broken rule is 422, and so is an unknown call, commitment,
  facility, contribution or partner (the command is refused).

Extension of the published contract: ``POST consortia/{slug}/capital-calls/{id}/
contributions/{contribution}/reverse/`` (finance) reverses a contribution.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consortium import services as s
from consortium.api import idempotency
from consortium.api import write_serializers as ws
from consortium.api.access import HasCapability
from consortium.api.errors import PROBLEM, check_path_ids
from consortium.api.read_serializers import ProblemSerializer
from consortium.domain.commands import Amount
from consortium.domain.errors import DomainError
from consortium.domain.identifiers import unstorable
from consortium.domain.money import Percent
from consortium.domain.values import Holder
from consortium.roles import (
    CAPABILITIES,
    FINANCE_WRITE,
    WRITE,
    grants_everywhere,
    has_capability,
)
from consortium.streams import load_asset

Body = dict[str, Any]


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def _new_id() -> str:
    return str(uuid.uuid4())


def _amount(data: Body, field: str = "amount") -> Amount:
    """The amount as sent, with its currency if one was sent (the service defaults it)."""
    return Amount(data[field], data.get("currency"))


def _percent(value: str) -> Percent:
    try:
        return Percent.of(value)
    except DomainError as error:
        raise exceptions.ValidationError({"percent": [error.message]}) from None


def _holder(value: Body) -> Holder:
    return Holder(value["kind"], value["id"])


def _check_text(value: Any, where: str = "") -> None:
    """Refuse, anywhere in the body (keys and fields the command ignores included), what
    no text may hold (``identifiers.unstorable``: NUL, lone surrogates, control characters
    other than tab, LF and CR), as a 400 naming where; each text field's own kind (one
    line, its limit) is its serializer field's to check."""
    if isinstance(value, str):
        fault = unstorable(value, multiline=True)
        if fault is not None:
            raise exceptions.ValidationError({where or "body": [f"This text {fault}; remove it."]})
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, where or "body")
            _check_text(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_text(item, f"{where}.{index}" if where else str(index))


def _body(request: Request) -> Any:
    """The parsed JSON body: 413 above the limit (before reading it), 400 if malformed."""
    length = request.META.get("CONTENT_LENGTH") or "0"
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is not None and length.isdigit() and int(length) > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    try:
        data = request.data
    except RecursionError:
        raise exceptions.ParseError("JSON parse error - the body is nested too deeply.") from None
    _check_text(data)
    return data


# --- the shared write path ------------------------------------------------------------


class CommandView(APIView):
    """POST a command: the request serializer in, one service call, the response
    serializer out (its rendering is also the answer a repeat of the request gets)."""

    capability: dict[str, str] = {"POST": WRITE}
    request_serializer: type[serializers.Serializer[Any]]
    response_serializer: type[ws.Created]
    status_after: str = ""  # the call's status after a capital call step

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        check_path_ids(kwargs)

    def call(self, actor: s.Actor, data: Body, **kwargs: str) -> s.CommandResult:
        """The one service call, with what the client sent."""
        raise NotImplementedError

    def post(self, request: Request, *args: Any, **kwargs: str) -> Response:
        data = _body(request)
        context: Body = {}
        rendered: list[tuple[Any, Body]] = []  # the last command rendered, and its fields

        def render(command: Any) -> Body:
            """The resource's fields for ``command`` (the service asks first, for the
            receipt; the answer reuses that rendering)."""
            if not rendered or rendered[0][0] is not command:
                fields = dict(self.response_serializer(command, context=context).data)
                rendered[:] = [(command, fields)]
            return rendered[0][1]

        actor = idempotency.actor(request, data, render)

        def run() -> Response:
            serializer = self.request_serializer(data=data)
            serializer.is_valid(raise_exception=True)
            validated = dict(serializer.validated_data)
            context.update(
                consortium=kwargs.get("slug"),
                by=request.user.get_username(),
                status=self.status_after,
                action=validated.get("action"),
            )
            result = self.call(actor, validated, **kwargs)
            resource = render(result.command)
            return idempotency.answer(self.response_serializer, resource, result)

        return idempotency.answered(actor, run, self.response_serializer)


class _WriteAnywhere(HasCapability):
    """For ``assets/`` (no slug in the URL), a POST needs a role with the capability in
    some scope; the service's sponsor is then checked (``_require_write_in``)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method != "POST" or not request.user or not request.user.is_authenticated:
            return super().has_permission(request, view)
        if any(g.role in CAPABILITIES[WRITE] for g in grants_everywhere(request.user)):
            return True
        self.message = "Your role does not allow this (write)."
        return False


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
    404: "No such consortium or asset.",
    409: "Changed concurrently twice; nothing was recorded. Retry.",
    412: "If-Match names a stale version; nothing was recorded.",
    413: "The body is larger than the limit (256 KiB).",
    415: "The body is not JSON.",
    422: "A rule refuses the command (in words), an unknown id in the body or of a call, "
    "commitment, facility, contribution or partner, or a reused Idempotency-Key.",
    429: "Too many requests from this client.",
}
_HEADERS = [
    OpenApiParameter(
        "Idempotency-Key",
        {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$", "maxLength": 255},
        OpenApiParameter.HEADER,
        description="Per client. A repeat replays the first answer "
        "(`Idempotent-Replayed: true`); the same key with another body is 422.",
    ),
    OpenApiParameter(
        "If-Match",
        {"type": "string", "pattern": '^"[0-9]{1,18}"$', "example": '"12"'},
        OpenApiParameter.HEADER,
        description="The stream version you decided on: the ETag of a write, quoted, e.g. "
        '"12". Compared strongly: stale or weak (`W/"12"`) is 412.',
    ),
    OpenApiParameter(
        "X-Correlation-ID",
        {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$", "maxLength": 255},
        OpenApiParameter.HEADER,
        description="Recorded as the events' correlation id: 1 to 255 visible ASCII "
        "characters (else 400).",
    ),
]


def documented(
    request: type[serializers.Serializer[Any]],
    response: type[ws.Created],
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
        cls.response_serializer = response

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

    def call(self, actor: s.Actor, data: Body, **kwargs: str) -> s.CommandResult:
        return s.consortium_form(
            actor=actor,
            slug=data["slug"],
            name=data["name"],
            base_currency=data["base_currency"],
            formed_on=data.get("formed_on"),
        )


@documented(ws.TargetIn, ws.TargetOut, "Set a fundraising target", "consortium_set_target")
class TargetSet(CommandView):
    """Set the fundraising target for equity, debt or the total (deal team), optionally
    with a deadline or tranches that sum to the amount."""

    def call(self, actor: s.Actor, data: Body, **kwargs: str) -> s.CommandResult:
        currency = data.get("currency")
        return s.consortium_set_target(
            actor=actor,
            slug=kwargs["slug"],
            instrument=data["instrument"],
            amount=_amount(data),
            deadline=data.get("deadline"),
            tranches=[
                (Amount(t["amount"], currency), t["available_from"])
                for t in data.get("tranches") or []
            ],
            effective_on=data.get("effective_on"),
        )


@documented(ws.PartnerIn, ws.PartnerOut, "Admit a partner", "partner_admit")
class PartnerAdmit(CommandView):
    """Admit an organisation as a partner with a role (deal team)."""

    def call(self, actor: s.Actor, data: Body, **kwargs: str) -> s.CommandResult:
        return s.partner_admit(
            actor=actor,
            slug=kwargs["slug"],
            organisation_id=data["organisation_id"],
            name=data["name"],
            role=data["role"],
            effective_on=data.get("effective_on"),
        )


@documented(ws.PartnerRoleIn, ws.PartnerRoleOut, "Change a partner's role", "partner_role")
class PartnerRole(CommandView):
    """Change a partner's role (deal team): a technical advisor becoming a member, say."""

    def call(self, actor: s.Actor, data: Body, **kwargs: str) -> s.CommandResult:
        return s.partner_change_role(
            actor=actor,
            slug=kwargs["slug"],
            organisation_id=kwargs["partner"],
            role=data["role"],
            effective_on=data.get("effective_on"),
        )


# --- commitments -------------------------------------------------------------------------


@documented(ws.CommitmentIn, ws.CommitmentOut, "Record a commitment", "commitment_record")
class CommitmentRecord(CommandView):
    """Record a partner's commitment through equity, an asset contribution or a corporate
    partnership (deal team). Equity is in the base currency."""

    def call(self, actor: s.Actor, data: Body, **kwargs: str) -> s.CommandResult:
        return s.commitment_record(
            actor=actor,
            slug=kwargs["slug"],
            commitment_id=data.get("commitment_id") or _new_id(),
            organisation_id=data["organisation_id"],
            instrument=data["instrument"],
            amount=_amount(data),
            stage=data["stage"],
            effective_on=data.get("effective_on"),
        )


@documented(ws.StageIn, ws.StageOut, "Advance a commitment's stage", "commitment_stage")
class CommitmentStage(CommandView):
    """Move a commitment along indicated -> soft_circled -> signed, or withdraw it."""

    def call(self, actor: s.Actor, data: Body, **kwargs: str) -> s.CommandResult:
        return s.commitment_advance_stage(
            actor=actor,
            slug=kwargs["slug"],
            commitment_id=kwargs["commitment"],
            stage=data["stage"],
            effective_on=data.get("effective_on"),
        )


@documented(ws.AmendIn, ws.AmendOut, "Amend a commitment", "commitment_amend")
class CommitmentAmend(CommandView):
    """Set a commitment's new amount (never below what was already called)."""

    def call(self, actor: s.Actor, data: Body, **kwargs: str) -> s.CommandResult:
        return s.commitment_amend(
            actor=actor,
            slug=kwargs["slug"],
            commitment_id=kwargs["commitment"],
            amount=_amount(data),
            effective_on=data.get("effective_on"),
            corrects_position=data.get("corrects_position"),
        )


# --- capital calls and contributions -------------------------------------------------


@documented(ws.CallIn, ws.CallOut, "Prepare a capital call", "capital_call_prepare")
class CallPrepare(CommandView):
    """Prepare a draft capital call (deal team); the key's user is its preparer."""

    status_after = "draft"

    def call(self, actor: s.Actor, data: Body, **kwargs: str) -> s.CommandResult:
        return s.capital_call_prepare(
            actor=actor,
            slug=kwargs["slug"],
            call_id=data.get("call_id") or _new_id(),
            amount=_amount(data),
            due_on=data["due_on"],
            purpose=data["purpose"],
            effective_on=data.get("effective_on"),
        )


def _call_step(
    action: Callable[..., s.CommandResult],
) -> Callable[..., s.CommandResult]:
    def call(self: CommandView, actor: s.Actor, data: Body, **kwargs: str) -> s.CommandResult:
        extra = {"reason": data["reason"]} if "reason" in data else {}
        return action(
            actor=actor,
            slug=kwargs["slug"],
            call_id=kwargs["call"],
            effective_on=data.get("effective_on"),
            **extra,
        )

    return call


@documented(ws.DatedIn, ws.CallStepOut, "Approve a capital call", "capital_call_approve")
class CallApprove(CommandView):
    """Approve a draft call (deal team): the key's user must not be its preparer."""

    status_after = "approved"
    call = _call_step(s.capital_call_approve)


@documented(ws.DatedIn, ws.CallStepOut, "Issue a capital call", "capital_call_issue")
class CallIssue(CommandView):
    """Issue an approved call (deal team): allocations are fixed pro rata to signed
    equity, each within the partner's unfunded amount."""

    status_after = "issued"
    call = _call_step(s.capital_call_issue)


@documented(ws.CancelIn, ws.CallStepOut, "Cancel a capital call", "capital_call_cancel")
class CallCancel(CommandView):
    """Cancel a draft or approved call (deal team); an issued call cannot be cancelled."""

    status_after = "cancelled"
    call = _call_step(s.capital_call_cancel)


@documented(ws.ContributionIn, ws.ContributionOut, "Record a contribution", "contribution_receive")
class ContributionReceive(CommandView):
    """Record cash received from a partner against an issued call (finance)."""

    capability = {"POST": FINANCE_WRITE}

    def call(self, actor: s.Actor, data: Body, **kwargs: str) -> s.CommandResult:
        return s.contribution_receive(
            actor=actor,
            slug=kwargs["slug"],
            contribution_id=data.get("contribution_id") or _new_id(),
            call_id=kwargs["call"],
            organisation_id=data["organisation_id"],
            amount=_amount(data),
            bank_reference=data["bank_reference"],
            received_on=data.get("received_on"),
        )


@documented(ws.ReversalIn, ws.ReversalOut, "Reverse a contribution", "contribution_reverse")
class ContributionReverse(CommandView):
    """Reverse a contribution recorded in error or returned by the bank (finance). An
    extension of the published contract; the contribution must be on this call."""

    capability = {"POST": FINANCE_WRITE}

    def call(self, actor: s.Actor, data: Body, **kwargs: str) -> s.CommandResult:
        return s.contribution_reverse(
            actor=actor,
            slug=kwargs["slug"],
            call_id=kwargs["call"],
            contribution_id=kwargs["contribution"],
            reason=data["reason"],
            effective_on=data.get("effective_on"),
            corrects_position=data.get("corrects_position"),
        )


# --- debt facilities and FX ---------------------------------------------------------------


@documented(ws.FacilityIn, ws.FacilityOut, "Arrange a debt facility", "facility_arrange")
class FacilityArrange(CommandView):
    """Record a committed credit line from a lender (deal team); counts as signed debt."""

    def call(self, actor: s.Actor, data: Body, **kwargs: str) -> s.CommandResult:
        return s.facility_arrange(
            actor=actor,
            slug=kwargs["slug"],
            facility_id=data.get("facility_id") or _new_id(),
            lender=data["lender"],
            amount=_amount(data),
            maturity_on=data["maturity_on"],
            revolving=data["revolving"],
            effective_on=data.get("effective_on"),
        )


@documented(ws.DrawIn, ws.DrawOut, "Draw on a debt facility", "facility_draw")
class FacilityDraw(CommandView):
    """Draw on a facility (finance); counts as debt funded."""

    capability = {"POST": FINANCE_WRITE}

    def call(self, actor: s.Actor, data: Body, **kwargs: str) -> s.CommandResult:
        return s.facility_draw(
            actor=actor,
            slug=kwargs["slug"],
            facility_id=kwargs["facility"],
            draw_id=data.get("draw_id") or _new_id(),
            amount=_amount(data),
            effective_on=data.get("effective_on"),
        )


@documented(ws.RepaymentIn, ws.RepaymentOut, "Repay a debt facility", "facility_repay")
class FacilityRepay(CommandView):
    """Repay drawn debt (finance); restores availability only on a revolving facility."""

    capability = {"POST": FINANCE_WRITE}

    def call(self, actor: s.Actor, data: Body, **kwargs: str) -> s.CommandResult:
        return s.facility_repay(
            actor=actor,
            slug=kwargs["slug"],
            facility_id=kwargs["facility"],
            repayment_id=data.get("repayment_id") or _new_id(),
            amount=_amount(data),
            effective_on=data.get("effective_on"),
        )


@documented(ws.FxRateIn, ws.FxRateOut, "Record an FX rate", "fx_rate_record")
class FxRateRecord(CommandView):
    """Record a rate (finance): base units per one unit of the currency, in force from its
    date until the next."""

    capability = {"POST": FINANCE_WRITE}

    def call(self, actor: s.Actor, data: Body, **kwargs: str) -> s.CommandResult:
        return s.fx_rate_record(
            actor=actor,
            slug=kwargs["slug"],
            currency=data["currency"],
            rate=Decimal(data["rate"]),
            effective_on=data.get("effective_on"),
        )


# --- sealed periods ---------------------------------------------------------------------


@documented(ws.PeriodCloseIn, ws.PeriodCloseOut, "Close a period", "period_close")
class PeriodClose(CommandView):
    """Seal the consortium's books up to a closing date (finance). The ``PeriodClosed``
    event records the ledger's head (position and chain hash) and each partner's
    balances as of the closing date; afterwards no event may take effect on or before it
    (422 ``period-closed``)."""

    capability = {"POST": FINANCE_WRITE}

    def call(self, actor: s.Actor, data: Body, **kwargs: str) -> s.CommandResult:
        return s.period_close(
            actor=actor,
            slug=kwargs["slug"],
            closing_date=data["closing_date"],
            effective_on=data.get("effective_on"),
        )


@documented(
    ws.ReopenProposeIn, ws.ReopenProposeOut, "Propose reopening a period", "period_reopen_propose"
)
class PeriodReopenPropose(CommandView):
    """Propose undoing the latest close (finance), with a reason; the key's user is the
    proposer and another person must approve."""

    capability = {"POST": FINANCE_WRITE}

    def call(self, actor: s.Actor, data: Body, **kwargs: str) -> s.CommandResult:
        return s.period_propose_reopening(
            actor=actor,
            slug=kwargs["slug"],
            reason=data["reason"],
            effective_on=data.get("effective_on"),
        )


@documented(ws.DatedIn, ws.ReopenApproveOut, "Approve reopening a period", "period_reopen_approve")
class PeriodReopenApprove(CommandView):
    """Approve the pending proposal to reopen (finance; never the proposer): the latest
    close is undone, its seal stays in the ledger."""

    capability = {"POST": FINANCE_WRITE}

    def call(self, actor: s.Actor, data: Body, **kwargs: str) -> s.CommandResult:
        return s.period_approve_reopening(
            actor=actor, slug=kwargs["slug"], effective_on=data.get("effective_on")
        )


# --- interest and equalisation ---------------------------------------------------------


@documented(ws.InterestRateIn, ws.InterestRateOut, "Set an interest rate", "interest_rate_set")
class InterestRateSet(CommandView):
    """Set the consortium's default (late-payment) or equalisation rate (finance): percent
    per year, in force from its date until the next rate of that kind."""

    capability = {"POST": FINANCE_WRITE}

    def call(self, actor: s.Actor, data: Body, **kwargs: str) -> s.CommandResult:
        return s.interest_rate_set(
            actor=actor,
            slug=kwargs["slug"],
            kind=data["kind"],
            rate=Decimal(data["rate"]),
            effective_on=data.get("effective_on"),
        )


@documented(
    ws.WaiverProposeIn,
    ws.WaiverProposedOut,
    "Propose waiving late-payment interest",
    "late_interest_waiver_propose",
)
class LateInterestWaiverPropose(CommandView):
    """Propose waiving the late-payment interest on a contribution (finance); the key's
    user is the proposer, and a second person must approve."""

    capability = {"POST": FINANCE_WRITE}

    def call(self, actor: s.Actor, data: Body, **kwargs: str) -> s.CommandResult:
        return s.late_interest_waiver_propose(
            actor=actor,
            slug=kwargs["slug"],
            contribution_id=kwargs["contribution"],
            reason=data["reason"],
            effective_on=data.get("effective_on"),
        )


@documented(
    ws.DatedIn,
    ws.WaivedOut,
    "Approve waiving late-payment interest",
    "late_interest_waiver_approve",
)
class LateInterestWaiverApprove(CommandView):
    """Approve a proposed waiver (finance): the key's user must not be its proposer."""

    capability = {"POST": FINANCE_WRITE}

    def call(self, actor: s.Actor, data: Body, **kwargs: str) -> s.CommandResult:
        return s.late_interest_waiver_approve(
            actor=actor,
            slug=kwargs["slug"],
            contribution_id=kwargs["contribution"],
            effective_on=data.get("effective_on"),
        )


@documented(
    ws.EqualisationIn,
    ws.EqualisationOut,
    "Prepare an equalisation call",
    "equalisation_call_prepare",
)
class EqualisationPrepare(CommandView):
    """Prepare an equalisation call on a late joiner (deal team); the key's user is its
    preparer. Its capital, interest and interest shares are fixed now from the record
    (in the event feed, and in the positions once issued)."""

    status_after = "draft"

    def call(self, actor: s.Actor, data: Body, **kwargs: str) -> s.CommandResult:
        return s.equalisation_call_prepare(
            actor=actor,
            slug=kwargs["slug"],
            call_id=data.get("call_id") or _new_id(),
            organisation_id=data["organisation_id"],
            due_on=data["due_on"],
            effective_on=data.get("effective_on"),
        )


@documented(
    ws.DatedIn,
    ws.EqualisationApprovedOut,
    "Approve an equalisation call",
    "equalisation_call_approve",
)
class EqualisationApprove(CommandView):
    """Approve, and so issue, an equalisation call (deal team): the key's user must not
    be its preparer."""

    status_after = "issued"

    def call(self, actor: s.Actor, data: Body, **kwargs: str) -> s.CommandResult:
        return s.equalisation_call_approve(
            actor=actor,
            slug=kwargs["slug"],
            call_id=kwargs["call"],
            effective_on=data.get("effective_on"),
        )


# --- assets and stakes --------------------------------------------------------------------


@documented(ws.AssetIn, ws.AssetOut, "Register an asset", "asset_register")
class AssetRegister(CommandView):
    """Register a data centre or energy facility (the sponsoring consortium's deal team)."""

    permission_classes = [_WriteAnywhere]

    def call(self, actor: s.Actor, data: Body, **kwargs: str) -> s.CommandResult:
        _require_write_in(actor, data["sponsor"])
        return s.asset_register(
            actor=actor,
            asset_id=data.get("asset_id") or _new_id(),
            sponsor=data["sponsor"],
            kind=data["kind"],
            name=data["name"],
            location=data["location"],
            capacity_mw=Decimal(data["capacity_mw"]),
            estimated_cost=_amount(data, "estimated_cost"),
            effective_on=data.get("effective_on"),
        )


@documented(ws.StakeIn, ws.StakeOut, "Acquire, transfer or sell a stake", "asset_stake")
class AssetStake(CommandView):
    """Acquire, transfer or sell a stake in an asset (the sponsor's deal team); stakes in
    one asset never exceed 100 %."""

    permission_classes = [_WriteAnywhere]

    def call(self, actor: s.Actor, data: Body, **kwargs: str) -> s.CommandResult:
        asset_id = kwargs["asset"]
        sponsor = load_asset(asset_id).state.sponsor
        if sponsor:
            _require_write_in(actor, sponsor)
        holder, percent, on = (
            _holder(data["holder"]),
            _percent(data["percent"]),
            data.get("effective_on"),
        )
        if data["action"] == "transfer":
            return s.stake_transfer(
                actor=actor,
                asset_id=asset_id,
                from_holder=holder,
                to_holder=_holder(data["to_holder"]),
                percent=percent,
                effective_on=on,
            )
        if data["action"] == "sell":
            return s.stake_sell(
                actor=actor, asset_id=asset_id, holder=holder, percent=percent, effective_on=on
            )
        return s.stake_acquire(
            actor=actor, asset_id=asset_id, holder=holder, percent=percent, effective_on=on
        )


__all__ = [
    "AssetRegister",
    "AssetStake",
    "CallApprove",
    "CallCancel",
    "CallIssue",
    "CallPrepare",
    "CommandView",
    "CommitmentAmend",
    "CommitmentRecord",
    "CommitmentStage",
    "ConsortiumForm",
    "ContributionReceive",
    "ContributionReverse",
    "EqualisationApprove",
    "EqualisationPrepare",
    "FacilityArrange",
    "FacilityDraw",
    "FacilityRepay",
    "FxRateRecord",
    "InterestRateSet",
    "LateInterestWaiverApprove",
    "LateInterestWaiverPropose",
    "PartnerAdmit",
    "PartnerRole",
    "PeriodClose",  # sealed periods
    "PeriodReopenApprove",  # sealed periods
    "PeriodReopenPropose",  # sealed periods
    "TargetSet",
]


# --- distributions ----------------------------------------------------------------------


@documented(ws.ProceedsIn, ws.ProceedsOut, "Record proceeds from an asset", "proceeds_record")
class ProceedsRecord(CommandView):
    """Record income or sale proceeds received from an asset the consortium holds a stake
    in (finance), in the base currency."""

    capability = {"POST": FINANCE_WRITE}

    def call(self, actor: s.Actor, data: Body, **kwargs: str) -> s.CommandResult:
        return s.proceeds_record(
            actor=actor,
            slug=kwargs["slug"],
            proceeds_id=data.get("proceeds_id") or _new_id(),
            asset_id=data["asset_id"],
            kind=data["kind"],
            amount=_amount(data),
            received_on=data.get("received_on"),
        )


@documented(ws.DistributionIn, ws.DistributionOut, "Prepare a distribution", "distribution_prepare")
class DistributionPrepare(CommandView):
    """Prepare a draft distribution (deal team); the key's user is its preparer. Shares
    are fixed now, pro rata to contributed capital (or to commitment), to the cent."""

    status_after = "draft"

    def call(self, actor: s.Actor, data: Body, **kwargs: str) -> s.CommandResult:
        recallable: dict[str, Amount] = {}
        for part in data.get("recallable") or []:
            org = part["organisation_id"]
            if org in recallable:
                raise exceptions.ValidationError(
                    {"recallable": [f"{org} is named twice in the recallable amounts."]}
                )
            recallable[org] = Amount(part["amount"], data.get("currency"))
        return s.distribution_prepare(
            actor=actor,
            slug=kwargs["slug"],
            distribution_id=data.get("distribution_id") or _new_id(),
            amount=_amount(data),
            kind=data["kind"],
            basis=data.get("basis") or "contributed",
            recallable=recallable,
            purpose=data["purpose"],
            effective_on=data.get("effective_on"),
        )


def _distribution_step(
    action: Callable[..., s.CommandResult],
) -> Callable[..., s.CommandResult]:
    def call(self: CommandView, actor: s.Actor, data: Body, **kwargs: str) -> s.CommandResult:
        return action(
            actor=actor,
            slug=kwargs["slug"],
            distribution_id=kwargs["distribution"],
            effective_on=data.get("effective_on"),
        )

    return call


@documented(ws.DatedIn, ws.DistributionStepOut, "Approve a distribution", "distribution_approve")
class DistributionApprove(CommandView):
    """Approve a draft distribution (deal team or finance): the key's user must not be its
    preparer."""

    capability = {"POST": FINANCE_WRITE}
    status_after = "approved"
    call = _distribution_step(s.distribution_approve)


@documented(ws.DatedIn, ws.DistributionStepOut, "Pay a distribution", "distribution_pay")
class DistributionPay(CommandView):
    """Record an approved distribution as paid (finance): recallable parts add back to the
    partners' unfunded commitments."""

    capability = {"POST": FINANCE_WRITE}
    status_after = "paid"
    call = _distribution_step(s.distribution_pay)
