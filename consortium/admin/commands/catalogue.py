"""One form per service in ``consortium.services``, grouped as the list of forms shows
them. Each is declared with ``framework``'s fields and calls exactly one service."""

import re
from typing import Any

from django import forms
from unfold import widgets as unfold

from consortium import services as s
from consortium.admin.commands import pickers
from consortium.admin.commands.framework import (
    CommandForm,
    HolderPicker,
    NumberField,
    Picker,
    amount_field,
    choice_field,
    date_field,
    effective_on,
    id_field,
    text_field,
    words,
)
from consortium.domain.commands import Amount
from consortium.domain.decisions import RECORDABLE_STAGES
from consortium.domain.errors import DomainError
from consortium.domain.money import MINOR_UNITS, Percent
from consortium.domain.vocabulary import (
    ASSET_KINDS,
    DISTRIBUTION_KINDS,
    INSTRUMENTS,
    PROCEEDS_KINDS,
    ROLES,
    TARGET_INSTRUMENTS,
)
from consortium.roles import FINANCE_WRITE

TRANCHE_ROWS = 6
CURRENCY_CHOICES = [(code, code) for code in sorted(MINOR_UNITS)]


def _on(data: dict[str, Any], name: str = "effective_on") -> Any:
    return data.get(name) or None


# --- sealed periods (a field the corrections share) ---


def corrects_position_field() -> forms.IntegerField:
    return forms.IntegerField(
        label="Corrects position",
        required=False,
        min_value=1,
        help_text="Optional: the ledger position of the event this corrects (say, one in a "
        "closed period).",
        widget=unfold.UnfoldAdminIntegerFieldWidget(),
    )


# --- consortium and targets ---------------------------------------------------------------


class ConsortiumForm(CommandForm):
    command = "consortium-form"
    title = "Form a consortium"
    records = "Records that a consortium was formed: its name, slug and base currency."
    group = "Consortium"
    stream = "new"
    error_fields = {"effective_on": "formed_on"}

    name = text_field("Name", help_text="As partners know it: AI Infrastructure Partnership.")
    slug = text_field("Slug", help_text="Short id in URLs: lowercase letters, digits, dashes.")
    base_currency = choice_field("Base currency", CURRENCY_CHOICES, initial="USD")
    formed_on = effective_on("Formed on")

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.consortium_form(
            actor=actor,
            slug=data["slug"],
            name=data["name"],
            base_currency=data["base_currency"],
            formed_on=_on(data, "formed_on"),
        )


class TargetSet(CommandForm):
    command = "consortium-set-target"
    title = "Set a fundraising target"
    records = (
        "Records a fundraising target for equity, debt or the total, in the base currency, "
        "optionally with a deadline and tranches (amounts available from a date) that add "
        "up to it."
    )
    group = "Targets"
    rows = tuple(
        (f"tranche_{row}_amount", f"tranche_{row}_from") for row in range(1, TRANCHE_ROWS + 1)
    )

    instrument = choice_field("Target for", words(TARGET_INSTRUMENTS))
    amount = amount_field(help_text="In the base currency.")
    deadline = date_field("Deadline", required=False)
    effective_on = effective_on()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rows: list[int] = []  # the tranche rows given, in the order sent

    def setup(self) -> None:
        for row in range(1, TRANCHE_ROWS + 1):
            self.fields[f"tranche_{row}_amount"] = amount_field(
                f"Tranche {row}: amount",
                help_text="Leave the tranche rows blank for none." if row == 1 else "",
            )
            self.fields[f"tranche_{row}_amount"].required = False
            self.fields[f"tranche_{row}_from"] = date_field(
                f"Tranche {row}: available from", required=False
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for row in range(1, TRANCHE_ROWS + 1):
            amount, start = data.get(f"tranche_{row}_amount"), data.get(f"tranche_{row}_from")
            if (amount is None) != (start is None):
                missing = f"tranche_{row}_from" if start is None else f"tranche_{row}_amount"
                self.add_error(missing, "A tranche needs both an amount and a date.")
        return data

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        tranches = []
        self._rows = []
        for row in range(1, TRANCHE_ROWS + 1):
            amount, start = data.get(f"tranche_{row}_amount"), data.get(f"tranche_{row}_from")
            if amount is not None and start is not None:
                tranches.append((Amount(amount), start))
                self._rows.append(row)
        return s.consortium_set_target(
            actor=actor,
            slug=self.page.slug or "",
            instrument=data["instrument"],
            amount=Amount(data["amount"]),
            deadline=data.get("deadline"),
            tranches=tranches,
            effective_on=_on(data),
        )

    def field_for(self, service_field: str) -> str | None:
        match = re.fullmatch(r"tranches\.(\d+)\.amount", service_field)
        if match and int(match.group(1)) < len(self._rows):
            return f"tranche_{self._rows[int(match.group(1))]}_amount"
        if service_field == "tranches":
            return f"tranche_{self._rows[0] if self._rows else 1}_amount"
        return super().field_for(service_field)


# --- partners -----------------------------------------------------------------------------


class PartnerAdmit(CommandForm):
    command = "partner-admit"
    title = "Admit a partner"
    records = "Records that an organisation became a partner of this consortium, with a role."
    group = "Partners"

    organisation_id = text_field(
        "Organisation id", help_text="Its one global id, such as mgx (shared across consortia)."
    )
    name = text_field("Name")
    role = choice_field("Role", words(ROLES))
    effective_on = effective_on()

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.partner_admit(
            actor=actor,
            slug=self.page.slug or "",
            organisation_id=data["organisation_id"],
            name=data["name"],
            role=data["role"],
            effective_on=_on(data),
        )


class PartnerChangeRole(CommandForm):
    command = "partner-change-role"
    title = "Change a partner's role"
    records = "Records a partner's new role from its date (a technical advisor becoming a member)."
    group = "Partners"

    organisation_id = Picker("Partner")
    role = choice_field("New role", words(ROLES))
    effective_on = effective_on()

    def setup(self) -> None:
        self.offer("organisation_id", pickers.partners(self.page.consortium))

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.partner_change_role(
            actor=actor,
            slug=self.page.slug or "",
            organisation_id=data["organisation_id"],
            role=data["role"],
            effective_on=_on(data),
        )


class PartnerWithdraw(CommandForm):
    command = "partner-withdraw"
    title = "Record a partner's withdrawal"
    records = (
        "Records that a partner left the consortium (only once nothing of its commitments is "
        "uncalled and nothing is owed)."
    )
    group = "Partners"

    organisation_id = Picker("Partner")
    reason = text_field("Reason", required=False, multiline=True)
    effective_on = effective_on()

    def setup(self) -> None:
        self.offer("organisation_id", pickers.partners(self.page.consortium))

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.partner_withdraw(
            actor=actor,
            slug=self.page.slug or "",
            organisation_id=data["organisation_id"],
            reason=data.get("reason") or "",
            effective_on=_on(data),
        )


# --- commitments --------------------------------------------------------------------------


class CommitmentRecord(CommandForm):
    command = "commitment-record"
    title = "Record a commitment"
    records = (
        "Records a partner's commitment through equity (in the base currency), an asset "
        "contribution or a corporate partnership, at its pipeline stage. Only signed counts "
        "as committed."
    )
    group = "Commitments"

    commitment_id = id_field("Commitment id")
    organisation_id = Picker("Partner")
    instrument = choice_field("Instrument", words(INSTRUMENTS))
    amount = amount_field()
    currency = Picker("Currency", help_text="Equity is in the base currency.")
    stage = choice_field("Stage", words(RECORDABLE_STAGES))
    effective_on = effective_on()

    def setup(self) -> None:
        state = self.page.consortium
        self.offer("organisation_id", pickers.partners(state))
        self.offer("currency", pickers.currencies(state), empty=None)
        self.suggest("currency", state.base_currency)
        taken = state.commitments
        self.suggest("commitment_id", pickers.suggest_id(f"{state.slug}-commitment", taken))

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.commitment_record(
            actor=actor,
            slug=self.page.slug or "",
            commitment_id=data["commitment_id"],
            organisation_id=data["organisation_id"],
            instrument=data["instrument"],
            amount=Amount(data["amount"], data["currency"]),
            stage=data["stage"],
            effective_on=_on(data),
        )


class CommitmentAdvanceStage(CommandForm):
    command = "commitment-advance-stage"
    title = "Advance a commitment's stage"
    records = (
        "Records a commitment moving along indicated, soft circled, signed; or its withdrawal "
        "(only while nothing of it has been called)."
    )
    group = "Commitments"

    commitment_id = Picker("Commitment")
    stage = choice_field("New stage", words(("soft_circled", "signed", "withdrawn")))
    effective_on = effective_on()

    def setup(self) -> None:
        self.offer("commitment_id", pickers.commitments(self.page.consortium))

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.commitment_advance_stage(
            actor=actor,
            slug=self.page.slug or "",
            commitment_id=data["commitment_id"],
            stage=data["stage"],
            effective_on=_on(data),
        )


class CommitmentAmend(CommandForm):
    command = "commitment-amend"
    title = "Amend a commitment"
    records = (
        "Records a commitment's new amount, in its own currency (an increase, or a reduction "
        "never below what was already called)."
    )
    group = "Commitments"

    commitment_id = Picker("Commitment")
    amount = amount_field("New amount", help_text="In the commitment's own currency.")
    effective_on = effective_on()
    corrects_position = corrects_position_field()  # sealed periods

    def setup(self) -> None:
        self.offer("commitment_id", pickers.commitments(self.page.consortium))

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.commitment_amend(
            actor=actor,
            slug=self.page.slug or "",
            commitment_id=data["commitment_id"],
            amount=Amount(data["amount"]),
            effective_on=_on(data),
            corrects_position=data.get("corrects_position"),
        )


# --- capital calls ------------------------------------------------------------------------


class CapitalCallPrepare(CommandForm):
    command = "capital-call-prepare"
    title = "Prepare a capital call"
    records = (
        "Records a draft capital call (you are its preparer): an amount in the base currency "
        "due on a date. A second person approves it; it is allocated when issued."
    )
    group = "Capital calls"
    error_fields = {"prepared_by": ""}

    call_id = id_field("Call id")
    amount = amount_field(help_text="In the base currency; at most the total unfunded equity.")
    due_on = date_field("Due on")
    purpose = text_field("Purpose", multiline=True)
    effective_on = effective_on()

    def setup(self) -> None:
        state = self.page.consortium
        self.suggest("call_id", pickers.suggest_id(f"{state.slug}-call", state.calls))

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.capital_call_prepare(
            actor=actor,
            slug=self.page.slug or "",
            call_id=data["call_id"],
            amount=Amount(data["amount"]),
            due_on=data["due_on"],
            purpose=data["purpose"],
            effective_on=_on(data),
        )


class _CallStep(CommandForm):
    group = "Capital calls"
    error_fields = {"approved_by": "call_id"}
    offers: tuple[str, ...] = ()

    call_id = Picker("Capital call")
    effective_on = effective_on()

    def setup(self) -> None:
        self.offer("call_id", pickers.calls(self.page.consortium, self.offers))  # type: ignore[arg-type]


class CapitalCallApprove(_CallStep):
    command = "capital-call-approve"
    title = "Approve a capital call"
    records = (
        "Records your approval of a draft call. Its preparer cannot approve it: a second "
        "person must."
    )
    offers = ("draft",)

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.capital_call_approve(
            actor=actor, slug=self.page.slug or "", call_id=data["call_id"], effective_on=_on(data)
        )


class CapitalCallIssue(_CallStep):
    command = "capital-call-issue"
    title = "Issue a capital call"
    records = (
        "Records that an approved call was issued: its allocations are fixed now, pro rata to "
        "signed equity, each within the partner's unfunded amount."
    )
    offers = ("approved",)

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.capital_call_issue(
            actor=actor, slug=self.page.slug or "", call_id=data["call_id"], effective_on=_on(data)
        )


class CapitalCallCancel(_CallStep):
    command = "capital-call-cancel"
    title = "Cancel a capital call"
    records = "Records that a draft or approved call was cancelled (an issued one cannot be)."
    offers = ("draft", "approved")

    reason = text_field("Reason", multiline=True)
    field_order = ["call_id", "reason", "effective_on"]

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.capital_call_cancel(
            actor=actor,
            slug=self.page.slug or "",
            call_id=data["call_id"],
            reason=data["reason"],
            effective_on=_on(data),
        )


# --- contributions ------------------------------------------------------------------------


class ContributionReceive(CommandForm):
    command = "contribution-receive"
    title = "Record a contribution"
    records = (
        "Records cash received from a partner against an issued call, with the bank "
        "reference; never more than the partner owes on that call."
    )
    group = "Contributions"
    capability = FINANCE_WRITE
    error_fields = {"effective_on": "received_on"}

    contribution_id = id_field("Contribution id")
    call_id = Picker("Capital call", help_text="Issued calls on which something is owed.")
    organisation_id = Picker("Partner")
    amount = amount_field(help_text="In the base currency.")
    bank_reference = text_field("Bank reference")
    received_on = effective_on("Received on")

    def setup(self) -> None:
        state = self.page.consortium
        self.offer("call_id", pickers.calls_owed(state))
        self.offer("organisation_id", pickers.partners(state, active=False))
        self.suggest(
            "contribution_id", pickers.suggest_id(f"{state.slug}-contribution", state.contributions)
        )

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.contribution_receive(
            actor=actor,
            slug=self.page.slug or "",
            contribution_id=data["contribution_id"],
            call_id=data["call_id"],
            organisation_id=data["organisation_id"],
            amount=Amount(data["amount"]),
            bank_reference=data["bank_reference"],
            received_on=_on(data, "received_on"),
        )


class ContributionReverse(CommandForm):
    command = "contribution-reverse"
    title = "Reverse a contribution"
    records = (
        "Records that a contribution was reversed (recorded in error or returned by the "
        "bank); the contribution itself stays in the history."
    )
    group = "Contributions"
    capability = FINANCE_WRITE

    contribution_id = Picker("Contribution")
    reason = text_field("Reason", multiline=True)
    effective_on = effective_on()
    corrects_position = corrects_position_field()  # sealed periods

    def setup(self) -> None:
        self.offer("contribution_id", pickers.contributions(self.page.consortium))

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.contribution_reverse(
            actor=actor,
            slug=self.page.slug or "",
            contribution_id=data["contribution_id"],
            reason=data["reason"],
            effective_on=_on(data),
            corrects_position=data.get("corrects_position"),
        )


# --- debt facilities and FX ------------------------------------------------------------------


class FacilityArrange(CommandForm):
    command = "facility-arrange"
    title = "Arrange a debt facility"
    records = (
        "Records a committed credit line from a lender (a partner): amount, currency and "
        "maturity. It counts as signed debt toward the targets."
    )
    group = "Debt"
    error_fields = {"organisation_id": "lender"}  # the rule on advisors names the partner

    facility_id = id_field("Facility id")
    lender = Picker("Lender")
    amount = amount_field()
    currency = Picker("Currency", help_text="The base currency, or one with a recorded rate.")
    maturity_on = date_field("Matures on")
    revolving = forms.BooleanField(
        label="Revolving (repayments restore availability)",
        required=False,
        widget=unfold.UnfoldBooleanSwitchWidget(),
    )
    effective_on = effective_on()

    def setup(self) -> None:
        state = self.page.consortium
        self.offer("lender", pickers.partners(state))
        self.offer("currency", pickers.currencies(state), empty=None)
        self.suggest("currency", state.base_currency)
        self.suggest("facility_id", pickers.suggest_id(f"{state.slug}-facility", state.facilities))

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.facility_arrange(
            actor=actor,
            slug=self.page.slug or "",
            facility_id=data["facility_id"],
            lender=data["lender"],
            amount=Amount(data["amount"], data["currency"]),
            maturity_on=data["maturity_on"],
            revolving=bool(data.get("revolving")),
            effective_on=_on(data),
        )


class FacilityDraw(CommandForm):
    command = "facility-draw"
    title = "Draw on a debt facility"
    records = "Records a draw on a facility, in its currency; it counts as debt funded."
    group = "Debt"
    capability = FINANCE_WRITE

    facility_id = Picker("Facility")
    draw_id = id_field("Draw id")
    amount = amount_field(help_text="In the facility's currency; at most what is available.")
    effective_on = effective_on()

    def setup(self) -> None:
        state = self.page.consortium
        self.offer("facility_id", pickers.facilities(state))
        taken = {d for f in state.facilities.values() for d in f.draws}
        self.suggest("draw_id", pickers.suggest_id(f"{state.slug}-draw", taken))

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.facility_draw(
            actor=actor,
            slug=self.page.slug or "",
            facility_id=data["facility_id"],
            draw_id=data["draw_id"],
            amount=Amount(data["amount"]),
            effective_on=_on(data),
        )


class FacilityRepay(CommandForm):
    command = "facility-repay"
    title = "Repay a debt facility"
    records = (
        "Records a repayment of drawn debt, in the facility's currency; it restores "
        "availability only on a revolving facility."
    )
    group = "Debt"
    capability = FINANCE_WRITE

    facility_id = Picker("Facility", help_text="Facilities with debt outstanding.")
    repayment_id = id_field("Repayment id")
    amount = amount_field(help_text="In the facility's currency; at most what is outstanding.")
    effective_on = effective_on()

    def setup(self) -> None:
        state = self.page.consortium
        self.offer("facility_id", pickers.facilities(state, drawn_only=True))
        taken = {r for f in state.facilities.values() for r in f.repayments}
        self.suggest("repayment_id", pickers.suggest_id(f"{state.slug}-repayment", taken))

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.facility_repay(
            actor=actor,
            slug=self.page.slug or "",
            facility_id=data["facility_id"],
            repayment_id=data["repayment_id"],
            amount=Amount(data["amount"]),
            effective_on=_on(data),
        )


class FxRateRecord(CommandForm):
    command = "fx-rate-record"
    title = "Record an FX rate"
    records = (
        "Records an exchange rate: base-currency units per one unit of another currency, in "
        "force from its date until the next. A later rate never revalues an earlier event."
    )
    group = "FX"
    capability = FINANCE_WRITE

    currency = choice_field("Currency", CURRENCY_CHOICES)
    rate = NumberField(label="Rate", example="0.2723", help_text="Base units per one unit.")
    effective_on = effective_on("In force from")

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.fx_rate_record(
            actor=actor,
            slug=self.page.slug or "",
            currency=data["currency"],
            rate=data["rate"],
            effective_on=_on(data),
        )


# --- assets and stakes --------------------------------------------------------------------


class AssetRegister(CommandForm):
    command = "asset-register"
    title = "Register an asset"
    records = (
        "Records a data centre or energy facility sponsored by this consortium: kind, name, "
        "location, capacity and estimated cost."
    )
    group = "Assets"
    stream = "new"
    error_fields = {"sponsor": ""}

    asset_id = id_field("Asset id")
    kind = choice_field("Kind", words(ASSET_KINDS))
    name = text_field("Name")
    location = text_field("Location")
    capacity_mw = NumberField(label="Capacity (MW)", example="1,000")
    estimated_cost = amount_field("Estimated cost")
    currency = Picker("Currency")
    effective_on = effective_on()

    def setup(self) -> None:
        state = self.page.consortium
        self.offer("currency", pickers.currencies(state), empty=None)
        self.suggest("currency", state.base_currency)
        self.suggest("asset_id", pickers.suggest_id(f"{state.slug}-asset", pickers.asset_ids()))

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.asset_register(
            actor=actor,
            asset_id=data["asset_id"],
            sponsor=self.page.slug or "",
            kind=data["kind"],
            name=data["name"],
            location=data["location"],
            capacity_mw=data["capacity_mw"],
            estimated_cost=Amount(data["estimated_cost"], data["currency"]),
            effective_on=_on(data),
        )


def _percent(value: Any) -> Percent:
    try:
        return Percent.of(value)
    except DomainError as error:
        raise DomainError(error.message, field="percent") from None


class _StakeForm(CommandForm):
    group = "Assets"
    stream = "asset"

    percent = NumberField(label="Stake (%)", example="12.5", help_text="Of the whole asset.")
    effective_on = effective_on()


class StakeAcquire(_StakeForm):
    command = "stake-acquire"
    title = "Acquire a stake"
    records = (
        "Records that a consortium or an organisation acquired a stake in the asset; stakes "
        "in one asset never exceed 100 %."
    )

    holder = HolderPicker("Acquired by")
    field_order = ["holder", "percent", "effective_on"]

    def setup(self) -> None:
        self.offer("holder", pickers.every_holder())

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.stake_acquire(
            actor=actor,
            asset_id=self.page.asset_id or "",
            holder=data["holder"],
            percent=_percent(data["percent"]),
            effective_on=_on(data),
        )


class StakeTransfer(_StakeForm):
    command = "stake-transfer"
    title = "Transfer a stake"
    records = "Records that part or all of a holder's stake in the asset moved to another holder."

    from_holder = HolderPicker("From")
    to_holder = HolderPicker("To")
    field_order = ["from_holder", "to_holder", "percent", "effective_on"]

    def setup(self) -> None:
        assert self.page.asset is not None
        every = pickers.every_holder()
        self.offer("from_holder", pickers.holders_of(self.page.asset, every))
        self.offer("to_holder", every)

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.stake_transfer(
            actor=actor,
            asset_id=self.page.asset_id or "",
            from_holder=data["from_holder"],
            to_holder=data["to_holder"],
            percent=_percent(data["percent"]),
            effective_on=_on(data),
        )


class StakeSell(_StakeForm):
    command = "stake-sell"
    title = "Sell a stake"
    records = (
        "Records that a holder sold part or all of its stake in the asset, out of the "
        "recorded holders."
    )

    holder = HolderPicker("Sold by")
    field_order = ["holder", "percent", "effective_on"]

    def setup(self) -> None:
        assert self.page.asset is not None
        self.offer("holder", pickers.holders_of(self.page.asset))

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.stake_sell(
            actor=actor,
            asset_id=self.page.asset_id or "",
            holder=data["holder"],
            percent=_percent(data["percent"]),
            effective_on=_on(data),
        )


# --- sealed periods -----------------------------------------------------------------------


class PeriodClose(CommandForm):
    command = "period-close"
    title = "Close a period"
    records = (
        "Seals the consortium's books up to a closing date: the ledger position and chain "
        "hash now, and each partner's balances at the closing date. Afterwards nothing may "
        "take effect on or before it; corrections go in the next open period."
    )
    group = "Periods"
    capability = FINANCE_WRITE

    closing_date = date_field(
        "Closing date", help_text="The period's last day (no period is closed yet)."
    )
    effective_on = effective_on("Closed on")

    def setup(self) -> None:
        seal = self.page.consortium.latest_seal
        if seal is not None:
            field = self.fields["closing_date"]
            field.help_text = (
                f"The period's last day: after {seal.closing_date.isoformat()}, the latest close."
            )

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.period_close(
            actor=actor,
            slug=self.page.slug or "",
            closing_date=data["closing_date"],
            effective_on=_on(data),
        )


class PeriodProposeReopening(CommandForm):
    command = "period-propose-reopening"
    title = "Propose reopening a period"
    records = (
        "Records your proposal to undo the latest close, with a reason. A second person "
        "must approve it; the seal itself stays in the history."
    )
    group = "Periods"
    capability = FINANCE_WRITE
    error_fields = {"proposed_by": ""}

    reason = text_field("Reason", multiline=True)
    effective_on = effective_on()

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.period_propose_reopening(
            actor=actor, slug=self.page.slug or "", reason=data["reason"], effective_on=_on(data)
        )


class PeriodApproveReopening(CommandForm):
    command = "period-approve-reopening"
    title = "Approve reopening a period"
    records = (
        "Records your approval of the pending proposal to reopen: the latest close is "
        "undone. Its proposer cannot approve it."
    )
    group = "Periods"
    capability = FINANCE_WRITE
    error_fields = {"approved_by": ""}

    effective_on = effective_on()

    def setup(self) -> None:
        proposal = self.page.consortium.reopen_proposal
        if proposal is not None:
            self.fields["effective_on"].help_text = (
                f"{proposal.proposed_by} proposed reopening the period closed up to "
                f"{proposal.closing_date.isoformat()}: {proposal.reason}"
            )

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.period_approve_reopening(
            actor=actor, slug=self.page.slug or "", effective_on=_on(data)
        )


# --- interest and equalisation ---------------------------------------------------------


class InterestRateSet(CommandForm):
    command = "interest-rate-set"
    title = "Set an interest rate"
    records = (
        "Records the consortium's default (late-payment) or equalisation interest rate, in "
        "percent per year, in force from its date until the next rate of that kind. "
        "Interest already charged keeps its rate."
    )
    group = "Interest"
    capability = FINANCE_WRITE

    kind = choice_field(
        "Rate", [("default", "Default (late payment)"), ("equalisation", "Equalisation")]
    )
    rate = NumberField(label="Percent per year", example="8", help_text="0 to 100; 8 for 8 %.")
    effective_on = effective_on("In force from")

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.interest_rate_set(
            actor=actor,
            slug=self.page.slug or "",
            kind=data["kind"],
            rate=data["rate"],
            effective_on=_on(data),
        )


class LateInterestWaiverPropose(CommandForm):
    command = "late-interest-waiver-propose"
    title = "Propose waiving late-payment interest"
    records = (
        "Records your proposal to waive the late-payment interest charged on a contribution. "
        "Nothing is waived until a second person approves."
    )
    group = "Interest"
    capability = FINANCE_WRITE
    error_fields = {"proposed_by": "contribution_id"}

    contribution_id = Picker("Interest on contribution")
    reason = text_field("Reason", multiline=True)
    effective_on = effective_on()

    def setup(self) -> None:
        self.offer("contribution_id", pickers.late_interest(self.page.consortium, proposed=False))

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.late_interest_waiver_propose(
            actor=actor,
            slug=self.page.slug or "",
            contribution_id=data["contribution_id"],
            reason=data["reason"],
            effective_on=_on(data),
        )


class LateInterestWaiverApprove(CommandForm):
    command = "late-interest-waiver-approve"
    title = "Approve waiving late-payment interest"
    records = (
        "Records your approval of a proposed waiver: the interest is no longer owed. Its "
        "proposer cannot approve it: a second person must."
    )
    group = "Interest"
    capability = FINANCE_WRITE
    error_fields = {"approved_by": "contribution_id"}

    contribution_id = Picker("Interest on contribution")
    effective_on = effective_on()

    def setup(self) -> None:
        self.offer("contribution_id", pickers.late_interest(self.page.consortium, proposed=True))

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.late_interest_waiver_approve(
            actor=actor,
            slug=self.page.slug or "",
            contribution_id=data["contribution_id"],
            effective_on=_on(data),
        )


class EqualisationPrepare(CommandForm):
    command = "equalisation-call-prepare"
    title = "Prepare an equalisation call"
    records = (
        "Records a draft equalisation call on a late joiner (you are its preparer): the same "
        "fraction of its commitment as the earlier partners were called, plus equalisation "
        "interest from each earlier call's due date to this due date, passed to the earlier "
        "partners. A second person approves it, which issues it."
    )
    group = "Capital calls"
    error_fields = {"prepared_by": ""}

    call_id = id_field("Call id")
    organisation_id = Picker("Late joiner")
    due_on = date_field("Due on")
    effective_on = effective_on()

    def setup(self) -> None:
        state = self.page.consortium
        self.suggest("call_id", pickers.suggest_id(f"{state.slug}-equalisation", state.calls))
        self.offer("organisation_id", pickers.partners(state))

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.equalisation_call_prepare(
            actor=actor,
            slug=self.page.slug or "",
            call_id=data["call_id"],
            organisation_id=data["organisation_id"],
            due_on=data["due_on"],
            effective_on=_on(data),
        )


class EqualisationApprove(CommandForm):
    command = "equalisation-call-approve"
    title = "Approve an equalisation call"
    records = (
        "Records your approval of a prepared equalisation call, which issues it. Its "
        "preparer cannot approve it: a second person must."
    )
    group = "Capital calls"
    error_fields = {"approved_by": "call_id"}

    call_id = Picker("Equalisation call")
    effective_on = effective_on()

    def setup(self) -> None:
        self.offer("call_id", pickers.equalisation_drafts(self.page.consortium))

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.equalisation_call_approve(
            actor=actor, slug=self.page.slug or "", call_id=data["call_id"], effective_on=_on(data)
        )


# --- distributions ------------------------------------------------------------------------

RECALLABLE_ROWS = 4


class ProceedsRecord(CommandForm):
    command = "proceeds-record"
    title = "Record proceeds from an asset"
    records = (
        "Records income (rent, power sales) or sale proceeds received from an asset the "
        "consortium holds a stake in, in the base currency."
    )
    group = "Distributions"
    capability = FINANCE_WRITE
    error_fields = {"effective_on": "received_on"}

    proceeds_id = id_field("Proceeds id")
    asset_id = Picker("Asset")
    kind = choice_field("Kind", words(PROCEEDS_KINDS))
    amount = amount_field(help_text="In the base currency.")
    received_on = effective_on("Received on")

    def setup(self) -> None:
        state = self.page.consortium
        self.offer("asset_id", pickers.held_assets(state.slug or ""))
        self.suggest("proceeds_id", pickers.suggest_id(f"{state.slug}-proceeds", state.proceeds))

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.proceeds_record(
            actor=actor,
            slug=self.page.slug or "",
            proceeds_id=data["proceeds_id"],
            asset_id=data["asset_id"],
            kind=data["kind"],
            amount=Amount(data["amount"]),
            received_on=_on(data, "received_on"),
        )


class DistributionPrepare(CommandForm):
    command = "distribution-prepare"
    title = "Prepare a distribution"
    records = (
        "Records a draft distribution (you are its preparer) of proceeds not yet distributed, "
        "shared pro rata to contributed capital (or to commitment) to the cent. Part of a "
        "partner's share may be recallable: once paid, it adds back to that partner's "
        "unfunded commitment. A second person approves it."
    )
    group = "Distributions"
    error_fields = {"prepared_by": ""}
    rows = tuple(
        (f"recallable_{row}_partner", f"recallable_{row}_amount")
        for row in range(1, RECALLABLE_ROWS + 1)
    )

    distribution_id = id_field("Distribution id")
    amount = amount_field(help_text="In the base currency; at most the proceeds not distributed.")
    kind = choice_field(
        "Kind", words(DISTRIBUTION_KINDS), help_text="Capital counts against net invested capital."
    )
    basis = choice_field("Pro rata to", [("contributed", "Contributed capital"),
                                          ("commitment", "Signed commitment")])  # fmt: skip
    purpose = text_field("Purpose", multiline=True)
    effective_on = effective_on()

    def setup(self) -> None:
        state = self.page.consortium
        self.suggest(
            "distribution_id", pickers.suggest_id(f"{state.slug}-distribution", state.distributions)
        )
        for row in range(1, RECALLABLE_ROWS + 1):
            partner = Picker(
                f"Recallable {row}: partner",
                required=False,
                help_text="Leave the recallable rows blank for none." if row == 1 else "",
            )
            self.fields[f"recallable_{row}_partner"] = partner
            self.offer(f"recallable_{row}_partner", [("", "—"), *pickers.partners(state)])
            self.fields[f"recallable_{row}_amount"] = amount_field(
                f"Recallable {row}: amount", help_text="At most the partner's share."
            )
            self.fields[f"recallable_{row}_amount"].required = False

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for row in range(1, RECALLABLE_ROWS + 1):
            partner, amount = (
                data.get(f"recallable_{row}_partner"),
                data.get(f"recallable_{row}_amount"),
            )
            if bool(partner) != (amount is not None):
                missing = f"recallable_{row}_partner" if not partner else f"recallable_{row}_amount"
                self.add_error(missing, "A recallable row needs both a partner and an amount.")
        return data

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        recallable: dict[str, Amount] = {}
        for row in range(1, RECALLABLE_ROWS + 1):
            partner, amount = (
                data.get(f"recallable_{row}_partner"),
                data.get(f"recallable_{row}_amount"),
            )
            if partner and amount is not None:
                if partner in recallable:
                    raise DomainError(
                        f"{partner} is named in two recallable rows; give one amount.",
                        field=f"recallable_{row}_partner",
                    )
                recallable[partner] = Amount(amount)
        return s.distribution_prepare(
            actor=actor,
            slug=self.page.slug or "",
            distribution_id=data["distribution_id"],
            amount=Amount(data["amount"]),
            kind=data["kind"],
            basis=data["basis"],
            recallable=recallable,
            purpose=data["purpose"],
            effective_on=_on(data),
        )


class _DistributionStep(CommandForm):
    group = "Distributions"
    capability = FINANCE_WRITE
    error_fields = {"approved_by": "distribution_id"}
    offers: tuple[str, ...] = ()

    distribution_id = Picker("Distribution")
    effective_on = effective_on()

    def setup(self) -> None:
        self.offer("distribution_id", pickers.distributions(self.page.consortium, self.offers))


class DistributionApprove(_DistributionStep):
    command = "distribution-approve"
    title = "Approve a distribution"
    records = (
        "Records your approval of a draft distribution and its shares. Its preparer cannot "
        "approve it: a second person must."
    )
    offers = ("draft",)

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.distribution_approve(
            actor=actor,
            slug=self.page.slug or "",
            distribution_id=data["distribution_id"],
            effective_on=_on(data),
        )


class DistributionPay(_DistributionStep):
    command = "distribution-pay"
    title = "Pay a distribution"
    records = (
        "Records that an approved distribution was paid to the partners; recallable parts "
        "add back to their unfunded commitments from this date."
    )
    offers = ("approved",)

    def record(self, actor: s.Actor, data: dict[str, Any]) -> s.CommandResult:
        return s.distribution_pay(
            actor=actor,
            slug=self.page.slug or "",
            distribution_id=data["distribution_id"],
            effective_on=_on(data),
        )


# The list of forms, in the groups and order the list page shows them.
GROUPS = (
    "Targets",
    "Partners",
    "Commitments",
    "Capital calls",
    "Contributions",
    "Debt",
    "FX",
    "Assets",
    "Periods",  # sealed periods
    "Interest",  # --- interest and equalisation ---
    "Distributions",  # --- distributions ---
)
FORMS: dict[str, type[CommandForm]] = {
    form.command: form
    for form in (
        TargetSet,
        PartnerAdmit,
        PartnerChangeRole,
        PartnerWithdraw,
        CommitmentRecord,
        CommitmentAdvanceStage,
        CommitmentAmend,
        CapitalCallPrepare,
        CapitalCallApprove,
        CapitalCallIssue,
        CapitalCallCancel,
        ContributionReceive,
        ContributionReverse,
        FacilityArrange,
        FacilityDraw,
        FacilityRepay,
        FxRateRecord,
        AssetRegister,
        StakeAcquire,
        StakeTransfer,
        StakeSell,
        # --- sealed periods ---
        PeriodClose,
        PeriodProposeReopening,
        PeriodApproveReopening,
        # --- interest and equalisation ---
        InterestRateSet,
        LateInterestWaiverPropose,
        LateInterestWaiverApprove,
        EqualisationPrepare,
        EqualisationApprove,
        # --- distributions ---
        ProceedsRecord,
        DistributionPrepare,
        DistributionApprove,
        DistributionPay,
    )
}
