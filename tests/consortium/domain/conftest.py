"""Given/when/then helpers for domain tests: streams held in memory, no database."""

from __future__ import annotations

import pickle
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from consortium.domain.commands import (
    AcquireStake,
    AdmitPartner,
    ApproveCapitalCall,
    FormConsortium,
    IssueCapitalCall,
    PrepareCapitalCall,
    ReceiveContribution,
    RecordCommitment,
    RecordFxRate,
    RegisterAsset,
)
from consortium.domain.decisions import decide, decide_for_asset
from consortium.domain.errors import DomainError
from consortium.domain.events import DatedEvent, Event
from consortium.domain.money import Money, Percent
from consortium.domain.state import AssetState, ConsortiumState, fold_asset, fold_consortium
from consortium.domain.values import Holder

FORMED = date(2024, 9, 17)
SIGNED = date(2024, 10, 1)
JOINED_2025 = date(2025, 3, 19)


class Stream:
    """One stream in memory: `given` commands run for real, `when` one more, `then` events."""

    def __init__(self, state: Any, sponsor: ConsortiumState | None = None) -> None:
        self.state = state
        self.sponsor = sponsor
        self.history: list[DatedEvent] = []

    def _decide(self, command: Any) -> list[Event]:
        if isinstance(self.state, AssetState):
            return decide_for_asset(self.state, command, sponsor=self.sponsor)
        return decide(self.state, command)

    def given(self, *commands: Any) -> Stream:
        for command in commands:
            self.when(command)
        return self

    def when(self, command: Any) -> list[Event]:
        events = self._decide(command)
        for event in events:
            dated = DatedEvent(event, command.effective_on, version=len(self.history) + 1)
            self.state.apply(dated)
            self.history.append(dated)
        return events

    def refuses(self, command: Any, error: type[DomainError], match: str) -> DomainError:
        """Then: the named error, a message matching `match`, and nothing appended."""
        before, count = pickle.dumps(self.state), len(self.history)
        with pytest.raises(error, match=match) as refused:
            self.when(command)
        assert len(self.history) == count
        assert pickle.dumps(self.state) == before
        assert refused.value.message
        return refused.value

    def as_of(self, day: date) -> Any:
        if isinstance(self.state, AssetState):
            return fold_asset(self.history, as_of=day)
        return fold_consortium(self.history, as_of=day)


def usd(amount: str | int) -> Money:
    return Money.of(amount, "USD")


class Make:
    """Command builders with the AIP's illustrative defaults."""

    usd = staticmethod(usd)

    @staticmethod
    def form(on: date = FORMED) -> FormConsortium:
        return FormConsortium("AI Infrastructure Partnership", "aip", "USD", on)

    @staticmethod
    def admit(org: str, name: str, role: str = "member", on: date = FORMED) -> AdmitPartner:
        return AdmitPartner(org, name, role, on)

    @staticmethod
    def commit(
        cid: str,
        org: str,
        amount: str | Money,
        *,
        stage: str = "signed",
        instrument: str = "equity",
        on: date = SIGNED,
    ) -> RecordCommitment:
        money = amount if isinstance(amount, Money) else usd(amount)
        return RecordCommitment(cid, org, instrument, money, stage, on)

    @staticmethod
    def prepare(
        call_id: str, amount: str, on: date = date(2025, 4, 1), by: str = "alice"
    ) -> PrepareCapitalCall:
        return PrepareCapitalCall(call_id, usd(amount), date(2025, 5, 1), "Phase 1 sites", by, on)

    @staticmethod
    def approve(call_id: str, by: str = "bob", on: date = date(2025, 4, 2)) -> ApproveCapitalCall:
        return ApproveCapitalCall(call_id, by, on)

    @staticmethod
    def issue(call_id: str, on: date = date(2025, 4, 3)) -> IssueCapitalCall:
        return IssueCapitalCall(call_id, on)

    @classmethod
    def called(cls, call_id: str, amount: str, on: date = date(2025, 4, 1)) -> list[Any]:
        """Prepare, approve and issue a call on consecutive days from `on`."""
        return [
            cls.prepare(call_id, amount, on),
            cls.approve(call_id, on=on),
            cls.issue(call_id, on=on),
        ]

    @staticmethod
    def pay(
        cid: str, call_id: str, org: str, amount: str, on: date = date(2025, 4, 10)
    ) -> ReceiveContribution:
        return ReceiveContribution(cid, call_id, org, usd(amount), f"REF-{cid}", on)

    @staticmethod
    def rate(currency: str, rate: str, on: date) -> RecordFxRate:
        return RecordFxRate(currency, Decimal(rate), on)

    @classmethod
    def aip(cls) -> Stream:
        """A fresh AIP stream: five partners, USD 8 bn of signed equity (illustrative)."""
        return Stream(ConsortiumState()).given(
            cls.form(),
            cls.admit("blackrock", "BlackRock", "founding_member"),
            cls.admit("microsoft", "Microsoft", "founding_member"),
            cls.admit("mgx", "MGX", "founding_member"),
            cls.admit("xai", "xAI", on=JOINED_2025),
            cls.admit("nvidia", "Nvidia", "technical_advisor", on=JOINED_2025),
            cls.commit("c-blackrock", "blackrock", "3000000000"),
            cls.commit("c-microsoft", "microsoft", "3000000000"),
            cls.commit("c-mgx", "mgx", "2000000000"),
        )

    @staticmethod
    def stake(holder: Holder, percent: str, on: date = date(2025, 2, 1)) -> AcquireStake:
        return AcquireStake("dc-1", holder, Percent.of(percent), on)


@pytest.fixture
def make() -> type[Make]:
    return Make


@pytest.fixture
def empty() -> Stream:
    """A consortium stream with nothing in it yet."""
    return Stream(ConsortiumState())


@pytest.fixture
def aip() -> Stream:
    """The AI Infrastructure Partnership with illustrative signed equity (USD 8 bn)."""
    return Make.aip()


@pytest.fixture
def unregistered(aip: Stream) -> Stream:
    """An asset stream with nothing in it yet, sponsored by the AIP."""
    return Stream(AssetState(), sponsor=aip.state)


@pytest.fixture
def data_centre(aip: Stream) -> Stream:
    """Asset dc-1 registered by the AIP on 2025-01-15."""
    asset = Stream(AssetState(), sponsor=aip.state)
    return asset.given(
        RegisterAsset(
            "dc-1",
            "aip",
            "data_centre",
            "Campus One",
            "Virginia, US",
            Decimal("300"),
            usd("2500000000"),
            date(2025, 1, 15),
        )
    )
