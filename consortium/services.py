"""Commands: one function per thing a deal team or finance system asks to do.

**The journey of a command**, the one path every write takes (the API, the admin and
scheduled jobs all call these functions):

1. *Request.* A view parses the request into arguments and an ``Actor`` (who asks, and
   the request's ``If-Match`` version and idempotency key), and calls one service below.
2. *Service.* The service builds the domain command (``consortium.domain.commands``) and
   hands ``_execute`` the stream, a decision function and the business date.
3. *Decide.* ``ledger.commands.run`` holds the stream's in-process lock and gives the
   pure domain (``consortium.domain.decisions``) the process's copy of the stream's state
   (``ledger.states``). The rules raise a ``DomainError`` or return events; a refusal is
   checked again on the ledger's own state, since the copy may be behind.
4. *Append.* ``_append`` writes the events with the version and hash the copy ended on
   (``ledger.store.append``): one statement, one round trip, which also records the
   actor's receipt (its idempotency key) or, for a key used before, appends nothing and
   answers with the first result; and reads back the stream's events after the copy's
   last one. A stream that moved on (another process wrote) refuses it with what
   was missed; the engine folds that, decides again, and a second refusal is retried once
   holding the stream's lock in the database, so it cannot be overtaken.
5. *Fold.* The read-back is folded into the process's copy, so the next command on the
   stream finds it current without asking the ledger. After the commit a projection
   catch-up is queued (``ledger.projections.triggers``); the read models follow.
6. *Response.* The service returns a ``CommandResult`` (stream, new version, positions,
   the events); the view answers with it.

Nothing else is written on the write path. Concurrency: a caller that passes
``Actor.expected_version`` gets ``StaleVersion`` when the stream has moved on, and
nothing is retried; ``ConcurrentChange`` is left for a retry overtaken all the same.

Defaults: an amount may come as ``commands.Amount`` (what a form or the API received: a
decimal and, if the caller named one, a currency); the service resolves an omitted
currency to the command's default (the consortium's base currency; a facility's own
currency for its draws and repayments; a commitment's own currency for its amendments)
before the command is decided.

Answers: ``Actor.answer`` (the API's response serializer) renders the resolved command as
the caller will answer it; with ``Actor.receipt`` that rendering is the receipt's body, so
a repeat of the request is answered with the same bytes. ``CommandResult.command`` is the
command as resolved and decided.

Idempotency: ``Actor.receipt`` (``ledger.store.NewReceipt``; ``Actor.keyed`` makes one for
a key chosen in Python, the API passes its per-client ``Idempotency-Key`` record) is
stored by the append's own statement, under the ledger lock, so two racing retries append
once. A retry of the same request is replayed by the append (nothing appended,
``CommandResult.replayed`` and ``.receipt``); a key used for another request raises
``ledger.store.IdempotencyConflict``. A retry the domain now refuses (a duplicate, say)
or whose expected version was overtaken (``StaleVersion``, ``ConcurrentChange``) looks its
receipt up before the refusal is reported, and gets the first result; so do twins racing
one key in threads of one process, which take turns under the stream's lock and find the
first one's event already in the state they decide on. The key is looked up only then,
never before deciding: a command with a key costs no query on the usual path, and the
append's statement settles every race it can see. Whether a refused request is the one
the key recorded is told by the caller's fingerprint (the API's) or, for a key without
one (``Actor.keyed``), by the events it decides on the state the recorded request was
decided on, as the ledger fingerprinted them; another request is ``IdempotencyConflict``.

The speed mechanisms on this path (copies of states, the stream lock, prepared
statements, debounced triggers) are listed, with their off switches, in ``ledger.speed``.
"""

import contextlib
import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils import timezone

from consortium.domain import commands as c
from consortium.domain.decisions import consortium_holders_of, decide, decide_for_asset
from consortium.domain.errors import (
    DateBeforeFormation,
    DomainError,
    MalformedAmount,
    NotAPerson,
    NotFound,
    UnknownConsortium,
)
from consortium.domain.events import (
    Event,
    StakeAcquired,
    StakeTransferred,
    asset_stream_id,
    consortium_stream_id,
    event_to_stored,
)
from consortium.domain.identifiers import check_person, check_slug
from consortium.domain.money import Money, Percent
from consortium.domain.rules import check_corrects_position
from consortium.domain.state import ConsortiumState
from consortium.domain.values import Holder, Tranche
from consortium.periods import seal_basis
from consortium.streams import asset_history, load_consortium
from ledger import commands, states
from ledger.commands import ConcurrentChange as ConcurrentChange
from ledger.commands import StaleVersion as StaleVersion
from ledger.states import Loaded
from ledger.store import (
    AppendResult,
    IdempotencyConflict,
    NewEvent,
    NewReceipt,
    RecordedReceipt,
    StreamHold,
    append,
    find_receipt,
    fingerprint,
    lock_stream,
    read_stream,
)


@dataclasses.dataclass(frozen=True)
class Actor:
    """Who issues a command, and how: the user, and the request's concurrency controls."""

    user: AbstractBaseUser | AnonymousUser
    source: str = "python"
    expected_version: int | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    receipt: NewReceipt | None = None
    answer: Callable[[Any], Mapping[str, Any]] | None = None

    @classmethod
    def keyed(
        cls,
        user: AbstractBaseUser | AnonymousUser,
        key: str,
        *,
        scope: str | None = None,
        source: str = "python",
        **controls: Any,
    ) -> "Actor":
        """An actor whose command is idempotent under ``key``: the receipt's scope is the
        user's (``user:<id>``, as for the API's session users) unless given, and the ledger
        fingerprints the events. The id, not the username, which may be non-ASCII."""
        scope = scope if scope is not None else f"user:{user.pk}"
        return cls(user, source=source, receipt=NewReceipt(scope, key, "", {}), **controls)

    @property
    def username(self) -> str:
        """The acting person; anonymous or inactive users may not command anything."""
        user = self.user
        if not user.is_authenticated or not user.is_active:
            raise NotAPerson("Commands must come from a signed-in, active user.", field="actor")
        return check_person(user.get_username(), field="actor", what="The acting user")


@dataclasses.dataclass(frozen=True)
class CommandResult:
    """What a command recorded: its stream, the stream's new version, the positions."""

    stream: str
    version: int
    positions: tuple[int, ...]
    events: tuple[Event, ...]
    replayed: bool = False
    receipt: RecordedReceipt | None = None  # the stored receipt, on a replay
    command: Any = None


def _today() -> dt.date:
    return timezone.now().date()


def _execute(
    actor: Actor,
    stream: str,
    decide_on: Callable[[Any], list[Event]],
    effective_on: dt.date,
) -> CommandResult:
    """Decide on the stream's state and append the events (steps 3 to 5 above)."""
    username = actor.username
    metadata = {
        "actor": username,
        "correlation_id": actor.correlation_id or str(uuid.uuid4()),
        "causation_id": actor.causation_id,
        "source": actor.source,
    }

    def append_events(
        events: Sequence[Event], basis: Loaded[Any], hold: StreamHold | None
    ) -> AppendResult:
        return _append(stream, events, effective_on, metadata, actor.receipt, basis, hold)

    try:
        recorded = commands.run(
            stream,
            decide=decide_on,
            append=append_events,
            expected_version=actor.expected_version,
            refusal=DomainError,
        )
    except (DomainError, StaleVersion, ConcurrentChange):
        # A retry of a command that went through, or its twin that lost the race to it.
        replay = _replay(actor, stream, decide_on, effective_on)
        if replay is None:
            raise
        return replay
    return _result(stream, recorded.appended, recorded.decisions)


def _append(
    stream: str,
    events: Sequence[Event],
    effective_on: dt.date,
    metadata: dict[str, Any],
    receipt: NewReceipt | None,
    basis: Loaded[Any],
    hold: StreamHold | None,
) -> AppendResult:
    """Append ``events`` decided on ``basis``; reads back from the event ``basis`` ends on."""
    return append(
        stream,
        [_new_event(event, effective_on) for event in events],
        expected_version=basis.version,
        expected_hash=basis.last_hash or None,
        read_after=max(basis.version - 1, 0),
        metadata=metadata,
        receipt=receipt,
        hold=hold,
    )


def _replay(
    actor: Actor, stream: str, decide_on: Callable[[Any], list[Event]], effective_on: dt.date
) -> CommandResult | None:
    """The first result of a refused or overtaken command whose receipt's key was used
    before by the same request; ``IdempotencyConflict`` if by another request; None if the
    key is unused (the refusal stands)."""
    receipt = actor.receipt
    if receipt is None:
        return None
    stored = find_receipt(receipt.scope, receipt.key)
    if stored is None:
        return None
    if stored.stream != stream or not _same_request(receipt, stored, decide_on, effective_on):
        raise IdempotencyConflict(receipt.scope, receipt.key)
    return CommandResult(stream, stored.version, stored.positions, (), True, stored)


def _same_request(
    receipt: NewReceipt,
    stored: RecordedReceipt,
    decide_on: Callable[[Any], list[Event]],
    effective_on: dt.date,
) -> bool:
    """Whether this request is the one ``stored`` recorded. By the caller's fingerprint
    (the API's, of the request's body) when it has one; else as the ledger fingerprinted
    it: by the events this request decides on the state the recorded one was decided on
    (the stream just before its events), which it must decide the same way. Only refused
    or overtaken keyed commands come here, so folding the stream afresh costs the usual
    path nothing."""
    if receipt.fingerprint:
        return receipt.fingerprint == stored.fingerprint
    state = states.state_at(stream := stored.stream, stored.version - len(stored.positions))
    if state is None:
        return False
    try:
        events = decide_on(state)
    except DomainError:
        return False
    new = [_new_event(event, effective_on) for event in events]
    return bool(new) and fingerprint(stream, new) == stored.fingerprint


def _new_event(event: Event, effective_on: dt.date) -> NewEvent:
    kind, data = event_to_stored(event)
    return NewEvent(kind, data, effective_on=effective_on)


def _result(stream: str, result: AppendResult, events: Sequence[Event]) -> CommandResult:
    if result.replayed:
        return CommandResult(stream, result.version, result.positions, (), True, result.receipt)
    return CommandResult(stream, result.version, result.positions, tuple(events))


def _consortium_command(actor: Actor, slug: str, command: c.ConsortiumCommand) -> CommandResult:
    today = _today()
    result = _execute(
        _answering(actor, command),
        consortium_stream_id(slug),
        lambda state: decide(state, command, today=today),
        command.effective_on,
    )
    return dataclasses.replace(result, command=command)


def _answering(actor: Actor, command: Any) -> Actor:
    """The actor whose receipt (if any) carries ``actor.answer``'s rendering of ``command``."""
    if actor.receipt is None or actor.answer is None:
        return actor
    body = dict(actor.answer(command))
    return dataclasses.replace(actor, receipt=dataclasses.replace(actor.receipt, body=body))


def _priced(amount: Money | c.Amount, default: Callable[[], str], field: str = "amount") -> Money:
    """``amount`` as ``Money``: in its own currency, else in ``default()``'s."""
    if isinstance(amount, Money):
        return amount
    try:
        return Money.of(amount.value, amount.currency or default())
    except MalformedAmount as error:
        raise MalformedAmount(error.message, field=field) from None


def _default_currency(slug: str, of: Callable[[ConsortiumState], str | None]) -> Callable[[], str]:
    """The default currency of a command on ``slug``: ``of(state)`` (a facility's or a
    commitment's own currency), else the base currency; unknown is ``UnknownConsortium``.

    These facts never change once recorded, so the process's copy of the stream answers
    when it holds them (read without the stream's lock: only a settled fact is used) and
    the ledger is read otherwise.
    """

    def currency() -> str:
        copy = states.cached_for_command(consortium_stream_id(slug))
        if copy is not None and copy.state.is_formed:
            found = of(copy.state)
            if found is not None:
                return found
        state = load_consortium(slug).state
        if not state.is_formed:
            raise UnknownConsortium(f"There is no consortium {slug!r}; form it first.")
        return of(state) or state.base_currency

    return currency


def _base_currency(slug: str) -> Callable[[], str]:
    return _default_currency(slug, lambda state: state.base_currency)


def _facility_currency(slug: str, facility_id: str) -> Callable[[], str]:
    def of(state: ConsortiumState) -> str | None:
        facility = state.facilities.get(facility_id)
        return facility.currency if facility is not None else None

    return _default_currency(slug, of)


def _commitment_currency(slug: str, commitment_id: str) -> Callable[[], str]:
    def of(state: ConsortiumState) -> str | None:
        commitment = state.commitments.get(commitment_id)
        return commitment.currency if commitment is not None else None

    return _default_currency(slug, of)


# --- consortium, targets, partners -----------------------------------------------------


def consortium_form(
    *, actor: Actor, slug: str, name: str, base_currency: str, formed_on: dt.date | None = None
) -> CommandResult:
    """Form a consortium (its stream must not exist yet)."""
    command = c.FormConsortium(name, slug, base_currency, formed_on or _today())
    return _consortium_command(actor, slug, command)


def consortium_set_target(
    *,
    actor: Actor,
    slug: str,
    instrument: str,
    amount: Money | c.Amount,
    deadline: dt.date | None = None,
    tranches: Sequence[Tranche | tuple[Money | c.Amount, dt.date]] = (),
    effective_on: dt.date | None = None,
) -> CommandResult:
    """Set a fundraising target for ``equity``, ``debt`` or the ``total``; tranches given
    as (amount, available from) default to the target's currency."""
    target = _priced(amount, _base_currency(slug))
    command = c.SetFundraisingTarget(
        instrument,
        target,
        effective_on or _today(),
        deadline,
        tuple(
            tranche
            if isinstance(tranche, Tranche)
            else Tranche(
                _priced(tranche[0], lambda: target.currency, f"tranches.{i}.amount"), tranche[1]
            )
            for i, tranche in enumerate(tranches)
        ),
    )
    return _consortium_command(actor, slug, command)


def partner_admit(
    *,
    actor: Actor,
    slug: str,
    organisation_id: str,
    name: str,
    role: str,
    effective_on: dt.date | None = None,
) -> CommandResult:
    """Admit an organisation as a partner with a role."""
    command = c.AdmitPartner(organisation_id, name, role, effective_on or _today())
    return _consortium_command(actor, slug, command)


def partner_change_role(
    *,
    actor: Actor,
    slug: str,
    organisation_id: str,
    role: str,
    effective_on: dt.date | None = None,
) -> CommandResult:
    """Change a partner's role (a technical advisor becoming a member, say)."""
    command = c.ChangePartnerRole(organisation_id, role, effective_on or _today())
    return _consortium_command(actor, slug, command)


def partner_withdraw(
    *,
    actor: Actor,
    slug: str,
    organisation_id: str,
    reason: str = "",
    effective_on: dt.date | None = None,
) -> CommandResult:
    """Record that a partner left the consortium."""
    command = c.WithdrawPartner(organisation_id, effective_on or _today(), reason)
    return _consortium_command(actor, slug, command)


# --- commitments ----------------------------------------------------------------------


def commitment_record(
    *,
    actor: Actor,
    slug: str,
    commitment_id: str,
    organisation_id: str,
    instrument: str,
    amount: Money | c.Amount,
    stage: str,
    effective_on: dt.date | None = None,
) -> CommandResult:
    """Record a partner's commitment through equity, an asset or a corporate partnership."""
    command = c.RecordCommitment(
        commitment_id,
        organisation_id,
        instrument,
        _priced(amount, _base_currency(slug)),
        stage,
        effective_on or _today(),
    )
    return _consortium_command(actor, slug, command)


def commitment_advance_stage(
    *,
    actor: Actor,
    slug: str,
    commitment_id: str,
    stage: str,
    effective_on: dt.date | None = None,
) -> CommandResult:
    """Move a commitment along indicated -> soft_circled -> signed, or withdraw it."""
    command = c.AdvanceCommitmentStage(commitment_id, stage, effective_on or _today())
    return _consortium_command(actor, slug, command)


def commitment_amend(
    *,
    actor: Actor,
    slug: str,
    commitment_id: str,
    amount: Money | c.Amount,
    effective_on: dt.date | None = None,
    corrects_position: int | None = None,
) -> CommandResult:
    """Increase or reduce a commitment (never below what was already called); an
    amendment correcting a closed period may name the position it corrects."""
    money = _priced(amount, _commitment_currency(slug, commitment_id))
    corrects = _corrected_event(slug, corrects_position)
    command = c.AmendCommitment(commitment_id, money, effective_on or _today(), corrects)
    return _consortium_command(actor, slug, command)


# --- capital calls and contributions -------------------------------------------------


def capital_call_prepare(
    *,
    actor: Actor,
    slug: str,
    call_id: str,
    amount: Money | c.Amount,
    due_on: dt.date,
    purpose: str,
    effective_on: dt.date | None = None,
) -> CommandResult:
    """Prepare a draft capital call; the acting user is its preparer."""
    command = c.PrepareCapitalCall(
        call_id,
        _priced(amount, _base_currency(slug)),
        due_on,
        purpose,
        actor.username,
        effective_on or _today(),
    )
    return _consortium_command(actor, slug, command)


def capital_call_approve(
    *, actor: Actor, slug: str, call_id: str, effective_on: dt.date | None = None
) -> CommandResult:
    """Approve a draft call; the acting user must not be the one who prepared it."""
    command = c.ApproveCapitalCall(call_id, actor.username, effective_on or _today())
    return _consortium_command(actor, slug, command)


def capital_call_issue(
    *, actor: Actor, slug: str, call_id: str, effective_on: dt.date | None = None
) -> CommandResult:
    """Issue an approved call: allocations are fixed now, pro rata to signed equity."""
    command = c.IssueCapitalCall(call_id, effective_on or _today())
    return _consortium_command(actor, slug, command)


def capital_call_cancel(
    *, actor: Actor, slug: str, call_id: str, reason: str, effective_on: dt.date | None = None
) -> CommandResult:
    """Cancel a call while it is a draft or approved (never once issued)."""
    command = c.CancelCapitalCall(call_id, reason, effective_on or _today())
    return _consortium_command(actor, slug, command)


def contribution_receive(
    *,
    actor: Actor,
    slug: str,
    contribution_id: str,
    call_id: str,
    organisation_id: str,
    amount: Money | c.Amount,
    bank_reference: str,
    received_on: dt.date | None = None,
) -> CommandResult:
    """Record cash received from a partner against an issued call.

    Received after the call's due date, the same append also records the late-payment
    interest it owes (``LatePaymentInterestCharged``): the amount x the consortium's default
    rate in force on the due date x actual days late / 365, computed exactly and rounded
    once to the minor unit, half up; none without a default rate, or when it rounds to 0.
    """
    command = c.ReceiveContribution(
        contribution_id,
        call_id,
        organisation_id,
        _priced(amount, _base_currency(slug)),
        bank_reference,
        received_on or _today(),
    )
    return _consortium_command(actor, slug, command)


def contribution_reverse(
    *,
    actor: Actor,
    slug: str,
    contribution_id: str,
    reason: str,
    effective_on: dt.date | None = None,
    call_id: str | None = None,
    corrects_position: int | None = None,
) -> CommandResult:
    """Reverse a contribution recorded in error or returned by the bank; with ``call_id``
    it must have been received on that capital call. A reversal correcting a closed period
    may name the position it corrects (``corrects_position``)."""
    corrects = _corrected_event(slug, corrects_position)
    command = c.ReverseContribution(
        contribution_id, reason, effective_on or _today(), call_id, corrects
    )
    return _consortium_command(actor, slug, command)


# --- debt facilities and FX ---------------------------------------------------------------


def facility_arrange(
    *,
    actor: Actor,
    slug: str,
    facility_id: str,
    lender: str,
    amount: Money | c.Amount,
    maturity_on: dt.date,
    revolving: bool,
    effective_on: dt.date | None = None,
) -> CommandResult:
    """Record a committed credit line from a lender (counts as signed debt)."""
    command = c.ArrangeDebtFacility(
        facility_id,
        lender,
        _priced(amount, _base_currency(slug)),
        maturity_on,
        revolving,
        effective_on or _today(),
    )
    return _consortium_command(actor, slug, command)


def facility_draw(
    *,
    actor: Actor,
    slug: str,
    facility_id: str,
    draw_id: str,
    amount: Money | c.Amount,
    effective_on: dt.date | None = None,
) -> CommandResult:
    """Draw on a facility (counts as debt funded)."""
    money = _priced(amount, _facility_currency(slug, facility_id))
    command = c.DrawDebtFacility(facility_id, draw_id, money, effective_on or _today())
    return _consortium_command(actor, slug, command)


def facility_repay(
    *,
    actor: Actor,
    slug: str,
    facility_id: str,
    repayment_id: str,
    amount: Money | c.Amount,
    effective_on: dt.date | None = None,
) -> CommandResult:
    """Repay drawn debt (restores availability only on a revolving facility)."""
    money = _priced(amount, _facility_currency(slug, facility_id))
    command = c.RepayDebtFacility(facility_id, repayment_id, money, effective_on or _today())
    return _consortium_command(actor, slug, command)


def fx_rate_record(
    *,
    actor: Actor,
    slug: str,
    currency: str,
    rate: Decimal,
    effective_on: dt.date | None = None,
) -> CommandResult:
    """Record a rate: base units per one unit of ``currency``, in force from its date."""
    command = c.RecordFxRate(currency, rate, effective_on or _today())
    return _consortium_command(actor, slug, command)


# --- interest and equalisation ----------------------------------------------------------


def interest_rate_set(
    *,
    actor: Actor,
    slug: str,
    kind: str,
    rate: Decimal,
    effective_on: dt.date | None = None,
) -> CommandResult:
    """Set the consortium's ``default`` (late-payment) or ``equalisation`` rate: percent per
    year (8 for 8 %, 0 to 100, at most 4 decimals), in force from its date until the next
    rate of that kind. Interest already charged keeps the rate it was charged at."""
    command = c.SetInterestRate(kind, rate, effective_on or _today())
    return _consortium_command(actor, slug, command)


def late_interest_waiver_propose(
    *,
    actor: Actor,
    slug: str,
    contribution_id: str,
    reason: str,
    effective_on: dt.date | None = None,
) -> CommandResult:
    """Propose waiving the late-payment interest charged on a contribution; the acting user
    is the proposer. Nothing is waived until a second person approves."""
    command = c.ProposeLateInterestWaiver(
        contribution_id, actor.username, reason, effective_on or _today()
    )
    return _consortium_command(actor, slug, command)


def late_interest_waiver_approve(
    *,
    actor: Actor,
    slug: str,
    contribution_id: str,
    effective_on: dt.date | None = None,
) -> CommandResult:
    """Approve a proposed waiver: the acting user must not be its proposer. The interest
    is then no longer owed (the charge and the waiver both stay in the history)."""
    command = c.ApproveLateInterestWaiver(contribution_id, actor.username, effective_on or _today())
    return _consortium_command(actor, slug, command)


def equalisation_call_prepare(
    *,
    actor: Actor,
    slug: str,
    call_id: str,
    organisation_id: str,
    due_on: dt.date,
    effective_on: dt.date | None = None,
) -> CommandResult:
    """Prepare an equalisation call on a late joiner (a partner admitted after capital was
    called); the acting user is its preparer. Its figures are fixed now from the record:
    the same fraction of the joiner's signed equity as the earlier partners were called,
    plus interest at the equalisation rate in force today from each earlier call's due
    date to ``due_on`` (exact per call, summed, rounded once to the minor unit half up;
    never capital), shared out to the earlier partners pro rata to their contributions to
    those calls (largest remainder)."""
    command = c.PrepareEqualisationCall(
        call_id, organisation_id, due_on, actor.username, effective_on or _today()
    )
    return _consortium_command(actor, slug, command)


def equalisation_call_approve(
    *, actor: Actor, slug: str, call_id: str, effective_on: dt.date | None = None
) -> CommandResult:
    """Approve a prepared equalisation call, which issues it: the acting user must not be
    its preparer, and the record must still give the figures it was prepared with."""
    command = c.ApproveEqualisationCall(call_id, actor.username, effective_on or _today())
    return _consortium_command(actor, slug, command)


# --- sealed periods ---------------------------------------------------------------------


def _corrected_event(slug: str, position: int | None) -> int | None:
    """``position`` (optional) if it is the ledger position of an event of ``slug``'s
    stream, which a correction names; else ``NotFound`` on ``corrects_position``."""
    checked = check_corrects_position(position)
    if checked is None:
        return None
    found = read_stream(consortium_stream_id(slug), after_position=checked - 1, limit=1)
    if not found or found[0].position != checked:
        raise NotFound(
            f"Position {checked} is not an event of {slug}'s history; name the position of "
            "the event this corrects (the history shows each event's position).",
            field="corrects_position",
        )
    return checked


def period_close(
    *,
    actor: Actor,
    slug: str,
    closing_date: dt.date,
    effective_on: dt.date | None = None,
) -> CommandResult:
    """Seal ``slug``'s books up to ``closing_date`` (finance): the ``PeriodClosed`` event
    records the ledger's head the decision saw and each partner's balances as of the
    closing date (``consortium.periods``). After it, no event of the consortium (nor a
    stake of it) may take effect on or before the closing date."""
    command = c.ClosePeriod(closing_date, actor.username, effective_on or _today())
    stream, today = consortium_stream_id(slug), _today()

    def decide_on(state: ConsortiumState) -> list[Event]:
        closing = command.closing_date
        basis = seal_basis(slug, state, closing) if type(closing) is dt.date else None
        return decide(state, dataclasses.replace(command, basis=basis), today=today)

    result = _execute(_answering(actor, command), stream, decide_on, command.effective_on)
    return dataclasses.replace(result, command=command)


def period_propose_reopening(
    *, actor: Actor, slug: str, reason: str, effective_on: dt.date | None = None
) -> CommandResult:
    """Propose undoing ``slug``'s latest close; the acting user is the proposer."""
    command = c.ProposeReopening(reason, actor.username, effective_on or _today())
    return _consortium_command(actor, slug, command)


def period_approve_reopening(
    *, actor: Actor, slug: str, effective_on: dt.date | None = None
) -> CommandResult:
    """Approve the pending proposal to reopen (never the proposer): the latest close is
    undone; its ``PeriodClosed`` stays in the ledger."""
    command = c.ApproveReopening(actor.username, effective_on or _today())
    return _consortium_command(actor, slug, command)


# --- assets and stakes --------------------------------------------------------------------


def _asset_command(
    actor: Actor,
    asset_id: str,
    command: c.AssetCommand,
    sponsor: Any = None,
) -> CommandResult:
    """Decide and append an asset command. Sealed periods: each consortium holder the
    command names is locked against appends (``ledger.store.lock_stream``) while its state
    is read and the asset's event appended, so a close cannot slip in between and the
    stake cannot land inside a period closed meanwhile."""
    today = _today()
    with contextlib.ExitStack() as held:
        holders = {}
        for slug in consortium_holders_of(command):
            held.enter_context(lock_stream(consortium_stream_id(slug)))
            holders[slug] = load_consortium(slug).state
        result = _execute(
            _answering(actor, command),
            asset_stream_id(asset_id),
            lambda state: decide_for_asset(
                state, command, sponsor=sponsor, today=today, holders=holders
            ),
            command.effective_on,
        )
    return dataclasses.replace(result, command=command)


def asset_register(
    *,
    actor: Actor,
    asset_id: str,
    sponsor: str,
    kind: str,
    name: str,
    location: str,
    capacity_mw: Decimal,
    estimated_cost: Money | c.Amount,
    effective_on: dt.date | None = None,
) -> CommandResult:
    """Register a data centre or energy facility sponsored by a consortium."""
    check_slug(sponsor, field="sponsor", what="The sponsor")  # before it names a stream
    sponsor_state = load_consortium(sponsor).state
    if not sponsor_state.is_formed:
        raise NotFound(
            f"There is no consortium {sponsor!r} to sponsor this asset.", field="sponsor"
        )
    command = c.RegisterAsset(
        asset_id,
        sponsor,
        kind,
        name,
        location,
        capacity_mw,
        _priced(estimated_cost, lambda: sponsor_state.base_currency, "estimated_cost"),
        effective_on or _today(),
    )
    return _asset_command(actor, asset_id, command, sponsor=sponsor_state)


def _check_holder(holder: Holder, on: dt.date) -> None:
    """A consortium holder must exist and have been formed by the stake's date."""
    if holder.kind != "consortium":
        return
    state = load_consortium(holder.id).state
    if state.formed_on is None:
        raise NotFound(f"There is no consortium {holder.id!r} to hold this stake.", field="holder")
    if on < state.formed_on:
        raise DateBeforeFormation(
            f"{state.name} was formed on {state.formed_on.isoformat()}; it cannot hold a stake "
            f"from {on.isoformat()}.",
            field="effective_on",
        )


def stake_acquire(
    *,
    actor: Actor,
    asset_id: str,
    holder: Holder,
    percent: Percent,
    effective_on: dt.date | None = None,
) -> CommandResult:
    """A consortium or organisation acquires a stake (stakes never exceed 100 % in total)."""
    on = effective_on or _today()
    _check_holder(holder, on)
    return _asset_command(actor, asset_id, c.AcquireStake(asset_id, holder, percent, on))


def stake_transfer(
    *,
    actor: Actor,
    asset_id: str,
    from_holder: Holder,
    to_holder: Holder,
    percent: Percent,
    effective_on: dt.date | None = None,
) -> CommandResult:
    """Move part or all of a stake from one holder to another."""
    on = effective_on or _today()
    _check_holder(to_holder, on)
    command = c.TransferStake(asset_id, from_holder, to_holder, percent, on)
    return _asset_command(actor, asset_id, command)


def stake_sell(
    *,
    actor: Actor,
    asset_id: str,
    holder: Holder,
    percent: Percent,
    effective_on: dt.date | None = None,
) -> CommandResult:
    """A holder sells part or all of its stake out of the recorded holders."""
    on = effective_on or _today()
    return _asset_command(actor, asset_id, c.SellStake(asset_id, holder, percent, on))


# --- distributions ------------------------------------------------------------------------


def _stake_history(slug: str, asset_id: str) -> c.StakeHistory:
    """Whether ``asset_id`` is registered and the first day consortium ``slug`` held a stake
    in it (acquired or transferred to it), read from the asset's stream."""
    events = asset_history(asset_id)  # an id no asset can have is InvalidInput here
    holder = Holder.consortium(slug)
    held = [
        dated.effective_on
        for dated in events
        if (isinstance(dated.event, StakeAcquired) and dated.event.holder == holder)
        or (isinstance(dated.event, StakeTransferred) and dated.event.to_holder == holder)
    ]
    return c.StakeHistory(asset_id, bool(events), min(held) if held else None)


def proceeds_record(
    *,
    actor: Actor,
    slug: str,
    proceeds_id: str,
    asset_id: str,
    kind: str,
    amount: Money | c.Amount,
    received_on: dt.date | None = None,
) -> CommandResult:
    """Record income or sale proceeds the consortium received from an asset it holds (or
    held) a stake in, in its base currency."""
    command = c.RecordProceeds(
        proceeds_id,
        asset_id,
        kind,
        _priced(amount, _base_currency(slug)),
        received_on or _today(),
    )
    holding = _stake_history(slug, asset_id)
    today = _today()
    result = _execute(
        _answering(actor, command),
        consortium_stream_id(slug),
        lambda state: decide(state, command, today=today, holding=holding),
        command.effective_on,
    )
    return dataclasses.replace(result, command=command)


def distribution_prepare(
    *,
    actor: Actor,
    slug: str,
    distribution_id: str,
    amount: Money | c.Amount,
    kind: str,
    purpose: str,
    basis: str = "contributed",
    recallable: Mapping[str, Money | c.Amount] | None = None,
    effective_on: dt.date | None = None,
) -> CommandResult:
    """Prepare a draft distribution; the acting user is its preparer. Shares are fixed now,
    pro rata to contributed capital (``basis="contributed"``) or to signed equity
    (``"commitment"``); ``recallable`` names partners and the recallable part of each one's
    share."""
    currency = _base_currency(slug)
    parts = tuple(
        (org, _priced(value, currency, "recallable"))
        for org, value in sorted((recallable or {}).items())
    )
    command = c.PrepareDistribution(
        distribution_id,
        _priced(amount, currency),
        kind,
        basis,
        parts,
        purpose,
        actor.username,
        effective_on or _today(),
    )
    return _consortium_command(actor, slug, command)


def distribution_approve(
    *, actor: Actor, slug: str, distribution_id: str, effective_on: dt.date | None = None
) -> CommandResult:
    """Approve a draft distribution; the acting user must not be the one who prepared it."""
    command = c.ApproveDistribution(distribution_id, actor.username, effective_on or _today())
    return _consortium_command(actor, slug, command)


def distribution_pay(
    *, actor: Actor, slug: str, distribution_id: str, effective_on: dt.date | None = None
) -> CommandResult:
    """Pay an approved distribution: its recallable parts add back to unfunded."""
    command = c.PayDistribution(distribution_id, effective_on or _today())
    return _consortium_command(actor, slug, command)
