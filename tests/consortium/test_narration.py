"""Events in words: one plain sentence for every event type, with names where known."""

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from consortium import services as s
from consortium.domain import events as e
from consortium.domain.money import Money, Percent
from consortium.domain.values import Allocation, ClosingBalance, DistributionShare, Holder, Tranche
from consortium.narration import describe, names_for
from ledger.store import RecordedEvent, read_all

D = dt.date(2026, 1, 15)
NAMES = {
    "aip": "AIP",
    "stargate": "Stargate",
    "mgx": "MGX",
    "openai": "OpenAI",
    "oracle": "Oracle",
    "abilene": "Abilene campus",
    "jpm": "JPMorgan",
}


def usd(amount: str) -> Money:
    return Money.of(Decimal(amount), "USD")


_positions = itertools.count(1000)


def recorded(event: e.Event, stream: str = "consortium-aip") -> RecordedEvent:
    """The event as read from the ledger (a fresh position each: decoding is cached by it)."""
    kind, data = e.event_to_stored(event)
    position = next(_positions)
    return RecordedEvent(
        position=position,
        stream=stream,
        version=1,
        type=kind,
        schema_version=1,
        data=data,
        metadata={"actor": "alice"},
        effective_on=D,
        recorded_at=dt.datetime(2026, 1, 16, tzinfo=dt.UTC),
        prev_hash="0" * 64,
        hash=f"{position:064x}",
    )


ASSET = "asset-abilene"
CASES = [
    (
        e.ConsortiumFormed("AI Infrastructure Partnership", "aip", "USD", dt.date(2024, 9, 17)),
        "consortium-aip",
        "AI Infrastructure Partnership was formed, base currency USD, on 2024-09-17",
    ),
    (
        e.FundraisingTargetSet(
            "total",
            usd("500000000000"),
            None,
            (
                Tranche(usd("100000000000"), dt.date(2025, 1, 21)),
                Tranche(usd("400000000000"), dt.date(2029, 1, 21)),
            ),
        ),
        "consortium-stargate",
        "Stargate set its total target to USD 500.0 bn (2 tranches)",
    ),
    (
        e.FundraisingTargetSet("equity", usd("30000000000"), dt.date(2027, 12, 31)),
        "consortium-aip",
        "AIP set its equity target to USD 30.0 bn (deadline 2027-12-31)",
    ),
    (
        e.PartnerAdmitted("mgx", "MGX", "founding_member"),
        "consortium-aip",
        "MGX was admitted to AIP as founding member",
    ),
    (
        e.PartnerRoleChanged("mgx", "technical_advisor"),
        "consortium-aip",
        "MGX became technical advisor of AIP",
    ),
    (
        e.PartnerWithdrew("mgx", "Strategy changed"),
        "consortium-aip",
        "MGX withdrew from AIP: Strategy changed",
    ),
    (
        e.CommitmentRecorded(
            "aip-mgx", "mgx", "equity", usd("5000000000"), "signed", usd("5000000000")
        ),
        "consortium-aip",
        "MGX committed USD 5.0 bn equity, signed",
    ),
    (
        e.CommitmentRecorded(
            "aip-land",
            "mgx",
            "asset_contribution",
            Money.of("1000000000", "EUR"),
            "soft_circled",
            usd("1085000000"),
            Decimal("1.085"),
        ),
        "consortium-aip",
        "MGX committed EUR 1.0 bn (USD 1.1 bn) asset contribution, soft circled",
    ),
    (
        e.CommitmentStageAdvanced("aip-mgx", "signed"),
        "consortium-aip",
        "Commitment aip-mgx moved to signed",
    ),
    (
        e.CommitmentStageAdvanced("aip-mgx", "withdrawn"),
        "consortium-aip",
        "Commitment aip-mgx was withdrawn",
    ),
    (
        e.CommitmentAmended("aip-mgx", usd("6000000000"), usd("6000000000")),
        "consortium-aip",
        "Commitment aip-mgx amended to USD 6.0 bn",
    ),
    (
        e.CapitalCallPrepared("Q1-2026", usd("2000000000"), dt.date(2026, 3, 31), "Land", "alice"),
        "consortium-aip",
        "Capital call Q1-2026 of USD 2.0 bn prepared by alice, due 2026-03-31",
    ),
    (
        e.CapitalCallApproved("Q1-2026", "bob"),
        "consortium-aip",
        "Capital call Q1-2026 approved by bob",
    ),
    (
        e.CapitalCallIssued(
            "Q1-2026",
            (Allocation("mgx", usd("1200000000")), Allocation("openai", usd("800000000"))),
        ),
        "consortium-aip",
        "Capital call Q1-2026 issued: USD 2.0 bn to 2 partners",
    ),
    (
        e.CapitalCallCancelled("Q1-2026", "Deal fell through"),
        "consortium-aip",
        "Capital call Q1-2026 cancelled: Deal fell through",
    ),
    (
        e.ContributionReceived(
            "c-1", "Q1-2026", "mgx", usd("450000000"), dt.date(2026, 3, 30), "REF-77"
        ),
        "consortium-aip",
        "MGX paid USD 450.0 m on capital call Q1-2026, received 2026-03-30 (ref. REF-77)",
    ),
    (
        e.ContributionReversed("c-1", "Returned by the bank"),
        "consortium-aip",
        "Contribution c-1 reversed: Returned by the bank",
    ),
    (
        e.DebtFacilityArranged(
            "rcf-1", "jpm", usd("10000000000"), dt.date(2030, 6, 30), True, usd("10000000000")
        ),
        "consortium-aip",
        "JPMorgan arranged revolving facility rcf-1 of USD 10.0 bn, maturing 2030-06-30",
    ),
    (
        e.DebtFacilityDrawn("rcf-1", "d-1", usd("2500000000"), usd("2500000000")),
        "consortium-aip",
        "USD 2.5 bn drawn on facility rcf-1 (draw d-1)",
    ),
    (
        e.DebtFacilityRepaid("rcf-1", "r-1", usd("750000"), usd("750000")),
        "consortium-aip",
        "USD 750,000.00 repaid on facility rcf-1 (repayment r-1)",
    ),
    (
        e.FxRateRecorded("EUR", Decimal("1.0850"), dt.date(2026, 1, 1)),
        "consortium-aip",
        "AIP recorded an FX rate of 1.0850 per EUR, in force from 2026-01-01",
    ),
    (
        e.AssetRegistered(
            "abilene",
            "stargate",
            "data_centre",
            "Abilene campus",
            "Abilene, TX, US",
            Decimal("1200"),
            usd("15000000000"),
            usd("15000000000"),
        ),
        ASSET,
        "Stargate registered data centre Abilene campus in Abilene, TX, US "
        "(1,200 MW, estimated USD 15.0 bn)",
    ),
    (
        e.StakeAcquired("abilene", Holder.organisation("openai"), Percent.of("25")),
        ASSET,
        "OpenAI took a 25.00 % stake in Abilene campus",
    ),
    (
        e.StakeTransferred(
            "abilene",
            Holder.consortium("stargate"),
            Holder.organisation("oracle"),
            Percent.of("15"),
        ),
        ASSET,
        "Stargate transferred a 15.00 % stake in Abilene campus to Oracle",
    ),
    (
        e.StakeSold("abilene", Holder.organisation("openai"), Percent.of("5.125")),
        ASSET,
        "OpenAI sold a 5.13 % stake in Abilene campus",
    ),
    # sealed periods
    (
        e.PeriodClosed(
            dt.date(2025, 3, 31),
            412,
            "ab" * 32,
            (ClosingBalance("mgx", usd("6"), usd("3"), usd("3"), usd("3"), usd("0")),),
            "bob",
        ),
        "consortium-aip",
        "AIP's books closed up to 2025-03-31 by bob, sealed at "
        "position 412 (abababababab…) with the balances of 1 partner",
    ),
    (
        e.PeriodReopenProposed(dt.date(2025, 3, 31), "A late bank statement", "bob"),
        "consortium-aip",
        "bob proposed reopening AIP's period closed up to 2025-03-31: A late bank statement",
    ),
    (
        e.PeriodReopened(dt.date(2025, 3, 31), "bob", "carol"),
        "consortium-aip",
        "AIP's period closed up to 2025-03-31 was reopened: proposed by bob, approved by carol",
    ),
    (
        e.ContributionReversed("c-1", "Bank error", 17),
        "consortium-aip",
        "Contribution c-1 reversed, correcting position 17: Bank error",
    ),
    # --- interest and equalisation ---
    (
        e.InterestRateSet("default", Decimal("8"), dt.date(2026, 1, 1)),
        "consortium-aip",
        "AIP set its default (late-payment) interest rate to 8 % a year, in force from 2026-01-01",
    ),
    (
        e.LatePaymentInterestCharged(
            "k-1",
            "call-1",
            "mgx",
            usd("6.58"),
            Decimal("8"),
            dt.date(2026, 3, 1),
            dt.date(2026, 3, 31),
        ),
        "consortium-aip",
        "MGX owes USD 6.58 late-payment interest on contribution k-1 (30 days late on "
        "capital call call-1 at 8 % a year)",
    ),
    (
        e.LatePaymentInterestWaiverProposed("k-1", "alice", "Bank error"),
        "consortium-aip",
        "alice proposed waiving the late-payment interest on contribution k-1: Bank error",
    ),
    (
        e.LatePaymentInterestWaived("k-1", "bob"),
        "consortium-aip",
        "bob approved waiving the late-payment interest on contribution k-1",
    ),
    (
        e.EqualisationCallPrepared(
            "eq-1",
            "jpm",
            usd("25.00"),
            dt.date(2025, 7, 1),
            Decimal("8"),
            usd("0.67"),
            ("call-1",),
            (Allocation("mgx", usd("0.40")), Allocation("oracle", usd("0.27"))),
            "alice",
        ),
        "consortium-aip",
        "Equalisation call eq-1 prepared by alice: JPMorgan to pay USD 25.00 due 2025-07-01 (calls "
        "call-1) plus USD 0.67 equalisation interest at 8 % a year, paid USD 0.40 to MGX, "
        "USD 0.27 to Oracle",
    ),
    (
        e.EqualisationCallApproved("eq-1", "bob"),
        "consortium-aip",
        "Equalisation call eq-1 approved by bob and issued",
    ),
    # --- distributions ---
    (
        e.ProceedsReceived("p-1", "abilene", "sale", usd("250000000"), dt.date(2026, 3, 31)),
        "consortium-stargate",
        "Stargate received USD 250.0 m of sale proceeds from Abilene campus, on 2026-03-31 (p-1)",
    ),
    (
        e.DistributionPrepared(
            "d-1",
            usd("100"),
            "capital",
            "contributed",
            (
                DistributionShare("mgx", usd("60"), usd("20")),
                DistributionShare("openai", usd("40"), usd("0")),
            ),
            "Sale",
            "alice",
        ),
        "consortium-stargate",
        "Distribution d-1 of USD 100.00 (capital) prepared by alice, to 2 partners pro rata "
        "to contributed capital, USD 20.00 of it recallable",
    ),
    (
        e.DistributionApproved("d-1", "bob"),
        "consortium-stargate",
        "Distribution d-1 approved by bob",
    ),
    (e.DistributionPaid("d-1"), "consortium-stargate", "Distribution d-1 paid"),
]


@pytest.mark.parametrize(
    ("event", "stream", "sentence"), CASES, ids=[f"{c[0].TYPE}-{i}" for i, c in enumerate(CASES)]
)
def test_every_event_type_reads_as_a_sentence(event, stream, sentence):
    assert describe(recorded(event, stream), NAMES) == sentence


def test_the_cases_cover_every_event_type():
    assert {event.TYPE for event, _, _ in CASES} == set(e.EVENT_TYPES)


def test_without_names_the_ids_are_shown():
    event = e.CommitmentRecorded("c", "mgx", "equity", usd("5000000000"), "signed", usd("5e9"))
    assert describe(recorded(event)) == "mgx committed USD 5.0 bn equity, signed"
    stake = e.StakeAcquired("abilene", Holder.consortium("stargate"), Percent.of("100"))
    assert describe(recorded(stake, ASSET)) == "stargate took a 100.00 % stake in abilene"


def access(data: dict[str, object]) -> RecordedEvent:
    return RecordedEvent(
        1, "access", 1, "AccessChanged", 1, data, {"actor": "root"}, D,
        dt.datetime(2026, 1, 16, tzinfo=dt.UTC), "0" * 64, "1" * 64,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("data", "sentence"),
    [
        ({"action": "user_created", "user": "carol"}, "User carol was created"),
        (
            {"action": "user_changed", "user": "carol", "changed": ["is_staff", "email"]},
            "User carol was changed (is_staff, email)",
        ),
        ({"action": "user_changed", "user": "carol"}, "User carol was changed"),
        (
            {"action": "role_granted", "user": "carol", "role": "auditor", "consortium": "aip"},
            "carol was granted auditor in AIP",
        ),
        (
            {"action": "role_granted", "user": "pat", "role": "partner", "organisation_id": "mgx"},
            "pat was granted partner:mgx (MGX) in every consortium",
        ),
        (
            {"action": "role_revoked", "user": "carol", "role": "finance"},
            "carol lost finance in every consortium",
        ),
        (
            {"action": "api_client_created", "client": "erp", "user": "erp-bot"},
            "API client erp was created for erp-bot",
        ),
        ({"action": "api_client_revoked", "client": "erp"}, "API client erp was revoked"),
        ({"action": "something_new"}, "Access changed (something_new) on stream access"),
        ({}, "Access changed (unspecified) on stream access"),
    ],
)
def test_access_changes_read_as_sentences(data, sentence):
    assert describe(access(data), NAMES) == sentence


def test_an_unknown_type_is_named_with_its_stream():
    event = RecordedEvent(
        9, "billing-7", 3, "InvoiceSent", 1, {"x": 1}, {}, D,
        dt.datetime(2026, 1, 16, tzinfo=dt.UTC), "0" * 64, "9" * 64,
    )  # fmt: skip
    assert describe(event) == "Invoice sent (InvoiceSent on stream billing-7)"


def test_data_that_does_not_decode_is_said_plainly():
    event = RecordedEvent(
        10, "consortium-aip", 3, "PartnerAdmitted", 1, {"oops": True}, {}, D,
        dt.datetime(2026, 1, 16, tzinfo=dt.UTC), "0" * 64, "a" * 64,
    )  # fmt: skip
    assert describe(event) == "Partner admitted (data not readable; stream consortium-aip)"


@pytest.mark.django_db
def test_names_come_from_the_folded_states(formed, alice):
    formed("aip", {"mgx": "600.00", "microsoft": "400.00"})
    s.asset_register(
        actor=alice,
        asset_id="dc-1",
        sponsor="aip",
        kind="data_centre",
        name="Campus One",
        location="Loudoun County, VA, US",
        capacity_mw=Decimal("100"),
        estimated_cost=usd("1000000.00"),
        effective_on=dt.date(2025, 2, 1),
    )
    names = names_for(["aip"])
    assert names == {"aip": "AIP", "mgx": "Mgx", "microsoft": "Microsoft", "dc-1": "Campus One"}
    sentences = [describe(event, names) for event in read_all()]
    assert "Mgx committed USD 600.00 equity, signed" in sentences
    assert sentences[-1].startswith("AIP registered data centre Campus One")
    assert names_for(["nowhere"]) == {}
