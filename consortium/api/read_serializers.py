"""Response shapes of the read endpoints (and the shared problem body).

Money: every amount is a **decimal string** with exactly the currency's ISO 4217 minor
digits ("1600000000.00"), beside the ISO 4217 ``currency`` it is in (the consortium's or
the asset's base currency). Percentages are decimal strings too; dates ISO 8601.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

from consortium.domain.money import minor_digits


def amount(minor: int | None, currency: str) -> str | None:
    """Minor units as a decimal string with the currency's digits (None stays None)."""
    if minor is None:
        return None
    digits = minor_digits(currency)
    return format(Decimal(minor).scaleb(-digits), f".{digits}f")


def percent(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


# --- the problem body (RFC 9457) --------------------------------------------------------


class ProblemSerializer(serializers.Serializer[Any]):
    """``application/problem+json``: every error of the API."""

    type = serializers.CharField(help_text="A URI naming the kind of problem.")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Each offending field (or query parameter) mapped to its messages.",
    )


# --- query parameters -----------------------------------------------------------------


class _QueryParams(serializers.Serializer[Any]):
    """Query parameters: an empty one (``known_at=``) is refused, not taken as absent."""

    def to_internal_value(self, data: Any) -> Any:
        empty = [str(name) for name in self.fields if name in data and data.get(name) == ""]
        if empty:
            raise serializers.ValidationError(
                {name: ["Give a value, or leave the parameter out."] for name in empty}
            )
        return super().to_internal_value(data)


class WhoAmIRoleSerializer(serializers.Serializer[Any]):
    role = serializers.CharField(help_text="deal_team, finance, auditor or partner.")
    consortium = serializers.CharField(
        allow_null=True, help_text="Where the role applies; null: in every consortium."
    )
    organisation_id = serializers.CharField(
        allow_null=True, help_text="A partner's organisation (its own rows only)."
    )
    capabilities = serializers.ListField(
        child=serializers.CharField(),
        help_text="write: deal-team commands; finance_write: contributions, reversals, draws, "
        "repayments, FX rates; read: every read; partner_read: a partner's own positions "
        "and capital calls.",
    )


class WhoAmISerializer(serializers.Serializer[Any]):
    username = serializers.CharField()
    client = serializers.CharField(allow_null=True, help_text="The API client's name.")
    roles = WhoAmIRoleSerializer(many=True)


class ReadParams(_QueryParams):
    """``as_of``, ``known_at`` and ``min_position``, shared by every projection read."""

    as_of = serializers.DateField(required=False)
    known_at = serializers.DateTimeField(required=False)
    min_position = serializers.IntegerField(required=False, min_value=0, max_value=2**62)


class FeedParams(_QueryParams):
    after = serializers.IntegerField(required=False, default=0, min_value=0, max_value=2**62)
    limit = serializers.IntegerField(required=False, default=100, min_value=1, max_value=1000)


# --- response bodies --------------------------------------------------------------------

_AMOUNT = "A decimal string in `currency` with its ISO 4217 minor digits."


def _money(*, allow_null: bool = False, help_text: str = "") -> serializers.CharField:
    text = f"{help_text} {_AMOUNT}" if help_text else _AMOUNT
    return serializers.CharField(help_text=text, allow_null=allow_null)


# --- distributions ---
_NET_INVESTED = "Net invested capital: contributions less distributions of capital."
_DPI = (
    "Distributions / contributions as a ratio (e.g. '0.25'), rounded half up to 2 places; "
    "null while nothing is contributed."
)


class ViewSerializer(serializers.Serializer[Any]):
    """What every projection read says about the view it answers."""

    position = serializers.IntegerField(
        help_text="The ledger position the figures reflect: the projection's checkpoint for "
        "a live read, the ledger head for an as-of read."
    )
    as_of = serializers.DateField(allow_null=True)
    known_at = serializers.DateTimeField(allow_null=True)


class ProgressRowSerializer(serializers.Serializer[Any]):
    instrument = serializers.CharField()
    currency = serializers.CharField()
    target = _money(allow_null=True)
    deadline = serializers.DateField(allow_null=True)
    indicated = _money()
    soft_circled = _money()
    signed = _money()
    called = _money()
    contributed = _money()
    unfunded = _money()
    outstanding = _money()
    signed_percent = serializers.CharField(allow_null=True)
    contributed_percent = serializers.CharField(allow_null=True)
    # --- distributions ---
    distributed = _money()
    net_invested = _money(help_text=_NET_INVESTED)
    dpi = serializers.CharField(allow_null=True, help_text=_DPI)


class TrancheSerializer(serializers.Serializer[Any]):
    instrument = serializers.CharField()
    number = serializers.IntegerField()
    currency = serializers.CharField()
    amount = _money()
    available_from = serializers.DateField()
    cumulative = _money()
    signed = _money()
    contributed = _money()


class MonthSerializer(serializers.Serializer[Any]):
    month = serializers.DateField()
    currency = serializers.CharField()
    signed = _money()
    contributed = _money()


class ProgressSerializer(ViewSerializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    currency = serializers.CharField()
    instruments = ProgressRowSerializer(many=True)
    tranches = TrancheSerializer(many=True)
    months = MonthSerializer(many=True)


class PartnerSerializer(serializers.Serializer[Any]):
    organisation_id = serializers.CharField()
    name = serializers.CharField()
    role = serializers.CharField()
    is_active = serializers.BooleanField()


class ConsortiumListItemSerializer(serializers.Serializer[Any]):
    slug = serializers.CharField()
    name = serializers.CharField()
    base_currency = serializers.CharField()
    total = ProgressRowSerializer()


class ConsortiumPageSerializer(ViewSerializer):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = ConsortiumListItemSerializer(many=True)


class ConsortiumSerializer(ViewSerializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    base_currency = serializers.CharField()
    partners = PartnerSerializer(many=True)
    total = ProgressRowSerializer()
    instruments = ProgressRowSerializer(many=True)


class PositionSerializer(serializers.Serializer[Any]):
    organisation_id = serializers.CharField()
    name = serializers.CharField()
    role = serializers.CharField()
    is_active = serializers.BooleanField()
    currency = serializers.CharField()
    equity_signed = _money()
    asset_contribution_signed = _money()
    corporate_partnership_signed = _money()
    debt_signed = _money()
    debt_drawn = _money()
    called = _money()
    contributed = _money()
    unfunded = _money()
    outstanding = _money()
    overdue = _money()
    equity_share_percent = serializers.CharField(allow_null=True)
    # --- interest and equalisation ---
    late_interest_owed = _money()
    late_interest_waived = _money()
    equalisation_called = _money()
    equalisation_owed = _money()
    equalisation_interest_paid = _money()
    equalisation_interest_received = _money()
    # --- distributions ---
    distributed = _money()
    distributed_capital = _money()
    recallable = _money(help_text="Recallable capital not yet recalled (counted in unfunded).")
    net_invested = _money(help_text=_NET_INVESTED)
    dpi = serializers.CharField(allow_null=True, help_text=_DPI)


class PositionsSerializer(ViewSerializer):
    slug = serializers.CharField()
    results = PositionSerializer(many=True)


class AllocationSerializer(serializers.Serializer[Any]):
    organisation_id = serializers.CharField()
    currency = serializers.CharField()
    amount = _money()
    contributed = _money()
    outstanding = _money()
    status = serializers.CharField()
    due_on = serializers.DateField()
    overdue = serializers.BooleanField()


class CapitalCallSerializer(serializers.Serializer[Any]):
    call_id = serializers.CharField()
    currency = serializers.CharField()
    amount = _money()
    due_on = serializers.DateField()
    purpose = serializers.CharField()
    status = serializers.CharField()
    prepared_by = serializers.CharField()
    prepared_on = serializers.DateField(allow_null=True)
    approved_by = serializers.CharField(allow_null=True)
    approved_on = serializers.DateField(allow_null=True)
    issued_on = serializers.DateField(allow_null=True)
    cancelled_on = serializers.DateField(allow_null=True)
    contributed = _money()
    outstanding = _money()
    overdue = serializers.BooleanField()
    allocations = AllocationSerializer(many=True)


class CapitalCallsSerializer(ViewSerializer):
    slug = serializers.CharField()
    results = CapitalCallSerializer(many=True)


class AssetSerializer(serializers.Serializer[Any]):
    asset_id = serializers.CharField()
    sponsor = serializers.CharField()
    kind = serializers.CharField()
    name = serializers.CharField()
    location = serializers.CharField()
    capacity_mw = serializers.CharField(help_text="Megawatts, a decimal string.")
    currency = serializers.CharField()
    estimated_cost = _money()
    stakes_percent = serializers.CharField(help_text="The direct stakes together (at most 100).")
    look_through_percent = serializers.CharField(
        help_text="What the look-through rows attribute to organisations: exactly the sum of "
        "their `total_percent` (less than `stakes_percent` only when a consortium holder has "
        "no signed equity)."
    )


class AssetPageSerializer(ViewSerializer):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = AssetSerializer(many=True)


class StakeSerializer(serializers.Serializer[Any]):
    holder_kind = serializers.CharField()
    holder_id = serializers.CharField()
    percent = serializers.CharField()
    held_since = serializers.DateField()


class LookThroughSerializer(serializers.Serializer[Any]):
    """An organisation's effective share: computed exactly, shown to 4 places, rounded
    together with the other rows so that they sum to the asset's `look_through_percent`."""

    organisation_id = serializers.CharField()
    direct_percent = serializers.CharField()
    indirect_percent = serializers.CharField()
    total_percent = serializers.CharField()


class OwnershipSerializer(ViewSerializer):
    asset = AssetSerializer()
    stakes = StakeSerializer(many=True)
    look_through = LookThroughSerializer(many=True)


class EventSerializer(serializers.Serializer[Any]):
    position = serializers.IntegerField()
    stream = serializers.CharField()
    version = serializers.IntegerField()
    type = serializers.CharField()
    schema_version = serializers.IntegerField()
    data = serializers.DictField()  # type: ignore[assignment]
    metadata = serializers.DictField()
    effective_on = serializers.DateField(allow_null=True)
    recorded_at = serializers.DateTimeField()
    hash = serializers.CharField()


class EventPageSerializer(serializers.Serializer[Any]):
    results = EventSerializer(many=True)
    next_after = serializers.IntegerField(
        help_text="Pass as `after` for the next page: the last position returned (or the "
        "`after` sent when the page is empty). Following it sees every event exactly once."
    )
    head = serializers.IntegerField(help_text="The ledger head when the page was read.")


class HealthSerializer(serializers.Serializer[Any]):
    status = serializers.CharField()


class ProjectionLagSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    checkpoint = serializers.IntegerField()
    head = serializers.IntegerField()
    lag_events = serializers.IntegerField()
    lag_seconds = serializers.FloatField()
    last_error = serializers.CharField()


class ReadinessSerializer(serializers.Serializer[Any]):
    status = serializers.CharField()
    database = serializers.CharField()
    broker = serializers.CharField()
    projections = ProjectionLagSerializer(many=True)
