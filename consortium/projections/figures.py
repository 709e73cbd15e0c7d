"""Pure read-side figures: a folded state in, plain rows out (no Django, no clock).

The live projections store exactly these rows (one table per row type, plus the
bookkeeping columns ``generation`` and ``position``); the as-of views compute them from
a fold of the ledger. Both go through the functions here, so "as of now" equals "live"
by construction, and the property tests check it.

Conventions:

- **Money is an integer count of minor units** of ``currency`` (the consortium's base
  currency), never a float: ``*_minor`` fields. ``money(row, "signed_minor")`` gives a
  ``Money``.
- **Percentages are Decimals**: percent of target with 2 places (half up), a partner's
  share of signed equity with 4 places (half up), ownership with 4 places. Look-through
  shares are computed exactly (fractions) and rounded to 4 places only at the end, so that
  the rounded parts sum to the rounded whole (largest remainder): the rows of an asset
  held 100 % show 100.0000 between them, never 99.9999.
- Nothing here depends on today: ``overdue`` is derived by the selectors at read time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Final, Literal, TypeVar

from consortium.domain.events import (
    CapitalCallApproved,
    CapitalCallCancelled,
    CapitalCallIssued,
    CapitalCallPrepared,
    CommitmentAmended,
    CommitmentRecorded,
    CommitmentStageAdvanced,
    ContributionReceived,
    ContributionReversed,
    DatedEvent,
    DebtFacilityArranged,
    DebtFacilityDrawn,
    DebtFacilityRepaid,
    EqualisationCallApproved,
    Event,
    PeriodClosed,
    PeriodReopened,
    PeriodReopenProposed,
)
from consortium.domain.money import Money
from consortium.domain.positions import signed_equity_by_partner
from consortium.domain.state import (
    AssetState,
    CallState,
    CommitmentState,
    ConsortiumState,
    FacilityState,
)

ProgressInstrument = Literal[
    "equity", "asset_contribution", "corporate_partnership", "debt", "total"
]
PROGRESS_INSTRUMENTS: Final[tuple[ProgressInstrument, ...]] = (
    "equity",
    "asset_contribution",
    "corporate_partnership",
    "debt",
    "total",
)
CallStatus = Literal["draft", "approved", "issued", "partly_paid", "settled", "cancelled"]
OPEN_CALL_STATUSES: Final = frozenset({"issued", "partly_paid"})
# Not yet settled or cancelled: what a dashboard lists as open calls.
UNSETTLED_CALL_STATUSES: Final = OPEN_CALL_STATUSES | {"draft", "approved"}

_CENT: Final = Decimal("0.01")
_BASIS: Final = Decimal("0.0001")
_HUNDRED: Final = Decimal(100)
_PERCENT_SCALE: Final = 10_000  # four decimal places
_K = TypeVar("_K", bound=tuple[str, str])


def money(row: object, name: str) -> Money:
    """A ``*_minor`` field of a row as Money in the row's currency."""
    return Money.from_minor(getattr(row, name), row.currency)  # type: ignore[attr-defined]


def dpi_of(distributed: int, contributed: int) -> Decimal | None:
    """DPI (distributions to paid-in): ``distributed / contributed`` as a ratio, rounded
    half up to 2 places, computed exactly in integers (0.505 -> 0.51); None while nothing
    is contributed."""
    if contributed <= 0:
        return None
    hundredths = (2 * 100 * distributed + contributed) // (2 * contributed)
    return Decimal(hundredths).scaleb(-2)


def percent_of(part: int, whole: int | None, places: Decimal = _CENT) -> Decimal | None:
    """``part`` as a percentage of ``whole``, rounded half up; None without a positive whole."""
    if not whole or whole <= 0:
        return None
    return (Decimal(part) * _HUNDRED / Decimal(whole)).quantize(places, ROUND_HALF_UP)


# --- fundraising progress ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProgressRow:
    """One instrument's progress (or the total), in base-currency minor units.

    - ``target_minor``: the target for ``equity``, ``debt`` or ``total`` (None if none is
      set; the asset and corporate-partnership instruments have no targets of their own).
    - ``indicated_minor``, ``soft_circled_minor``: the pipeline (commitments at that stage,
      each at its historical base amount). Debt has no pipeline.
    - ``signed_minor``: signed commitments; for debt, the facilities arranged.
    - ``called_minor``: equity called by issued capital calls; for debt, the amount drawn
      (a draw is both the demand and the cash). Asset contributions and corporate
      partnerships are never called (no call or funding event exists for them): 0.
    - ``contributed_minor``: equity contributions net of reversals; for debt, drawn (debt
      funded, repayments do not undo fundraising). Asset/corporate: 0.
    - ``unfunded_minor``: equity ``signed - called``; debt, what remains available to draw
      (each facility's amount less what is drawn, less what is outstanding for a revolving
      one, at historical rates); asset/corporate: ``signed``.
    - ``outstanding_minor``: ``called - contributed`` (0 for debt, asset and corporate).
    - ``total``: sums of the four instruments' figures, against the ``total`` target.
    - ``signed_percent``/``contributed_percent``: of the target, 2 places, None without one.
    - ``distributed_minor``: distributions paid (equity and total rows; 0 on the others);
      ``net_invested_minor``: ``contributed - distributions of capital`` (equity: net of
      reversals; total: the equity figure); ``dpi``: ``distributed / contributed`` as a
      ratio, 2 places half up, None while nothing is contributed (see ``dpi_of``).
    """

    instrument: ProgressInstrument
    currency: str
    target_minor: int | None
    deadline: date | None
    indicated_minor: int
    soft_circled_minor: int
    signed_minor: int
    called_minor: int
    contributed_minor: int
    unfunded_minor: int
    outstanding_minor: int
    signed_percent: Decimal | None
    contributed_percent: Decimal | None
    # --- distributions ---
    distributed_minor: int = 0
    net_invested_minor: int = 0
    dpi: Decimal | None = None


@dataclass(frozen=True, slots=True)
class TrancheRow:
    """One tranche of a tranche target, filled in date order (a waterfall).

    ``cumulative_minor`` is the target available up to and including this tranche.
    ``signed_minor`` is the part of the instrument's signed amount that falls within this
    tranche when signed money fills the tranches in date order:
    ``min(max(signed - earlier tranches' amounts, 0), amount)``; ``contributed_minor`` the
    same for the contributed amount. So the rows' ``signed_minor`` add up to
    ``min(signed, target)``.
    """

    instrument: str
    number: int
    currency: str
    amount_minor: int
    available_from: date
    cumulative_minor: int
    signed_minor: int
    contributed_minor: int


@dataclass(frozen=True, slots=True)
class MonthRow:
    """Cumulative totals (all instruments, as in the ``total`` progress row) at month end.

    ``month`` is the first day of the month. Months run without gaps from the first month
    with a signed or contributed change to the last, by effective date: a back-dated event
    moves the later months too. Signed counts commitments reaching ``signed`` (or recorded
    signed), amendments of signed ones, signed ones withdrawn, and facilities arranged;
    contributed counts equity contributions (less reversals, on the reversal's date) and
    debt draws.
    """

    month: date
    currency: str
    signed_minor: int
    contributed_minor: int


@dataclass(frozen=True, slots=True)
class Progress:
    """Fundraising progress of one consortium: what the selectors and as-of views return."""

    slug: str
    name: str
    currency: str
    instruments: tuple[ProgressRow, ...]
    tranches: tuple[TrancheRow, ...]
    months: tuple[MonthRow, ...]
    # The ledger position the rows reflect (live only; not part of equality).
    position: int | None = field(default=None, compare=False)

    def instrument(self, name: ProgressInstrument) -> ProgressRow:
        for row in self.instruments:
            if row.instrument == name:
                return row
        raise KeyError(name)


# Bump whenever a tracker's folding changes what it holds: stored copies of trackers (the
# as-of views') are keyed by it, with the state's own version.
TRACKER_CODE_VERSION: Final = 6  # 4: sealed periods; 5: interest; 6: distributions

_COMMITMENT_EVENTS: Final = (CommitmentRecorded, CommitmentStageAdvanced, CommitmentAmended)


class ProgressTracker:
    """A consortium's state plus its monthly signed/contributed changes, folded together.

    ``months`` maps the first day of a month to ``[signed change, contributed change]``.
    ``pipeline`` keeps running, by (instrument, stage), the sum of the commitments' base
    amounts (what ``progress_rows`` would otherwise add up over every commitment, each
    time); ``signed`` by (organisation, instrument) the signed commitments as
    ``position_rows`` counts them. Only the commitment events change a commitment, so
    each is taken out of the sums before such an event is folded and put back after.
    """

    __slots__ = ("months", "pipeline", "signed", "state")

    def __init__(self) -> None:
        self.state = ConsortiumState()
        self.months: dict[date, list[int]] = {}
        self.pipeline: dict[tuple[str, str], int] = {}
        self.signed: dict[tuple[str, str], int] = {}

    def apply(self, dated: DatedEvent, position: int = 0) -> None:
        event = dated.event
        if isinstance(event, _COMMITMENT_EVENTS):
            self._count(event.commitment_id, -1)
            self._fold(dated)
            self._count(event.commitment_id, 1)
        else:
            self._fold(dated)

    def _count(self, commitment_id: str, sign: int) -> None:
        commitment = self.state.commitments.get(commitment_id)
        if commitment is None:
            return
        key = (commitment.instrument, commitment.stage)
        self.pipeline[key] = self.pipeline.get(key, 0) + sign * commitment.base_amount_minor
        if commitment.stage == "signed":
            by = (commitment.organisation_id, commitment.instrument)
            self.signed[by] = self.signed.get(by, 0) + sign * _signed_amount(commitment)

    def _fold(self, dated: DatedEvent) -> None:
        event, state = dated.event, self.state
        signed = contributed = 0
        if isinstance(event, CommitmentRecorded):
            if event.stage == "signed":
                signed = event.base_amount.to_minor()
        elif isinstance(event, CommitmentStageAdvanced):
            commitment = state.commitments.get(event.commitment_id)
            if commitment is not None:
                was, now = commitment.stage == "signed", event.stage == "signed"
                if was != now:
                    signed = commitment.base_amount_minor if now else -commitment.base_amount_minor
        elif isinstance(event, CommitmentAmended):
            commitment = state.commitments.get(event.commitment_id)
            if commitment is not None and commitment.stage == "signed":
                signed = event.base_amount.to_minor() - commitment.base_amount_minor
        elif isinstance(event, DebtFacilityArranged):
            signed = event.base_amount.to_minor()
        elif isinstance(event, DebtFacilityDrawn):
            contributed = event.base_amount.to_minor()
        elif isinstance(event, ContributionReceived):
            contributed = event.amount.to_minor()
        elif isinstance(event, ContributionReversed):
            contribution = state.contributions.get(event.contribution_id)
            if contribution is not None:  # as the state does: only a visible contribution
                contributed = -contribution.amount_minor
        state.apply(dated)
        if signed or contributed:
            month = dated.effective_on.replace(day=1)
            change = self.months.get(month)
            if change is None:
                self.months[month] = [signed, contributed]
            else:
                change[0] += signed
                change[1] += contributed


def call_changed_by(state: ConsortiumState, event: Event) -> str | None:
    """The capital call an event changes, if any (read before the event is folded)."""
    if isinstance(
        event,
        CapitalCallPrepared
        | CapitalCallApproved
        | CapitalCallIssued
        | CapitalCallCancelled
        | ContributionReceived,
    ):
        return event.call_id
    if isinstance(event, ContributionReversed):
        contribution = state.contributions.get(event.contribution_id)
        return contribution.call_id if contribution is not None else None
    if isinstance(event, EqualisationCallApproved):  # interest and equalisation: issued
        return event.call_id
    return None


def facility_changed_by(event: Event) -> str | None:
    """The debt facility an event changes, if any."""
    if isinstance(event, DebtFacilityArranged | DebtFacilityDrawn | DebtFacilityRepaid):
        return event.facility_id
    return None


# --- sealed periods: the events that change a consortium's period calendar ---
PERIOD_EVENTS: Final = (PeriodClosed, PeriodReopenProposed, PeriodReopened)


class ConsortiumTracker(ProgressTracker):
    """One fold per consortium event for all its read models: the state, the monthly
    changes (fundraising) and the last position that changed each call (capital calls)
    and each debt facility (facilities)."""

    __slots__ = ("call_positions", "facility_positions", "last_recorded_at", "period_position")

    def __init__(self) -> None:
        super().__init__()
        self.call_positions: dict[str, int] = {}
        self.facility_positions: dict[str, int] = {}
        self.last_recorded_at: datetime | None = None
        self.period_position = 0  # sealed periods: the last event that changed the calendar

    def apply(self, dated: DatedEvent, position: int = 0) -> None:
        call_id = call_changed_by(self.state, dated.event)
        facility_id = facility_changed_by(dated.event)
        super().apply(dated, position)
        if isinstance(dated.event, PERIOD_EVENTS):  # sealed periods
            self.period_position = position
        if call_id is not None and call_id in self.state.calls:
            self.call_positions[call_id] = position
        if facility_id is not None and facility_id in self.state.facilities:
            self.facility_positions[facility_id] = position
        if dated.recorded_at is not None:
            self.last_recorded_at = dated.recorded_at


class StateTracker:
    """Just a consortium's state (partner positions)."""

    __slots__ = ("state",)

    def __init__(self) -> None:
        self.state = ConsortiumState()

    def apply(self, dated: DatedEvent, position: int = 0) -> None:
        self.state.apply(dated)


class AssetTracker:
    """Just an asset's state (ownership)."""

    __slots__ = ("state",)

    def __init__(self) -> None:
        self.state = AssetState()

    def apply(self, dated: DatedEvent, position: int = 0) -> None:
        self.state.apply(dated)


def _instrument_row(
    instrument: ProgressInstrument,
    currency: str,
    target: tuple[int, date | None] | None,
    figures: tuple[int, int, int, int, int, int, int],
) -> ProgressRow:
    indicated, soft, signed, called, contributed, unfunded, outstanding = figures
    target_minor = target[0] if target else None
    return ProgressRow(
        instrument=instrument,
        currency=currency,
        target_minor=target_minor,
        deadline=target[1] if target else None,
        indicated_minor=indicated,
        soft_circled_minor=soft,
        signed_minor=signed,
        called_minor=called,
        contributed_minor=contributed,
        unfunded_minor=unfunded,
        outstanding_minor=outstanding,
        signed_percent=percent_of(signed, target_minor),
        contributed_percent=percent_of(contributed, target_minor),
    )


def pipeline_of(state: ConsortiumState) -> dict[tuple[str, str], int]:
    """By (instrument, stage), the sum of the commitments' base amounts."""
    pipeline: dict[tuple[str, str], int] = {}
    for c in state.commitments.values():
        key = (c.instrument, c.stage)
        pipeline[key] = pipeline.get(key, 0) + c.base_amount_minor
    return pipeline


def progress_rows(
    state: ConsortiumState, pipeline: Mapping[tuple[str, str], int] | None = None
) -> list[ProgressRow]:
    """The five progress rows (four instruments and the total) of a formed consortium;
    ``pipeline`` is ``pipeline_of(state)``, computed here unless given (a tracker keeps
    it running)."""
    if pipeline is None:
        pipeline = pipeline_of(state)
    called = contributed = distributed = distributed_capital = recall = 0
    for partner in state.partners.values():
        called += partner.called_minor
        contributed += partner.contributed_minor
        distributed += partner.distributed_minor
        distributed_capital += partner.distributed_capital_minor
        recall += partner.recalled_minor + partner.recallable_minor
    debt_signed = debt_drawn = debt_available = 0
    for f in state.facilities.values():
        debt_signed += f.base_amount_minor
        debt_drawn += f.drawn_base_minor
        used = f.drawn_base_minor - f.repaid_base_minor if f.revolving else f.drawn_base_minor
        debt_available += max(f.base_amount_minor - used, 0)

    targets = {name: (t.amount_minor, t.deadline) for name, t in state.targets.items()}
    currency = state.base_currency
    rows: list[ProgressRow] = []
    totals = [0] * 7
    for instrument in PROGRESS_INSTRUMENTS[:3]:
        indicated = pipeline.get((instrument, "indicated"), 0)
        soft = pipeline.get((instrument, "soft_circled"), 0)
        signed = pipeline.get((instrument, "signed"), 0)
        if instrument == "equity":
            figures = (
                indicated,
                soft,
                signed,
                called,
                contributed,
                signed - called + recall,
                called - contributed,
            )
        else:
            figures = (indicated, soft, signed, 0, 0, signed, 0)
        rows.append(_instrument_row(instrument, currency, targets.get(instrument), figures))
        totals = [a + b for a, b in zip(totals, figures, strict=True)]
    debt = (0, 0, debt_signed, debt_drawn, debt_drawn, debt_available, 0)
    rows.append(_instrument_row("debt", currency, targets.get("debt"), debt))
    totals = [a + b for a, b in zip(totals, debt, strict=True)]
    total = (totals[0], totals[1], totals[2], totals[3], totals[4], totals[5], totals[6])
    rows.append(_instrument_row("total", currency, targets.get("total"), total))
    # --- distributions: on the equity and total rows ---
    net_invested, dpi = contributed - distributed_capital, dpi_of(distributed, contributed)
    return [
        replace(row, distributed_minor=distributed, net_invested_minor=net_invested, dpi=dpi)
        if row.instrument in ("equity", "total")
        else row
        for row in rows
    ]


def in_tranche(figure: int, before: int, amount: int) -> int:
    """The part of ``figure`` that falls in a tranche of ``amount`` when the tranches are
    filled in date order and ``before`` is the earlier tranches' total (the waterfall)."""
    return min(max(figure - before, 0), amount)


def tranche_rows(state: ConsortiumState, progress: Iterable[ProgressRow]) -> list[TrancheRow]:
    """Rows for every target with tranches, by instrument then tranche date."""
    by_instrument: dict[str, ProgressRow] = {row.instrument: row for row in progress}
    rows: list[TrancheRow] = []
    for instrument in sorted(state.targets):
        target = state.targets[instrument]
        figures = by_instrument.get(instrument)
        signed = figures.signed_minor if figures else 0
        contributed = figures.contributed_minor if figures else 0
        before = 0
        for number, (amount, available_from) in enumerate(target.tranches, start=1):
            rows.append(
                TrancheRow(
                    instrument=instrument,
                    number=number,
                    currency=state.base_currency,
                    amount_minor=amount,
                    available_from=available_from,
                    cumulative_minor=before + amount,
                    signed_minor=in_tranche(signed, before, amount),
                    contributed_minor=in_tranche(contributed, before, amount),
                )
            )
            before += amount
    return rows


def month_rows(currency: str, months: Mapping[date, list[int]]) -> list[MonthRow]:
    """Cumulative month-end totals, without gaps, from the first month with a change."""
    if not months:
        return []
    ordered = sorted(months)
    month, last = ordered[0], ordered[-1]
    signed = contributed = 0
    rows: list[MonthRow] = []
    while month <= last:
        change = months.get(month)
        if change is not None:
            signed += change[0]
            contributed += change[1]
        rows.append(MonthRow(month, currency, signed, contributed))
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return rows


def progress_of(tracker: ProgressTracker, position: int | None = None) -> Progress | None:
    """Everything the fundraising projection shows for one consortium (None if not formed)."""
    state = tracker.state
    if state.slug is None:
        return None
    instruments = progress_rows(state, tracker.pipeline)
    return Progress(
        slug=state.slug,
        name=state.name,
        currency=state.base_currency,
        instruments=tuple(instruments),
        tranches=tuple(tranche_rows(state, instruments)),
        months=tuple(month_rows(state.base_currency, tracker.months)),
        position=position,
    )


# --- partner positions ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PositionRow:
    """One partner of one consortium (withdrawn partners included, ``is_active`` false).

    Signed commitments by instrument in base minor units (each at its historical rate);
    ``debt_signed_minor``/``debt_drawn_minor`` are the facilities the partner arranged as
    lender and what was drawn on them. ``called``/``contributed``/``unfunded``/
    ``outstanding`` are equity figures: ``unfunded = equity signed - called``,
    ``outstanding = called - contributed``. ``equity_share_percent``: the partner's share of
    the consortium's signed equity, 4 places half up (None while nobody has signed equity).

    Distributions: ``distributed_minor`` paid to the partner (``distributed_capital_minor``
    of it as return of capital), ``recallable_minor`` recallable capital not yet recalled,
    which counts in ``unfunded = signed - called + recalled + recallable`` (within 0 and
    signed + recallable); ``net_invested_minor = contributed - distributed_capital``;
    ``dpi = distributed / contributed`` (``dpi_of``).
    """

    organisation_id: str
    name: str
    role: str
    is_active: bool
    currency: str
    equity_signed_minor: int
    asset_contribution_signed_minor: int
    corporate_partnership_signed_minor: int
    debt_signed_minor: int
    debt_drawn_minor: int
    called_minor: int
    contributed_minor: int
    unfunded_minor: int
    outstanding_minor: int
    equity_share_percent: Decimal | None
    # --- interest and equalisation ---
    # Late-payment interest charged on the partner's contributions and still owed (less
    # waivers and interest on reversed contributions), and what was waived. Never capital.
    late_interest_owed_minor: int = 0
    late_interest_waived_minor: int = 0
    # Capital called by equalisation calls (part of ``called``) and what is still owed on
    # them; equalisation interest the partner pays as a late joiner, and receives as an
    # earlier partner. Interest is never capital.
    equalisation_called_minor: int = 0
    equalisation_owed_minor: int = 0
    equalisation_interest_paid_minor: int = 0
    equalisation_interest_received_minor: int = 0
    # --- distributions ---
    distributed_minor: int = 0
    distributed_capital_minor: int = 0
    recallable_minor: int = 0
    net_invested_minor: int = 0
    dpi: Decimal | None = None


def _signed_amount(c: CommitmentState) -> int:
    """What a signed commitment counts for its partner: equity in its own amount, the
    other instruments at their base amount."""
    return c.amount_minor if c.instrument == "equity" else c.base_amount_minor


def signed_of(state: ConsortiumState) -> dict[tuple[str, str], int]:
    """By (organisation, instrument), the signed commitments (``_signed_amount``)."""
    signed: dict[tuple[str, str], int] = {}
    for c in state.commitments.values():
        if c.stage == "signed":
            key = (c.organisation_id, c.instrument)
            signed[key] = signed.get(key, 0) + _signed_amount(c)
    return signed


def position_rows(
    state: ConsortiumState, signed: Mapping[tuple[str, str], int] | None = None
) -> list[PositionRow]:
    """One row per partner, by organisation id; ``signed`` is ``signed_of(state)``,
    computed here unless given (a tracker keeps it running)."""
    if signed is None:
        signed = signed_of(state)
    debt: dict[str, list[int]] = {}
    for f in state.facilities.values():
        figures = debt.setdefault(f.lender, [0, 0])
        figures[0] += f.base_amount_minor
        figures[1] += f.drawn_base_minor
    total_equity = sum(v for (_, instrument), v in signed.items() if instrument == "equity")
    equalisation_owed: dict[str, int] = {}  # interest and equalisation
    for e in state.equalisations.values():
        call = state.calls.get(e.call_id)
        if call is not None:
            owed = call.owed_minor(e.organisation_id)
            equalisation_owed[e.organisation_id] = (
                equalisation_owed.get(e.organisation_id, 0) + owed
            )
    rows = []
    for org in sorted(state.partners):
        partner = state.partners[org]
        equity = signed.get((org, "equity"), 0)
        lent = debt.get(org, [0, 0])
        rows.append(
            PositionRow(
                organisation_id=org,
                name=partner.name,
                role=partner.role,
                is_active=partner.is_active,
                currency=state.base_currency,
                equity_signed_minor=equity,
                asset_contribution_signed_minor=signed.get((org, "asset_contribution"), 0),
                corporate_partnership_signed_minor=signed.get((org, "corporate_partnership"), 0),
                debt_signed_minor=lent[0],
                debt_drawn_minor=lent[1],
                called_minor=partner.called_minor,
                contributed_minor=partner.contributed_minor,
                unfunded_minor=equity
                - partner.called_minor
                + partner.recalled_minor
                + partner.recallable_minor,
                outstanding_minor=partner.called_minor - partner.contributed_minor,
                equity_share_percent=percent_of(equity, total_equity, _BASIS),
                late_interest_owed_minor=partner.late_interest_minor,
                late_interest_waived_minor=partner.late_interest_waived_minor,
                equalisation_called_minor=partner.equalisation_called_minor,
                equalisation_owed_minor=equalisation_owed.get(org, 0),
                equalisation_interest_paid_minor=partner.equalisation_interest_paid_minor,
                equalisation_interest_received_minor=(partner.equalisation_interest_received_minor),
                distributed_minor=partner.distributed_minor,
                distributed_capital_minor=partner.distributed_capital_minor,
                recallable_minor=partner.recallable_minor,
                net_invested_minor=partner.contributed_minor - partner.distributed_capital_minor,
                dpi=dpi_of(partner.distributed_minor, partner.contributed_minor),
            )
        )
    return rows


@dataclass(frozen=True, slots=True)
class PartnerPosition:
    """A partner's position as read: the stored figures plus ``overdue_minor``.

    ``overdue_minor``: what the partner still owes on issued calls whose due date is
    before ``today`` (derived at read time, never stored).
    """

    figures: PositionRow
    overdue_minor: int


# --- capital calls -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallRow:
    """One capital call. ``status``: draft, approved, cancelled, or once issued: issued
    (nothing paid), partly_paid, settled (everything allocated was contributed)."""

    call_id: str
    currency: str
    amount_minor: int
    due_on: date
    purpose: str
    status: CallStatus
    prepared_by: str
    prepared_on: date
    approved_by: str | None
    approved_on: date | None
    issued_on: date | None
    cancelled_on: date | None
    contributed_minor: int
    outstanding_minor: int


@dataclass(frozen=True, slots=True)
class AllocationRow:
    """One partner's share of an issued call; ``status`` issued, partly_paid or settled."""

    call_id: str
    organisation_id: str
    currency: str
    amount_minor: int
    contributed_minor: int
    outstanding_minor: int
    status: CallStatus
    due_on: date


def _paid_status(amount: int, contributed: int) -> CallStatus:
    if contributed <= 0:
        return "issued"
    return "settled" if contributed >= amount else "partly_paid"


def call_rows(state: ConsortiumState, call: CallState) -> tuple[CallRow, list[AllocationRow]]:
    """A call and its allocations (none before it is issued)."""
    currency = state.base_currency
    allocations = [
        AllocationRow(
            call_id=call.call_id,
            organisation_id=org,
            currency=currency,
            amount_minor=amount,
            contributed_minor=call.contributed.get(org, 0),
            outstanding_minor=amount - call.contributed.get(org, 0),
            status=_paid_status(amount, call.contributed.get(org, 0)),
            due_on=call.due_on,
        )
        for org, amount in sorted(call.allocations.items())
    ]
    contributed = sum(call.contributed.values())
    status: CallStatus = call.status
    if status == "issued":
        status = _paid_status(call.amount_minor, contributed)
    outstanding = call.amount_minor - contributed if call.status == "issued" else 0
    row = CallRow(
        call_id=call.call_id,
        currency=currency,
        amount_minor=call.amount_minor,
        due_on=call.due_on,
        purpose=call.purpose,
        status=status,
        prepared_by=call.prepared_by,
        prepared_on=call.prepared_on,
        approved_by=call.approved_by,
        approved_on=call.approved_on,
        issued_on=call.issued_on,
        cancelled_on=call.cancelled_on,
        contributed_minor=contributed,
        outstanding_minor=outstanding,
    )
    return row, allocations


def is_overdue(status: str, due_on: date, outstanding_minor: int, today: date) -> bool:
    """An issued call (or allocation) with money owed after its due date."""
    return status in OPEN_CALL_STATUSES and outstanding_minor > 0 and due_on < today


@dataclass(frozen=True, slots=True)
class CallAllocation:
    """An allocation as read, with ``overdue`` derived from its due date and today."""

    figures: AllocationRow
    overdue: bool


@dataclass(frozen=True, slots=True)
class CapitalCall:
    """A call as read: its figures, its allocations, and ``overdue`` (derived, not stored)."""

    figures: CallRow
    allocations: tuple[CallAllocation, ...]
    overdue: bool


def read_calls(
    calls: Iterable[CallRow], allocations: Iterable[AllocationRow], today: date
) -> list[CapitalCall]:
    """Assemble read-side calls (by call id) and derive ``overdue`` for ``today``."""
    by_call: dict[str, list[CallAllocation]] = {}
    for a in allocations:
        overdue = is_overdue(a.status, a.due_on, a.outstanding_minor, today)
        by_call.setdefault(a.call_id, []).append(CallAllocation(a, overdue))
    result = []
    for call in sorted(calls, key=lambda c: c.call_id):
        parts = sorted(by_call.get(call.call_id, []), key=lambda a: a.figures.organisation_id)
        overdue = is_overdue(call.status, call.due_on, call.outstanding_minor, today)
        result.append(CapitalCall(call, tuple(parts), overdue))
    return result


def read_positions(
    rows: Iterable[PositionRow], allocations: Iterable[AllocationRow], today: date
) -> list[PartnerPosition]:
    """Partner positions with ``overdue_minor`` summed over their overdue allocations."""
    overdue: dict[str, int] = {}
    for a in allocations:
        if is_overdue(a.status, a.due_on, a.outstanding_minor, today):
            overdue[a.organisation_id] = overdue.get(a.organisation_id, 0) + a.outstanding_minor
    ordered = sorted(rows, key=lambda r: r.organisation_id)
    return [PartnerPosition(row, overdue.get(row.organisation_id, 0)) for row in ordered]


# --- debt facilities -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FacilityRow:
    """One debt facility, in the facility's own currency (minor units).

    ``amount_minor`` is what was arranged; ``drawn_minor`` and ``repaid_minor`` the sums of
    the draws and repayments; ``outstanding_minor = drawn - repaid``; ``available_minor``
    what may still be drawn: ``amount - outstanding`` for a revolving facility (a
    repayment restores availability), ``amount - drawn`` for a term facility (it does
    not). ``base_currency``/``amount_base_minor``/``drawn_base_minor``: the arranged and
    drawn amounts in the consortium's base currency at their historical rates, as they
    count toward the targets.
    """

    facility_id: str
    lender: str
    currency: str
    amount_minor: int
    drawn_minor: int
    repaid_minor: int
    outstanding_minor: int
    available_minor: int
    maturity_on: date
    revolving: bool
    arranged_on: date
    base_currency: str
    amount_base_minor: int
    drawn_base_minor: int


def facility_row(state: ConsortiumState, facility: FacilityState) -> FacilityRow:
    """The figures of one facility."""
    return FacilityRow(
        facility_id=facility.facility_id,
        lender=facility.lender,
        currency=facility.currency,
        amount_minor=facility.amount_minor,
        drawn_minor=facility.drawn_minor,
        repaid_minor=facility.repaid_minor,
        outstanding_minor=facility.outstanding_minor,
        available_minor=facility.available_minor,
        maturity_on=facility.maturity_on,
        revolving=facility.revolving,
        arranged_on=facility.arranged_on,
        base_currency=state.base_currency,
        amount_base_minor=facility.base_amount_minor,
        drawn_base_minor=facility.drawn_base_minor,
    )


def facility_rows(state: ConsortiumState) -> list[FacilityRow]:
    """Every facility of the consortium, by facility id."""
    return [facility_row(state, state.facilities[f]) for f in sorted(state.facilities)]


# --- asset ownership -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AssetRow:
    """The asset and its totals: ``stakes_percent`` (direct stakes, at most 100) and
    ``look_through_percent`` (what the look-through rows attribute to organisations, the
    exact sum rounded half up to 4 places; less than the stakes only when a consortium
    holder has no signed equity). It equals the sum of the rows' ``total_percent``."""

    asset_id: str
    sponsor: str
    kind: str
    name: str
    location: str
    capacity_mw: Decimal
    currency: str
    estimated_cost_minor: int
    stakes_percent: Decimal
    look_through_percent: Decimal


@dataclass(frozen=True, slots=True)
class StakeRow:
    """A direct stake: ``holder_kind`` consortium (slug) or organisation (id)."""

    holder_kind: str
    holder_id: str
    percent: Decimal
    held_since: date


@dataclass(frozen=True, slots=True)
class LookThroughRow:
    """An organisation's effective share of the asset: its direct stake plus, for each
    consortium holding a stake, its share of that consortium's signed equity times the
    consortium's stake (``indirect_percent``). Both are exact fractions rounded to 4
    places together with every other row's, so that the rows sum to the asset's
    ``look_through_percent``; ``total_percent = direct + indirect``."""

    organisation_id: str
    direct_percent: Decimal
    indirect_percent: Decimal
    total_percent: Decimal


@dataclass(frozen=True, slots=True)
class Ownership:
    asset: AssetRow
    stakes: tuple[StakeRow, ...]
    look_through: tuple[LookThroughRow, ...]
    position: int | None = field(default=None, compare=False)


def _apportioned(parts: Mapping[_K, Fraction]) -> dict[_K, Decimal]:
    """Each exact part rounded to 4 places so that the rounded parts sum to the exact whole
    rounded half up: every part is rounded down, then the units still missing go one each
    to the parts with the largest remainders (ties: in key order)."""
    whole = sum(parts.values(), Fraction(0))
    target = int(whole * _PERCENT_SCALE + Fraction(1, 2))  # half up (parts are >= 0)
    units = {key: int(value * _PERCENT_SCALE) for key, value in parts.items()}
    missing = target - sum(units.values())
    by_remainder = sorted(parts, key=lambda key: (-(parts[key] * _PERCENT_SCALE - units[key]), key))
    for key in by_remainder[:missing]:
        units[key] += 1
    return {key: Decimal(count).scaleb(-4) for key, count in units.items()}


def _percent(value: Decimal) -> Decimal:
    return value.quantize(_BASIS)


def ownership_of(
    asset: AssetState,
    signed_equity: Mapping[str, Mapping[str, int]],
    position: int | None = None,
) -> Ownership | None:
    """Ownership of a registered asset; ``signed_equity[slug][org]`` for each consortium
    holder (a missing consortium, or one without signed equity, attributes nothing)."""
    if asset.asset_id is None:
        return None
    stakes = [
        StakeRow(holder.kind, holder.id, _percent(percent), asset.held_since[holder])
        for holder, percent in sorted(asset.holdings.items())
    ]
    direct: dict[str, Fraction] = {}
    indirect: dict[str, Fraction] = {}
    for holder, percent in asset.holdings.items():
        if holder.kind == "organisation":
            direct[holder.id] = direct.get(holder.id, Fraction(0)) + Fraction(percent)
            continue
        by_partner = signed_equity.get(holder.id, {})
        total = sum(v for v in by_partner.values() if v > 0)
        if total <= 0:
            continue
        for org, signed in by_partner.items():
            if signed > 0:
                share = Fraction(percent) * signed / total
                indirect[org] = indirect.get(org, Fraction(0)) + share
    organisations = sorted(set(direct) | set(indirect))
    shown = _apportioned(
        {
            (org, part): shares.get(org, Fraction(0))
            for org in organisations
            for part, shares in (("direct", direct), ("indirect", indirect))
        }
    )
    look_through = []
    for org in organisations:
        d, i = shown[(org, "direct")], shown[(org, "indirect")]
        look_through.append(LookThroughRow(org, d, i, d + i))
    row = AssetRow(
        asset_id=asset.asset_id,
        sponsor=asset.sponsor,
        kind=asset.kind,
        name=asset.name,
        location=asset.location,
        capacity_mw=asset.capacity_mw,
        currency=asset.base_currency,
        estimated_cost_minor=asset.estimated_cost_base_minor,
        stakes_percent=_percent(sum((s.percent for s in stakes), Decimal(0))),
        look_through_percent=_percent(sum((r.total_percent for r in look_through), Decimal(0))),
    )
    return Ownership(row, tuple(stakes), tuple(look_through), position)


def consortium_holders(asset: AssetState) -> list[str]:
    """Slugs of the consortia holding a stake in the asset."""
    return sorted(h.id for h in asset.holdings if h.kind == "consortium")


def signed_equity_of(state: ConsortiumState) -> dict[str, int]:
    """Signed equity by partner (the look-through weights)."""
    if state.slug is None:
        return {}
    return signed_equity_by_partner(state)


# --- sealed periods ---


@dataclass(frozen=True, slots=True)
class PeriodCalendarRow:
    """One line of a consortium's period calendar: a close in force (``closed``) or the
    pending proposal to reopen the latest (``proposal``)."""

    kind: str
    closing_date: date
    sealed_position: int | None
    chain_hash: str
    by: str
    on: date
    reason: str


def period_rows(state: ConsortiumState) -> list[PeriodCalendarRow]:
    """The closes in force (oldest first), then the pending proposal, if any."""
    rows = [
        PeriodCalendarRow(
            "closed",
            seal.closing_date,
            seal.position,
            seal.chain_hash,
            seal.closed_by,
            seal.closed_on,
            "",
        )
        for seal in state.seals
    ]
    proposal = state.reopen_proposal
    if proposal is not None:
        rows.append(
            PeriodCalendarRow(
                "proposal",
                proposal.closing_date,
                None,
                "",
                proposal.proposed_by,
                proposal.proposed_on,
                proposal.reason,
            )
        )
    return rows
