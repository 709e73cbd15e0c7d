"""The read side's tables: one per row type of ``consortium.projections.figures``.

Every table is a ``ProjectionRow`` (``generation`` and ``position``, the ledger position
the row reflects) owned by one projection (``projection_name``). Money is stored as a
``BigIntegerField`` of minor units beside its ``currency`` (exact, and cheap to write on a
rebuild); percentages as ``DecimalField``. Readers go through
``consortium.projections.selectors``, which read the live generation only.
"""

from django.db import models

from ledger.projections.base import ProjectionRow

SLUG = 100
IDENTIFIER = 200


def _money() -> models.BigIntegerField[int, int]:
    return models.BigIntegerField()


def _percent() -> models.DecimalField[object, object]:
    return models.DecimalField(max_digits=9, decimal_places=4)


class FundraisingProgress(ProjectionRow):
    """Per consortium and instrument (``equity``, ``asset_contribution``,
    ``corporate_partnership``, ``debt``, ``total``); see ``figures.ProgressRow``."""

    projection_name = "consortium"

    consortium = models.CharField(max_length=SLUG)
    name = models.CharField(max_length=200)
    instrument = models.CharField(max_length=30)
    currency = models.CharField(max_length=3)
    target_minor = models.BigIntegerField(null=True)
    deadline = models.DateField(null=True)
    indicated_minor = _money()
    soft_circled_minor = _money()
    signed_minor = _money()
    called_minor = _money()
    contributed_minor = _money()
    unfunded_minor = _money()
    outstanding_minor = _money()
    signed_percent = models.DecimalField(max_digits=24, decimal_places=2, null=True)
    contributed_percent = models.DecimalField(max_digits=24, decimal_places=2, null=True)
    # --- distributions ---
    distributed_minor = models.BigIntegerField(default=0)
    net_invested_minor = models.BigIntegerField(default=0)
    dpi = models.DecimalField(max_digits=24, decimal_places=2, null=True)

    class Meta:
        indexes = [models.Index(fields=["generation", "consortium"], name="fr_progress_key")]
        constraints = [
            models.UniqueConstraint(
                fields=["generation", "consortium", "instrument"], name="fr_progress_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.consortium} {self.instrument}"


class FundraisingTranche(ProjectionRow):
    """Per consortium, target instrument and tranche number; see ``figures.TrancheRow``."""

    projection_name = "consortium"

    consortium = models.CharField(max_length=SLUG)
    instrument = models.CharField(max_length=30)
    number = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    amount_minor = _money()
    available_from = models.DateField()
    cumulative_minor = _money()
    signed_minor = _money()
    contributed_minor = _money()

    class Meta:
        indexes = [models.Index(fields=["generation", "consortium"], name="fr_tranche_key")]
        constraints = [
            models.UniqueConstraint(
                fields=["generation", "consortium", "instrument", "number"],
                name="fr_tranche_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.consortium} {self.instrument} tranche {self.number}"


class FundraisingMonth(ProjectionRow):
    """Per consortium and month: cumulative signed and contributed; ``figures.MonthRow``."""

    projection_name = "consortium"

    consortium = models.CharField(max_length=SLUG)
    month = models.DateField()
    currency = models.CharField(max_length=3)
    signed_minor = _money()
    contributed_minor = _money()

    class Meta:
        indexes = [models.Index(fields=["generation", "consortium"], name="fr_month_key")]
        constraints = [
            models.UniqueConstraint(
                fields=["generation", "consortium", "month"], name="fr_month_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.consortium} {self.month:%Y-%m}"


class PartnerPositionRow(ProjectionRow):
    """Per consortium and partner; see ``figures.PositionRow``. Overdue is not stored."""

    projection_name = "consortium"

    consortium = models.CharField(max_length=SLUG)
    organisation_id = models.CharField(max_length=SLUG)
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=30)
    is_active = models.BooleanField()
    currency = models.CharField(max_length=3)
    equity_signed_minor = _money()
    asset_contribution_signed_minor = _money()
    corporate_partnership_signed_minor = _money()
    debt_signed_minor = _money()
    debt_drawn_minor = _money()
    called_minor = _money()
    contributed_minor = _money()
    unfunded_minor = _money()
    outstanding_minor = _money()
    equity_share_percent = models.DecimalField(max_digits=9, decimal_places=4, null=True)
    # --- interest and equalisation ---
    late_interest_owed_minor = models.BigIntegerField(default=0)
    late_interest_waived_minor = models.BigIntegerField(default=0)
    equalisation_called_minor = models.BigIntegerField(default=0)
    equalisation_owed_minor = models.BigIntegerField(default=0)
    equalisation_interest_paid_minor = models.BigIntegerField(default=0)
    equalisation_interest_received_minor = models.BigIntegerField(default=0)
    # --- distributions ---
    distributed_minor = models.BigIntegerField(default=0)
    distributed_capital_minor = models.BigIntegerField(default=0)
    recallable_minor = models.BigIntegerField(default=0)
    net_invested_minor = models.BigIntegerField(default=0)
    dpi = models.DecimalField(max_digits=24, decimal_places=2, null=True)

    class Meta:
        indexes = [models.Index(fields=["generation", "consortium"], name="pos_key")]
        constraints = [
            models.UniqueConstraint(
                fields=["generation", "consortium", "organisation_id"], name="pos_unique"
            ),
            # --- interest and equalisation ---
            models.CheckConstraint(
                condition=models.Q(late_interest_owed_minor__gte=0)
                & models.Q(late_interest_waived_minor__gte=0),
                name="pos_late_interest_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(equalisation_owed_minor__gte=0)
                & models.Q(equalisation_owed_minor__lte=models.F("equalisation_called_minor"))
                & models.Q(equalisation_interest_paid_minor__gte=0)
                & models.Q(equalisation_interest_received_minor__gte=0),
                name="pos_equalisation_within_bounds",
            ),
            # --- distributions: what is paid out and recallable is never negative ---
            models.CheckConstraint(
                condition=models.Q(distributed_minor__gte=0)
                & models.Q(distributed_capital_minor__gte=0)
                & models.Q(distributed_capital_minor__lte=models.F("distributed_minor"))
                & models.Q(recallable_minor__gte=0),
                name="pos_distributions_bounds",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.consortium} {self.organisation_id}"


class CapitalCallRow(ProjectionRow):
    """Per capital call; see ``figures.CallRow``. ``overdue`` is derived when read."""

    projection_name = "consortium"

    consortium = models.CharField(max_length=SLUG)
    call_id = models.CharField(max_length=IDENTIFIER)
    currency = models.CharField(max_length=3)
    amount_minor = _money()
    due_on = models.DateField()
    purpose = models.TextField()
    status = models.CharField(max_length=20)
    prepared_by = models.CharField(max_length=150)
    prepared_on = models.DateField()
    approved_by = models.CharField(max_length=150, null=True)  # noqa: DJ001 (None until approved, as in the figures)
    approved_on = models.DateField(null=True)
    issued_on = models.DateField(null=True)
    cancelled_on = models.DateField(null=True)
    contributed_minor = _money()
    outstanding_minor = _money()

    class Meta:
        indexes = [
            models.Index(fields=["generation", "consortium"], name="call_key"),
            # The open calls (the dashboard's), without reading a consortium's whole history.
            models.Index(fields=["generation", "consortium", "status"], name="call_status"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["generation", "consortium", "call_id"], name="call_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.consortium} {self.call_id}"


class CapitalCallAllocationRow(ProjectionRow):
    """Per issued call and partner; see ``figures.AllocationRow``."""

    projection_name = "consortium"

    consortium = models.CharField(max_length=SLUG)
    call_id = models.CharField(max_length=IDENTIFIER)
    organisation_id = models.CharField(max_length=SLUG)
    currency = models.CharField(max_length=3)
    amount_minor = _money()
    contributed_minor = _money()
    outstanding_minor = _money()
    status = models.CharField(max_length=20)
    due_on = models.DateField()

    class Meta:
        indexes = [
            models.Index(fields=["generation", "consortium"], name="alloc_key"),
            # What is overdue (open allocations), without reading every allocation ever made.
            models.Index(fields=["generation", "consortium", "status"], name="alloc_status"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["generation", "consortium", "call_id", "organisation_id"],
                name="alloc_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.consortium} {self.call_id} {self.organisation_id}"


class DebtFacilityRow(ProjectionRow):
    """Per consortium and debt facility; see ``figures.FacilityRow`` (amounts in the
    facility's currency, plus arranged and drawn in the base currency)."""

    projection_name = "consortium"

    consortium = models.CharField(max_length=SLUG)
    facility_id = models.CharField(max_length=IDENTIFIER)
    lender = models.CharField(max_length=SLUG)
    currency = models.CharField(max_length=3)
    amount_minor = _money()
    drawn_minor = _money()
    repaid_minor = _money()
    outstanding_minor = _money()
    available_minor = _money()
    maturity_on = models.DateField()
    revolving = models.BooleanField()
    arranged_on = models.DateField()
    base_currency = models.CharField(max_length=3)
    amount_base_minor = _money()
    drawn_base_minor = _money()

    class Meta:
        indexes = [models.Index(fields=["generation", "consortium"], name="facility_key")]
        constraints = [
            models.UniqueConstraint(
                fields=["generation", "consortium", "facility_id"], name="facility_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.consortium} {self.facility_id}"


class AssetOwnership(ProjectionRow):
    """Per asset: what it is and its totals; see ``figures.AssetRow``."""

    projection_name = "ownership"

    asset_id = models.CharField(max_length=IDENTIFIER)
    sponsor = models.CharField(max_length=SLUG)
    kind = models.CharField(max_length=30)
    name = models.CharField(max_length=200)
    location = models.CharField(max_length=200)
    capacity_mw = models.DecimalField(max_digits=24, decimal_places=3)
    currency = models.CharField(max_length=3)
    estimated_cost_minor = _money()
    stakes_percent = _percent()
    look_through_percent = _percent()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["generation", "asset_id"], name="own_asset_unique")
        ]

    def __str__(self) -> str:
        return self.asset_id


class AssetStake(ProjectionRow):
    """Per asset and direct holder; see ``figures.StakeRow``."""

    projection_name = "ownership"

    asset_id = models.CharField(max_length=IDENTIFIER)
    holder_kind = models.CharField(max_length=20)
    holder_id = models.CharField(max_length=SLUG)
    percent = _percent()
    held_since = models.DateField()

    class Meta:
        indexes = [
            models.Index(fields=["generation", "asset_id"], name="own_stake_key"),
            models.Index(fields=["generation", "holder_kind", "holder_id"], name="own_holder"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["generation", "asset_id", "holder_kind", "holder_id"],
                name="own_stake_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.asset_id} {self.holder_kind} {self.holder_id}"


class AssetLookThrough(ProjectionRow):
    """Per asset and organisation; see ``figures.LookThroughRow``."""

    projection_name = "ownership"

    asset_id = models.CharField(max_length=IDENTIFIER)
    organisation_id = models.CharField(max_length=SLUG)
    direct_percent = _percent()
    indirect_percent = _percent()
    total_percent = _percent()

    class Meta:
        indexes = [models.Index(fields=["generation", "asset_id"], name="own_look_key")]
        constraints = [
            models.UniqueConstraint(
                fields=["generation", "asset_id", "organisation_id"], name="own_look_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.asset_id} {self.organisation_id}"


# --- API access ------------------------------------------------------------------------


class ApiClient(models.Model):
    """A key through which a user (a person or a named system account) calls the API.

    Only a SHA-256 digest of the key is stored: a password hasher would cost hundreds of
    milliseconds per request, and the key is long and random, so a fast digest is safe.
    """

    name = models.CharField(max_length=100, unique=True)
    user = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="api_clients")
    key_prefix = models.CharField(max_length=12)
    key_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"


class RoleGrant(models.Model):
    """A role for a user, globally (``consortium`` empty) or in one consortium."""

    ROLES = ("deal_team", "finance", "auditor", "partner")

    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(max_length=20, choices=[(r, r) for r in ROLES])
    organisation_id = models.CharField(max_length=100, blank=True)  # for ``partner``
    consortium = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "organisation_id", "consortium"], name="one_grant"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.describe()}"

    def describe(self) -> str:
        """The role and its scope: ``partner:mgx in aip``, ``finance in all consortia``."""
        who = f"partner:{self.organisation_id}" if self.role == "partner" else self.role
        return f"{who} in {self.consortium or 'all consortia'}"


# --- sealed periods ---


class PeriodRow(ProjectionRow):
    """The period calendar of one consortium (``consortium`` projection, group
    ``periods``): a ``closed`` row per close in force (its closing date, the sealed head's
    position and chain hash, who closed it and when) and a ``proposal`` row for a pending
    proposal to reopen the latest one (who, when, why)."""

    projection_name = "consortium"

    consortium = models.CharField(max_length=SLUG)
    kind = models.CharField(max_length=16)  # "closed" or "proposal"
    closing_date = models.DateField()
    sealed_position = models.BigIntegerField(null=True)
    chain_hash = models.CharField(max_length=64, blank=True)
    by = models.CharField(max_length=IDENTIFIER)
    on = models.DateField()
    reason = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["generation", "consortium"], name="period_key")]

    def __str__(self) -> str:
        return f"{self.consortium} {self.kind} {self.closing_date}"


# The reports' tables (stored reports, schedules, runs, deliveries, recipients, payment
# instructions) live beside the reports' code.
from consortium.reports.models import (  # noqa: E402
    Delivery,
    DistributionNoticeRequest,
    NoticeRequest,
    PartnerRecipient,
    PaymentInstruction,
    ReportRun,
    ReportSchedule,
    StoredReport,
)

__all__ = [
    "Delivery",
    "DistributionNoticeRequest",
    "NoticeRequest",
    "PartnerRecipient",
    "PaymentInstruction",
    "ReportRun",
    "ReportSchedule",
    "StoredReport",
]
