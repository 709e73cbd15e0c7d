"""Request and response bodies of the write endpoints, and the problem+json body.

Input is strict: text, ids and amounts must be JSON strings (an amount sent as a JSON
number could already have lost precision as a float), booleans must be JSON booleans,
dates are ISO 8601 calendar dates. Free text, ids and slugs are checked here by the
domain's own rules (``consortium.domain.identifiers``: ``Text``, ``SLUG_PATTERN``,
``IDENTIFIER_PATTERN``), so a refusal is a 400 naming the field in the domain's words, and
the schema states each one's ``maxLength`` and ``pattern``. Amounts are decimal strings
(``"1250000000.00"``): positive, finite, with at most the currency's minor-unit digits.
``currency`` is optional wherever an amount is given; the service defaults it to the
consortium's base currency (a facility's own currency for its draws and repayments, a
commitment's for its amendments). Every effective date is optional and defaults to today (UTC).
"""

from __future__ import annotations

import copy
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from consortium.domain.errors import InvalidInput
from consortium.domain.identifiers import (
    BANK_REFERENCE,
    IDENTIFIER_MAX_LENGTH,
    IDENTIFIER_PATTERN,
    LOCATION,
    NAME,
    PURPOSE,
    REASON,
    SLUG_MAX_LENGTH,
    SLUG_PATTERN,
    Text,
    unstorable,
)
from consortium.domain.money import MINOR_UNITS
from consortium.domain.vocabulary import (
    ASSET_KINDS,
    DISTRIBUTION_BASES,
    DISTRIBUTION_KINDS,
    HOLDER_KINDS,
    INSTRUMENTS,
    PROCEEDS_KINDS,
    ROLES,
    STAGES,
    TARGET_INSTRUMENTS,
)

CURRENCIES = sorted(MINOR_UNITS)  # the schema's CurrencyEnum (SPECTACULAR_SETTINGS)
_DECIMAL = re.compile(r"[0-9]{1,30}(?:\.[0-9]{1,30})?")
_DECIMAL_MAX_LENGTH = 61


class StrictCharField(serializers.CharField):
    """A CharField that takes JSON strings only (DRF's also coerces numbers)."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class StrictRegexField(serializers.RegexField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class TextField(StrictCharField):
    """Free text of one of the domain's kinds (``identifiers.Text``): its limit is this
    field's ``max_length`` and the schema's ``maxLength``, its characters the schema's
    ``pattern`` (``consortium.api.schema``), and the domain's own check runs here, on
    the text as sent (before DRF trims it), so the answer is the domain's, as a 400."""

    def __init__(self, kind: Text, **kwargs: Any) -> None:
        self.kind = kind
        kwargs.setdefault("allow_blank", not kind.required)
        super().__init__(max_length=kind.max_length, **kwargs)

    def run_validation(self, data: Any = serializers.empty) -> Any:
        if isinstance(data, str):
            fault = unstorable(data, multiline=self.kind.multiline)
            if fault is not None:
                raise serializers.ValidationError(f"This text {fault}; remove it.")
        return super().run_validation(data)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            return self.kind.check(data, field=self.field_name or "", what="This text")
        except InvalidInput as error:
            raise serializers.ValidationError(error.message) from None


def identifier(help_text: str, *, required: bool = True) -> StrictRegexField:
    return StrictRegexField(
        IDENTIFIER_PATTERN,
        required=required,
        max_length=IDENTIFIER_MAX_LENGTH,
        help_text=help_text,
        error_messages={
            "invalid": f"Use 1 to {IDENTIFIER_MAX_LENGTH} letters, digits, '.', '_', ':' or "
            "'-', starting with a letter or digit."
        },
    )


def slug(help_text: str) -> StrictRegexField:
    return StrictRegexField(
        SLUG_PATTERN,
        max_length=SLUG_MAX_LENGTH,
        help_text=help_text,
        error_messages={
            "invalid": "Use a lowercase slug of letters, digits, '-' or '_' (such as 'mgx')."
        },
    )


def text(help_text: str, kind: Text, *, required: bool = True) -> TextField:
    """Free text of ``kind``: one line unless the kind is multi-line; trimmed."""
    lines = "Several lines allowed" if kind.multiline else "One line"
    return TextField(kind, required=required, help_text=f"{help_text} {lines}; trimmed.")


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^[0-9]{1,30}(\.[0-9]{1,30})?$",
        "maxLength": _DECIMAL_MAX_LENGTH,
        "example": "1000.00",
    }
)
class DecimalStringField(serializers.Field[str, str, str, Any]):
    """A positive decimal written as a JSON string: ``"1250000000.00"``.

    Plain digits with an optional fraction: no sign, exponent, NaN or infinity. The
    currency's precision is checked when the amount meets its currency (``Money``).
    """

    default_error_messages = {
        "invalid": 'Write the amount as a decimal string such as "1250000.00".',
        "not_positive": "The amount must be above zero.",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", 'A positive decimal string, e.g. "1250000000.00".')
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str) or not _DECIMAL.fullmatch(data):
            self.fail("invalid")
        try:
            number = Decimal(data)
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
            self.fail("invalid")
        if not number.is_finite() or number <= 0:
            self.fail("not_positive")
        return str(data)

    def to_representation(self, value: Any) -> str:
        return str(value)


class StrictBooleanField(serializers.BooleanField):
    """JSON ``true`` or ``false`` only (DRF's also takes "yes", 1, "on"...)."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


def amount() -> DecimalStringField:
    return DecimalStringField()


@extend_schema_field(
    {
        "type": "string",
        "enum": CURRENCIES,
        "example": "USD",
        "description": "An ISO 4217 code the service accepts.",
    }
)
class CurrencyField(serializers.ChoiceField):
    """An ISO 4217 code the service accepts (one of ``MINOR_UNITS``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=CURRENCIES, **kwargs)


def currency(help_text: str) -> CurrencyField:
    return CurrencyField(required=False, help_text=help_text)


def effective_on() -> serializers.DateField:
    return serializers.DateField(
        required=False, help_text="The business date it takes effect (default: today, UTC)."
    )


def choice(choices: tuple[str, ...], help_text: str) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=list(choices), help_text=help_text)


# --- requests ---------------------------------------------------------------------------------


class FlatFieldsCopied(serializers.Serializer[Any]):
    # Without a docstring on purpose: a serializer's docstring becomes the schema's
    # description of its body, and the classes below inherit it. What it does: it binds
    # shallow copies of flat declared fields. DRF deep-copies every declared field for
    # every instance (rebuilding each from its arguments), a noticeable part of a write's
    # time, for the request body and again for the answer. A field without children (no
    # nested serializer, ``child`` or ``children``) holds nothing an instance changes:
    # binding sets its name, source and parent on the copy, and its validators and
    # messages are only read. A class with a nested field keeps DRF's deep copy.

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        declared = self._declared_fields
        if not _flat(type(self), declared):
            return super().get_fields()
        return {name: copy.copy(field) for name, field in declared.items()}


_FLAT: dict[type, bool] = {}


def _flat(cls: type, declared: dict[str, Any]) -> bool:
    flat = _FLAT.get(cls)
    if flat is None:
        flat = _FLAT[cls] = not any(
            isinstance(field, serializers.BaseSerializer)
            or hasattr(field, "child")
            or hasattr(field, "children")
            for field in declared.values()
        )
    return flat


class InputSerializer(FlatFieldsCopied):
    # No docstring: it would become the schema's description of every request body.
    pass


class ConsortiumIn(InputSerializer):
    name = text("The consortium's name.", NAME)
    slug = slug("Its id in URLs, e.g. 'aip'.")
    base_currency = CurrencyField()
    formed_on = serializers.DateField(required=False, help_text="Default: today.")


class TrancheIn(InputSerializer):
    amount = amount()
    available_from = serializers.DateField()


class TargetIn(InputSerializer):
    instrument = choice(TARGET_INSTRUMENTS, "equity, debt or total.")
    amount = amount()
    currency = currency("Default: the base currency.")
    deadline = serializers.DateField(required=False, allow_null=True)
    tranches = TrancheIn(many=True, required=False)
    effective_on = effective_on()


class PartnerIn(InputSerializer):
    organisation_id = slug("The organisation's global id, e.g. 'mgx'.")
    name = text("The organisation's name.", NAME)
    role = choice(ROLES, "The partner's role in this consortium.")
    effective_on = effective_on()


class PartnerRoleIn(InputSerializer):
    role = choice(ROLES, "The new role.")
    effective_on = effective_on()


class CommitmentIn(InputSerializer):
    commitment_id = identifier("Default: a new UUID.", required=False)
    organisation_id = slug("The partner committing.")
    instrument = choice(INSTRUMENTS, "equity, asset_contribution or corporate_partnership.")
    amount = amount()
    currency = currency("Default: the base currency.")
    stage = choice(STAGES[:3], "indicated, soft_circled or signed.")
    effective_on = effective_on()


class StageIn(InputSerializer):
    stage = choice(STAGES, "soft_circled, signed or withdrawn.")
    effective_on = effective_on()


class AmendIn(InputSerializer):
    amount = amount()
    currency = currency("Default: the commitment's currency.")
    effective_on = effective_on()
    corrects_position = serializers.IntegerField(  # --- sealed periods ---
        required=False,
        allow_null=True,
        min_value=1,
        help_text="The ledger position of the event this amendment corrects (optional).",
    )


class CallIn(InputSerializer):
    call_id = identifier("Default: a new UUID.", required=False)
    amount = amount()
    currency = currency("Default (and only accepted value): the base currency.")
    due_on = serializers.DateField()
    purpose = text("What the money is for.", PURPOSE)
    effective_on = effective_on()


class DatedIn(InputSerializer):
    effective_on = effective_on()


class CancelIn(InputSerializer):
    reason = text("Why the call is cancelled.", REASON)
    effective_on = effective_on()


class ContributionIn(InputSerializer):
    contribution_id = identifier("Default: a new UUID.", required=False)
    organisation_id = slug("The partner who paid.")
    amount = amount()
    currency = currency("Default (and only accepted value): the base currency.")
    bank_reference = text("The bank's reference for the payment.", BANK_REFERENCE)
    received_on = serializers.DateField(required=False, help_text="Default: today.")


class ReversalIn(InputSerializer):
    reason = text("Why the contribution is reversed.", REASON)
    effective_on = effective_on()
    corrects_position = serializers.IntegerField(  # --- sealed periods ---
        required=False,
        allow_null=True,
        min_value=1,
        help_text="The ledger position of the event this reversal corrects (optional).",
    )


# --- sealed periods ---


class PeriodCloseIn(InputSerializer):
    closing_date = serializers.DateField(
        help_text="The last day of the period sealed: after a previous close, on or before "
        "the close's own date."
    )
    effective_on = effective_on()


class ReopenProposeIn(InputSerializer):
    reason = text("Why the latest closed period should be reopened.", REASON)
    effective_on = effective_on()


class FacilityIn(InputSerializer):
    facility_id = identifier("Default: a new UUID.", required=False)
    lender = slug("The lender: the organisation id of an admitted partner.")
    amount = amount()
    currency = currency("Default: the base currency.")
    maturity_on = serializers.DateField()
    revolving = StrictBooleanField(required=False, default=False)
    effective_on = effective_on()


class DrawIn(InputSerializer):
    draw_id = identifier("Default: a new UUID.", required=False)
    amount = amount()
    currency = currency("Default: the facility's currency.")
    effective_on = effective_on()


class RepaymentIn(InputSerializer):
    repayment_id = identifier("Default: a new UUID.", required=False)
    amount = amount()
    currency = currency("Default: the facility's currency.")
    effective_on = effective_on()


class FxRateIn(InputSerializer):
    currency = CurrencyField(help_text="The foreign currency.")
    rate = DecimalStringField(help_text="Base units per one unit of the currency.")
    effective_on = effective_on()


# --- interest and equalisation ---------------------------------------------------------


class InterestRateIn(InputSerializer):
    kind = choice(("default", "equalisation"), "default (late payment) or equalisation.")
    rate = DecimalStringField(help_text='Percent per year, 0 to 100, e.g. "8" for 8 %.')
    effective_on = effective_on()


class EqualisationIn(InputSerializer):
    call_id = identifier("Default: a new UUID.", required=False)
    organisation_id = slug("The late joiner: a partner admitted after capital was called.")
    due_on = serializers.DateField()
    effective_on = effective_on()


class WaiverProposeIn(InputSerializer):
    reason = text("Why the interest should be waived.", REASON)
    effective_on = effective_on()


class AssetIn(InputSerializer):
    asset_id = identifier("Default: a new UUID.", required=False)
    sponsor = slug("The sponsoring consortium's slug (its deal team may register).")
    kind = choice(ASSET_KINDS, "data_centre or energy_facility.")
    name = text("The asset's name.", NAME)
    location = text("Where it is.", LOCATION)
    capacity_mw = DecimalStringField(help_text="Capacity in MW, a decimal string.")
    estimated_cost = amount()
    currency = currency("Of the estimated cost. Default: the sponsor's base currency.")
    effective_on = effective_on()


class HolderIn(InputSerializer):
    kind = choice(HOLDER_KINDS, "consortium or organisation.")
    id = slug("The consortium's slug or the organisation's id.")


class StakeIn(InputSerializer):
    action = choice(("acquire", "transfer", "sell"), "acquire, transfer or sell.")
    holder = HolderIn(help_text="Who acquires, transfers from, or sells.")
    to_holder = HolderIn(required=False, help_text="For a transfer: who receives.")
    percent = DecimalStringField(help_text='Percent of the asset, e.g. "12.5".')
    effective_on = effective_on()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["action"] == "transfer" and "to_holder" not in attrs:
            raise serializers.ValidationError({"to_holder": ["A transfer needs to_holder."]})
        if attrs["action"] != "transfer" and "to_holder" in attrs:
            raise serializers.ValidationError({"to_holder": ["Only a transfer has a to_holder."]})
        return attrs


# --- distributions ---


class ProceedsIn(InputSerializer):
    proceeds_id = identifier("Default: a new UUID.", required=False)
    asset_id = identifier("The asset the proceeds came from (the consortium holds a stake).")
    kind = choice(PROCEEDS_KINDS, "income or sale.")
    amount = amount()
    currency = currency("Default (and only accepted value): the base currency.")
    received_on = serializers.DateField(required=False, help_text="Default: today.")


class RecallableIn(InputSerializer):
    organisation_id = slug("The partner whose share is partly recallable.")
    amount = amount()


class DistributionIn(InputSerializer):
    distribution_id = identifier("Default: a new UUID.", required=False)
    amount = amount()
    currency = currency("Default (and only accepted value): the base currency.")
    kind = choice(DISTRIBUTION_KINDS, "income, or capital (counts against net invested capital).")
    basis = serializers.ChoiceField(
        choices=list(DISTRIBUTION_BASES),
        required=False,
        help_text="contributed (default: pro rata to contributed capital) or commitment.",
    )
    recallable = RecallableIn(
        many=True,
        required=False,
        help_text="Recallable parts by partner, each at most that partner's share.",
    )
    purpose = text("What is distributed, e.g. the sale it comes from.", PURPOSE)
    effective_on = effective_on()


# --- responses ---------------------------------------------------------------------------------
#
# A 201 body is its serializer's rendering of the command as the service resolved it (ids
# and currencies filled in): the resource's fields, which are also the receipt's body (the
# answer stored for a repeat of the request), then ``stream``, ``version`` and
# ``positions`` from the result, added by ``idempotency`` in the serializer's order both
# when the command is recorded and when it is replayed.


class _FromContext(serializers.Field[Any, Any, Any, Any]):
    """A value the view knows and the command does not (the URL's consortium, say)."""

    def __init__(self, key: str, **kwargs: Any) -> None:
        self.key = key
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def get_attribute(self, instance: Any) -> Any:
        return self.context[self.key]

    def to_representation(self, value: Any) -> Any:
        return value


class _FromResult(_FromContext):
    """A figure of the command's result, which rendering the command leaves out."""

    def get_attribute(self, instance: Any) -> Any:
        raise serializers.SkipField()


@extend_schema_field(
    {"type": "string", "description": "The ledger stream the command appended to."}
)
class _Stream(_FromResult):
    pass


@extend_schema_field({"type": "integer", "description": "The stream's version (also the ETag)."})
class _Version(_FromResult):
    pass


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "integer"},
        "description": "Ledger positions of the appended events.",
    }
)
class _Positions(_FromResult):
    pass


@extend_schema_field({"type": "string"})
class _Text(_FromContext):
    pass


class Created(FlatFieldsCopied):
    """A 201 body: the resource's key fields, then ``stream``, ``version``, ``positions``."""

    stream = _Stream("stream")
    version = _Version("version")
    positions = _Positions("positions")

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        trailer = [fields.pop(name) for name in ("stream", "version", "positions")]
        fields.update((field.key, field) for field in trailer)  # type: ignore[attr-defined]
        return fields


def created(name: str, fields: dict[str, Any]) -> type[Created]:
    """A 201 body's serializer: ``fields`` (read from the command), then the result's."""
    return type(name, (Created,), dict(fields))


def _s(source: str | None = None, help_text: str = "") -> serializers.CharField:
    if source is None:
        return serializers.CharField(help_text=help_text)
    return serializers.CharField(source=source, help_text=help_text)


def _d(source: str | None = None) -> serializers.DateField:
    if source is None:
        return serializers.DateField()
    return serializers.DateField(source=source)


def _consortium() -> _Text:
    return _Text("consortium", help_text="The consortium's slug.")


def _money_fields(source: str = "amount", name: str = "amount") -> dict[str, Any]:
    return {name: _s(f"{source}.amount"), "currency": _s(f"{source}.currency")}


class TrancheOut(serializers.Serializer[Any]):
    amount = _s("amount.amount")
    available_from = serializers.DateField()


class HolderOut(serializers.Serializer[Any]):
    kind = serializers.CharField()
    id = serializers.CharField()


ConsortiumOut = created(
    "ConsortiumCreated",
    {"slug": _s(), "name": _s(), "base_currency": _s(), "formed_on": _d("effective_on")},
)
TargetOut = created(
    "TargetSet",
    {
        "consortium": _consortium(),
        "instrument": _s(),
        **_money_fields(),
        "deadline": serializers.DateField(allow_null=True),
        "tranches": TrancheOut(many=True),
        "effective_on": _d(),
    },
)
PartnerOut = created(
    "PartnerAdmitted",
    {
        "consortium": _consortium(),
        "organisation_id": _s(),
        "name": _s(),
        "role": _s(),
        "effective_on": _d(),
    },
)
PartnerRoleOut = created(
    "PartnerRoleChanged",
    {"consortium": _consortium(), "organisation_id": _s(), "role": _s(), "effective_on": _d()},
)
CommitmentOut = created(
    "CommitmentRecorded",
    {
        "consortium": _consortium(),
        "commitment_id": _s(),
        "organisation_id": _s(),
        "instrument": _s(),
        **_money_fields(),
        "stage": _s(),
        "effective_on": _d(),
    },
)
StageOut = created(
    "CommitmentStageChanged",
    {"consortium": _consortium(), "commitment_id": _s(), "stage": _s(), "effective_on": _d()},
)
AmendOut = created(
    "CommitmentAmended",
    {
        "consortium": _consortium(),
        "commitment_id": _s(),
        **_money_fields(),
        "effective_on": _d(),
        "corrects_position": serializers.IntegerField(allow_null=True),  # sealed periods
    },
)
CallOut = created(
    "CapitalCallPrepared",
    {
        "consortium": _consortium(),
        "call_id": _s(),
        **_money_fields(),
        "due_on": _d(),
        "purpose": _s(),
        "prepared_by": _s(),
        "status": _Text("status", help_text="draft."),
        "effective_on": _d(),
    },
)
CallStepOut = created(
    "CapitalCallChanged",
    {
        "consortium": _consortium(),
        "call_id": _s(),
        "status": _Text("status", help_text="approved, issued or cancelled."),
        "by": _Text("by", help_text="The acting user."),
        "effective_on": _d(),
    },
)
ContributionOut = created(
    "ContributionReceived",
    {
        "consortium": _consortium(),
        "call_id": _s(),
        "contribution_id": _s(),
        "organisation_id": _s(),
        **_money_fields(),
        "bank_reference": _s(),
        "received_on": _d("effective_on"),
    },
)
ReversalOut = created(
    "ContributionReversed",
    {
        "consortium": _consortium(),
        "call_id": _s(),
        "contribution_id": _s(),
        "reason": _s(),
        "effective_on": _d(),
        "corrects_position": serializers.IntegerField(allow_null=True),  # sealed periods
    },
)
FacilityOut = created(
    "FacilityArranged",
    {
        "consortium": _consortium(),
        "facility_id": _s(),
        "lender": _s(),
        **_money_fields(),
        "maturity_on": _d(),
        "revolving": serializers.BooleanField(),
        "effective_on": _d(),
    },
)
DrawOut = created(
    "FacilityDrawn",
    {
        "consortium": _consortium(),
        "facility_id": _s(),
        "draw_id": _s(),
        **_money_fields(),
        "effective_on": _d(),
    },
)
RepaymentOut = created(
    "FacilityRepaid",
    {
        "consortium": _consortium(),
        "facility_id": _s(),
        "repayment_id": _s(),
        **_money_fields(),
        "effective_on": _d(),
    },
)
FxRateOut = created(
    "FxRateRecorded",
    {"consortium": _consortium(), "currency": _s(), "rate": _s(), "effective_on": _d()},
)
AssetOut = created(
    "AssetRegistered",
    {
        "asset_id": _s(),
        "sponsor": _s(),
        "kind": _s(),
        "name": _s(),
        "location": _s(),
        "capacity_mw": _s(),
        **_money_fields("estimated_cost", "estimated_cost"),
        "effective_on": _d(),
    },
)
StakeOut = created(
    "StakeChanged",
    {
        "asset_id": _s(),
        "action": _Text("action", help_text="acquire, transfer or sell."),
        "holder": HolderOut(),
        "to_holder": HolderOut(allow_null=True, required=False),
        "percent": _s("percent.value"),
        "effective_on": _d(),
    },
)


# --- sealed periods ---

PeriodCloseOut = created(
    "PeriodClosed",
    {
        "consortium": _consortium(),
        "closing_date": _d(),
        "closed_by": _s(),
        "effective_on": _d(),
    },
)
ReopenProposeOut = created(
    "PeriodReopenProposed",
    {"consortium": _consortium(), "reason": _s(), "proposed_by": _s(), "effective_on": _d()},
)
ReopenApproveOut = created(
    "PeriodReopened",
    {"consortium": _consortium(), "approved_by": _s(), "effective_on": _d()},
)


# --- interest and equalisation ---------------------------------------------------------

InterestRateOut = created(
    "InterestRateSet",
    {"consortium": _consortium(), "kind": _s(), "rate": _s(), "effective_on": _d()},
)
WaiverProposedOut = created(
    "LatePaymentInterestWaiverProposed",
    {
        "consortium": _consortium(),
        "contribution_id": _s(),
        "proposed_by": _s(),
        "reason": _s(),
        "effective_on": _d(),
    },
)
WaivedOut = created(
    "LatePaymentInterestWaived",
    {
        "consortium": _consortium(),
        "contribution_id": _s(),
        "approved_by": _s(),
        "effective_on": _d(),
    },
)
EqualisationOut = created(
    "EqualisationCallPrepared",
    {
        "consortium": _consortium(),
        "call_id": _s(),
        "organisation_id": _s(),
        "due_on": _d(),
        "prepared_by": _s(),
        "status": _Text("status", help_text="draft."),
        "effective_on": _d(),
    },
)
EqualisationApprovedOut = created(
    "EqualisationCallApproved",
    {
        "consortium": _consortium(),
        "call_id": _s(),
        "approved_by": _s(),
        "status": _Text("status", help_text="issued."),
        "effective_on": _d(),
    },
)


# --- distributions ---


@extend_schema_field(
    {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "amount": {"type": "string"},
                "organisation_id": {"type": "string"},
            },
        },
    }
)
class _RecallableOut(serializers.Field[Any, Any, Any, Any]):
    """The command's (organisation id, Money) pairs as objects, their keys in the order
    PostgreSQL's jsonb keeps them (shorter first), so a replayed receipt is the same bytes."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> Any:
        return [{"amount": str(m.amount), "organisation_id": org} for org, m in value]


ProceedsOut = created(
    "ProceedsReceived",
    {
        "consortium": _consortium(),
        "proceeds_id": _s(),
        "asset_id": _s(),
        "kind": _s(),
        **_money_fields(),
        "received_on": _d("effective_on"),
    },
)
DistributionOut = created(
    "DistributionPrepared",
    {
        "consortium": _consortium(),
        "distribution_id": _s(),
        **_money_fields(),
        "kind": _s(),
        "basis": _s(),
        "recallable": _RecallableOut(),
        "purpose": _s(),
        "prepared_by": _s(),
        "status": _Text("status", help_text="draft."),
        "effective_on": _d(),
    },
)
DistributionStepOut = created(
    "DistributionChanged",
    {
        "consortium": _consortium(),
        "distribution_id": _s(),
        "status": _Text("status", help_text="approved or paid."),
        "by": _Text("by", help_text="The acting user."),
        "effective_on": _d(),
    },
)
