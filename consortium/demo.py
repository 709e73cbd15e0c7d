"""The demo data set: the AI Infrastructure Partnership and Stargate, as public reporting
in early 2025 describes them. Partner amounts are invented but plausible, and labelled
illustrative wherever a person reads them.

Every step is a real command through ``consortium.services`` with its own idempotency
key, so loading the demo twice appends nothing the second time, and the demo obeys every
rule a user's own data does.

Beside the ledger (``consortium.reports.instructions``), each partner gets its recipients
(``example.com`` addresses) as soon as it is admitted, so the demo's capital call notices
are sent to someone; and, once every step is loaded, each consortium gets payment
instructions, proposed by alice.deal and approved by bob.finance (as the demo's calls are
prepared by one and approved by the other). Their proposal and approval are ledger events
(stream ``access``), appended after the demo's own so that its events keep their
positions; so the notice of the demo's first call, issued before them, says "to follow",
and calls issued afterwards print them.
"""

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from consortium import services as s
from consortium.domain.money import Money, Percent
from consortium.domain.values import Holder, Tranche
from consortium.models import PartnerRecipient
from consortium.reports import instructions

ILLUSTRATIVE = "(illustrative)"
KEY_PREFIX = "seed-demo:v1:"

# Two people, so that a call is approved by someone other than its preparer.
DEMO_USERS = {
    "alice.deal": ("Alice", "Deal lead"),
    "bob.finance": ("Bob", "Finance controller"),
}


def usd(amount: str) -> Money:
    return Money.of(Decimal(amount), "USD")


def bn(amount: str) -> Money:
    """USD billions, written as in the press: bn("30") is USD 30,000,000,000.00."""
    return usd(str(Decimal(amount) * 1_000_000_000))


def demo_users() -> dict[str, AbstractBaseUser]:
    """The demo's two people (no password: they act only through this loader)."""
    users: dict[str, AbstractBaseUser] = {}
    for username, (first_name, last_name) in DEMO_USERS.items():
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"first_name": first_name, "last_name": last_name}
        )
        if created:
            user.set_unusable_password()
            user.save()
        users[username] = user
    return users


Step = tuple[str, Callable[..., s.CommandResult], dict[str, Any]]


def aip_steps() -> Iterator[Step]:
    """The AI Infrastructure Partnership (BlackRock, GIP, Microsoft, MGX; Nvidia, xAI)."""
    slug, d = "aip", dt.date
    yield (
        "alice.deal",
        s.consortium_form,
        {
            "slug": slug,
            "name": "AI Infrastructure Partnership",
            "base_currency": "USD",
            "formed_on": d(2024, 9, 17),
        },
    )
    yield (
        "alice.deal",
        s.consortium_set_target,
        {"slug": slug, "instrument": "equity", "amount": bn("30"), "effective_on": d(2024, 9, 17)},
    )
    yield (
        "alice.deal",
        s.consortium_set_target,
        {"slug": slug, "instrument": "total", "amount": bn("100"), "effective_on": d(2024, 9, 17)},
    )
    for org, name, role, on in [
        ("blackrock-gip", "BlackRock / GIP", "founding_member", d(2024, 9, 17)),
        ("microsoft", "Microsoft", "founding_member", d(2024, 9, 17)),
        ("mgx", "MGX", "founding_member", d(2024, 9, 17)),
        ("senior-lenders", f"Senior lender syndicate {ILLUSTRATIVE}", "lender", d(2024, 11, 1)),
        ("nvidia", "Nvidia", "technical_advisor", d(2025, 3, 19)),
        ("xai", "xAI", "member", d(2025, 3, 19)),
    ]:
        yield (
            "alice.deal",
            s.partner_admit,
            {"slug": slug, "organisation_id": org, "name": name, "role": role, "effective_on": on},
        )
    for cid, org, amount, stage, on in [
        ("aip-eq-blackrock", "blackrock-gip", "8", "signed", d(2024, 10, 15)),
        ("aip-eq-microsoft", "microsoft", "8", "signed", d(2024, 10, 15)),
        ("aip-eq-mgx", "mgx", "6", "signed", d(2024, 10, 30)),
        ("aip-eq-xai", "xai", "3", "soft_circled", d(2025, 4, 1)),
    ]:
        yield (
            "alice.deal",
            s.commitment_record,
            {
                "slug": slug,
                "commitment_id": cid,
                "organisation_id": org,
                "instrument": "equity",
                "amount": bn(amount),
                "stage": stage,
                "effective_on": on,
            },
        )
    yield (
        "bob.finance",
        s.fx_rate_record,
        {
            "slug": slug,
            "currency": "AED",
            "rate": Decimal("0.2723"),
            "effective_on": d(2024, 10, 1),
        },
    )
    yield (
        "alice.deal",
        s.commitment_record,
        {
            "slug": slug,
            "commitment_id": "aip-site-mgx",
            "organisation_id": "mgx",
            "instrument": "asset_contribution",
            "amount": Money.of("3672500000.00", "AED"),
            "stage": "signed",
            "effective_on": d(2024, 11, 20),
        },
    )
    yield (
        "alice.deal",
        s.commitment_record,
        {
            "slug": slug,
            "commitment_id": "aip-cp-microsoft",
            "organisation_id": "microsoft",
            "instrument": "corporate_partnership",
            "amount": bn("2"),
            "stage": "indicated",
            "effective_on": d(2025, 2, 3),
        },
    )
    yield (
        "bob.finance",
        s.facility_arrange,
        {
            "slug": slug,
            "facility_id": "aip-senior-term-loan",
            "lender": "senior-lenders",
            "amount": bn("20"),
            "maturity_on": d(2032, 12, 31),
            "revolving": False,
            "effective_on": d(2024, 12, 10),
        },
    )
    yield (
        "bob.finance",
        s.facility_draw,
        {
            "slug": slug,
            "facility_id": "aip-senior-term-loan",
            "draw_id": "aip-draw-1",
            "amount": bn("5"),
            "effective_on": d(2025, 2, 14),
        },
    )
    yield from _aip_first_call(slug)


def _aip_first_call(slug: str) -> Iterator[Step]:
    d, call = dt.date, "aip-call-1"
    yield (
        "bob.finance",
        s.capital_call_prepare,
        {
            "slug": slug,
            "call_id": call,
            "amount": bn("4.4"),
            "due_on": d(2025, 3, 14),
            "purpose": f"First close: land and power for two campuses {ILLUSTRATIVE}",
            "effective_on": d(2025, 2, 10),
        },
    )
    yield (
        "alice.deal",
        s.capital_call_approve,
        {"slug": slug, "call_id": call, "effective_on": d(2025, 2, 11)},
    )
    yield (
        "alice.deal",
        s.capital_call_issue,
        {"slug": slug, "call_id": call, "effective_on": d(2025, 2, 12)},
    )
    for contribution, org, amount, on, reference in [
        ("aip-c1-microsoft", "microsoft", "1600000000.00", d(2025, 3, 3), "MSFT-WIRE-0303"),
        ("aip-c1-mgx", "mgx", "1200000000.00", d(2025, 3, 10), "MGX-SWIFT-2281"),
        ("aip-c1-blackrock", "blackrock-gip", "1000000000.00", d(2025, 3, 12), "BLK-FED-7781"),
    ]:
        yield (
            "bob.finance",
            s.contribution_receive,
            {
                "slug": slug,
                "contribution_id": contribution,
                "call_id": call,
                "organisation_id": org,
                "amount": usd(amount),
                "bank_reference": reference,
                "received_on": on,
            },
        )


def stargate_steps() -> Iterator[Step]:
    """Stargate (SoftBank, OpenAI, Oracle, MGX): USD 500 bn, 100 bn now, 400 bn over four years."""
    slug, d = "stargate", dt.date
    yield (
        "alice.deal",
        s.consortium_form,
        {"slug": slug, "name": "Stargate", "base_currency": "USD", "formed_on": d(2025, 1, 21)},
    )
    tranches = [Tranche(bn("100"), d(2025, 1, 21))] + [
        Tranche(bn("100"), d(year, 1, 21)) for year in (2026, 2027, 2028, 2029)
    ]
    yield (
        "alice.deal",
        s.consortium_set_target,
        {
            "slug": slug,
            "instrument": "total",
            "amount": bn("500"),
            "tranches": tranches,
            "deadline": d(2029, 12, 31),
            "effective_on": d(2025, 1, 21),
        },
    )
    for org, name, role in [
        ("softbank", "SoftBank", "founding_member"),
        ("openai", "OpenAI", "founding_member"),
        ("oracle", "Oracle", "member"),
        ("mgx", "MGX", "member"),
    ]:
        yield (
            "alice.deal",
            s.partner_admit,
            {
                "slug": slug,
                "organisation_id": org,
                "name": name,
                "role": role,
                "effective_on": d(2025, 1, 21),
            },
        )
    for cid, org, amount, stage in [
        ("sg-eq-softbank", "softbank", "19", "signed"),
        ("sg-eq-openai", "openai", "19", "signed"),
        ("sg-eq-oracle", "oracle", "7", "signed"),
        ("sg-eq-mgx", "mgx", "7", "soft_circled"),
    ]:
        yield (
            "alice.deal",
            s.commitment_record,
            {
                "slug": slug,
                "commitment_id": cid,
                "organisation_id": org,
                "instrument": "equity",
                "amount": bn(amount),
                "stage": stage,
                "effective_on": d(2025, 1, 21),
            },
        )


def asset_steps() -> Iterator[Step]:
    """Two data centres and an energy facility, with direct and consortium stakes."""
    d = dt.date
    aip, stargate = Holder.consortium("aip"), Holder.consortium("stargate")
    for asset_id, sponsor, kind, name, location, mw, cost, on in [
        (
            "aip-dc-virginia",
            "aip",
            "data_centre",
            "AIP Campus Virginia",
            "Loudoun County, VA, US",
            "1000",
            "12",
            d(2025, 1, 15),
        ),
        (
            "aip-power-texas",
            "aip",
            "energy_facility",
            "AIP Combined-Cycle Plant",
            "Permian Basin, TX, US",
            "1500",
            "2.5",
            d(2025, 2, 1),
        ),
        (
            "sg-dc-abilene",
            "stargate",
            "data_centre",
            "Stargate Abilene",
            "Abilene, TX, US",
            "1200",
            "15",
            d(2025, 1, 21),
        ),
    ]:
        yield (
            "alice.deal",
            s.asset_register,
            {
                "asset_id": asset_id,
                "sponsor": sponsor,
                "kind": kind,
                "name": f"{name} {ILLUSTRATIVE}",
                "location": location,
                "capacity_mw": Decimal(mw),
                "estimated_cost": bn(cost),
                "effective_on": on,
            },
        )
    for asset_id, holder, percent, on in [
        ("aip-dc-virginia", aip, "80", d(2025, 1, 20)),
        ("aip-dc-virginia", Holder.organisation("microsoft"), "20", d(2025, 1, 20)),
        ("aip-power-texas", aip, "51", d(2025, 2, 5)),
        ("sg-dc-abilene", stargate, "100", d(2025, 1, 22)),
    ]:
        yield (
            "alice.deal",
            s.stake_acquire,
            {
                "asset_id": asset_id,
                "holder": holder,
                "percent": Percent.of(percent),
                "effective_on": on,
            },
        )
    yield (
        "alice.deal",
        s.stake_transfer,
        {
            "asset_id": "sg-dc-abilene",
            "from_holder": stargate,
            "to_holder": Holder.organisation("oracle"),
            "percent": Percent.of("15"),
            "effective_on": d(2025, 6, 1),
        },
    )


# --- distributions ---
DISTRIBUTION_KEY_PREFIX = "seed-demo:v1:dist-"


def distribution_steps() -> Iterator[Step]:
    """Money coming back to AIP, loaded after every other demo event: a third campus, AIP
    Campus Ohio (AIP holds it whole), pays income twice (USD 120 m and 135 m) and AIP sells
    25 % of it (USD 1.5 bn of sale proceeds); a capital distribution of USD 1.0 bn follows,
    pro rata to contributed capital (Microsoft 1.6 bn, MGX 1.2 bn, BlackRock / GIP 1.0 bn:
    421,052,631.58, 315,789,473.68 and 263,157,894.74 to the cent), MGX's USD 100 m of it
    recallable. A new campus, so that the earlier assets' ownership stays as it was."""
    d, slug, campus = dt.date, "aip", "aip-dc-ohio"
    yield (
        "alice.deal",
        s.asset_register,
        {
            "asset_id": campus,
            "sponsor": slug,
            "kind": "data_centre",
            "name": f"AIP Campus Ohio {ILLUSTRATIVE}",
            "location": "New Albany, OH, US",
            "capacity_mw": Decimal("600"),
            "estimated_cost": bn("6"),
            "effective_on": d(2025, 4, 1),
        },
    )
    yield (
        "alice.deal",
        s.stake_acquire,
        {
            "asset_id": campus,
            "holder": Holder.consortium(slug),
            "percent": Percent.of("100"),
            "effective_on": d(2025, 4, 1),
        },
    )
    for proceeds_id, kind, amount, on in [
        ("aip-ohio-income-q2", "income", "120000000.00", d(2025, 6, 30)),
        ("aip-ohio-income-q3", "income", "135000000.00", d(2025, 9, 30)),
    ]:
        yield (
            "bob.finance",
            s.proceeds_record,
            {
                "slug": slug,
                "proceeds_id": proceeds_id,
                "asset_id": campus,
                "kind": kind,
                "amount": usd(amount),
                "received_on": on,
            },
        )
    yield (
        "alice.deal",
        s.stake_sell,
        {
            "asset_id": campus,
            "holder": Holder.consortium(slug),
            "percent": Percent.of("25"),
            "effective_on": d(2025, 10, 15),
        },
    )
    yield (
        "bob.finance",
        s.proceeds_record,
        {
            "slug": slug,
            "proceeds_id": "aip-ohio-sale-25",
            "asset_id": campus,
            "kind": "sale",
            "amount": bn("1.5"),
            "received_on": d(2025, 10, 15),
        },
    )
    distribution = "aip-dist-1"
    yield (
        "alice.deal",
        s.distribution_prepare,
        {
            "slug": slug,
            "distribution_id": distribution,
            "amount": bn("1"),
            "kind": "capital",
            "purpose": f"Return of capital from the sale of 25 % of AIP Campus Ohio {ILLUSTRATIVE}",
            "recallable": {"mgx": usd("100000000.00")},
            "effective_on": d(2025, 10, 20),
        },
    )
    yield (
        "bob.finance",
        s.distribution_approve,
        {"slug": slug, "distribution_id": distribution, "effective_on": d(2025, 10, 21)},
    )
    yield (
        "bob.finance",
        s.distribution_pay,
        {"slug": slug, "distribution_id": distribution, "effective_on": d(2025, 10, 24)},
    )


# Where partners pay each consortium (illustrative: example banks, valid formats).
DEMO_INSTRUCTIONS = {
    "aip": {
        "beneficiary": f"AI Infrastructure Partnership LP {ILLUSTRATIVE}",
        "bank": f"Example Trust Company, New York {ILLUSTRATIVE}",
        "account": "000123456789",
        "bic": "EXMPUS33",
        "reference": "AIP capital call",
    },
    "stargate": {
        "beneficiary": f"Stargate Project LLC {ILLUSTRATIVE}",
        "bank": f"Westminster Example Bank, London {ILLUSTRATIVE}",
        "account": "GB82 WEST 1234 5698 7654 32",
        "bic": "WESTGB2L",
        "reference": "Stargate capital call",
    },
}
# Who at each partner receives its statements and notices: (local part, name), by partner
# (the same people in every consortium the partner is in).
DEMO_RECIPIENTS = {
    "blackrock-gip": [("capital-calls", "Fund operations"), ("ir", "Investor relations")],
    "microsoft": [("treasury", "Corporate treasury")],
    "mgx": [("investor.relations", "MGX investor relations"), ("cfo.office", "Office of the CFO")],
    "senior-lenders": [("agency", "Facility agent")],
    "nvidia": [("partnerships", "Strategic partnerships")],
    "xai": [("finance", "Finance")],
    "softbank": [("vision-fund-ops", "Fund operations")],
    "openai": [("treasury", "Treasury")],
    "oracle": [("corporate-development", "Corporate development")],
}


# --- interest and equalisation ---------------------------------------------------------


def interest_steps() -> Iterator[Step]:
    """Atlas Power Partners, a small consortium of its own (so that the AIP and Stargate
    figures stand), with one late payment and one late joiner (all illustrative).

    Brookfield and Temasek sign USD 19 bn each, KKR 7 bn; rates 8 % (default and
    equalisation) from formation. Call atlas-call-1 of USD 9 bn (20 % of the 45 bn signed)
    is due 1 May 2025: Brookfield 3.8 bn and Temasek 3.8 bn pay on time, KKR its 1.4 bn on
    31 May, 30 days late: 1.4 bn x 8 % x 30 / 365 = USD 9,205,479.45 of interest.
    ADIA is admitted on 2 June with USD 5 bn signed: its equalisation call atlas-eq-adia,
    due 1 July, is 5 bn x 20 % = USD 1 bn plus 1 bn x 8 % x 61 / 365 = USD 13,369,863.01
    of interest, passed 38 : 38 : 14 to Brookfield (5,645,053.27), Temasek (5,645,053.27)
    and KKR (2,079,756.47, the largest remainder). ADIA pays its 1 bn on 1 July.
    """
    slug, d = "atlas", dt.date
    formed = d(2025, 1, 21)
    yield (
        "alice.deal",
        s.consortium_form,
        {"slug": slug, "name": "Atlas Power Partners", "base_currency": "USD", "formed_on": formed},
    )
    for org, name, amount in [
        ("brookfield", "Brookfield", "19"),
        ("temasek", "Temasek", "19"),
        ("kkr", "KKR", "7"),
    ]:
        yield (
            "alice.deal",
            s.partner_admit,
            {
                "slug": slug,
                "organisation_id": org,
                "name": name,
                "role": "member",
                "effective_on": formed,
            },
        )
        yield (
            "alice.deal",
            s.commitment_record,
            {
                "slug": slug,
                "commitment_id": f"atlas-eq-{org}",
                "organisation_id": org,
                "instrument": "equity",
                "amount": bn(amount),
                "stage": "signed",
                "effective_on": formed,
            },
        )
    for kind in ("default", "equalisation"):
        yield (
            "bob.finance",
            s.interest_rate_set,
            {"slug": slug, "kind": kind, "rate": Decimal(8), "effective_on": formed},
        )
    call = "atlas-call-1"
    yield (
        "bob.finance",
        s.capital_call_prepare,
        {
            "slug": slug,
            "call_id": call,
            "amount": bn("9"),
            "due_on": d(2025, 5, 1),
            "purpose": f"First solar and storage sites {ILLUSTRATIVE}",
            "effective_on": d(2025, 4, 1),
        },
    )
    yield (
        "alice.deal",
        s.capital_call_approve,
        {"slug": slug, "call_id": call, "effective_on": d(2025, 4, 2)},
    )
    yield (
        "alice.deal",
        s.capital_call_issue,
        {"slug": slug, "call_id": call, "effective_on": d(2025, 4, 3)},
    )
    for contribution, org, amount, on in [
        ("atlas-c1-brookfield", "brookfield", "3.8", d(2025, 5, 1)),
        ("atlas-c1-temasek", "temasek", "3.8", d(2025, 4, 30)),
        ("atlas-c1-kkr", "kkr", "1.4", d(2025, 5, 31)),  # 30 days late
    ]:
        yield (
            "bob.finance",
            s.contribution_receive,
            {
                "slug": slug,
                "contribution_id": contribution,
                "call_id": call,
                "organisation_id": org,
                "amount": bn(amount),
                "bank_reference": f"{org.upper()}-ATLAS-1",
                "received_on": on,
            },
        )
    yield (
        "alice.deal",
        s.partner_admit,
        {
            "slug": slug,
            "organisation_id": "adia",
            "name": "ADIA",
            "role": "member",
            "effective_on": d(2025, 6, 2),
        },
    )
    yield (
        "alice.deal",
        s.commitment_record,
        {
            "slug": slug,
            "commitment_id": "atlas-eq-adia",
            "organisation_id": "adia",
            "instrument": "equity",
            "amount": bn("5"),
            "stage": "signed",
            "effective_on": d(2025, 6, 2),
        },
    )
    yield (
        "alice.deal",
        s.equalisation_call_prepare,
        {
            "slug": slug,
            "call_id": "atlas-eq-call-adia",
            "organisation_id": "adia",
            "due_on": d(2025, 7, 1),
            "effective_on": d(2025, 6, 3),
        },
    )
    yield (
        "bob.finance",
        s.equalisation_call_approve,
        {"slug": slug, "call_id": "atlas-eq-call-adia", "effective_on": d(2025, 6, 4)},
    )
    yield (
        "bob.finance",
        s.contribution_receive,
        {
            "slug": slug,
            "contribution_id": "sg-eq-arm-paid",
            "call_id": "atlas-eq-call-adia",
            "organisation_id": "adia",
            "amount": bn("1"),
            "bank_reference": "ARM-SG-EQ",
            "received_on": d(2025, 7, 1),
        },
    )


def _payment_instruction(slug: str, users: dict[str, AbstractBaseUser]) -> None:
    """Proposed by alice.deal and approved by bob.finance, once."""
    details = DEMO_INSTRUCTIONS.get(slug)
    if details is None or instructions.payment_instruction_in_force(slug) is not None:
        return
    proposal = instructions.payment_instruction_propose(
        consortium=slug, by=users["alice.deal"], source="seed_demo", **details
    )
    instructions.payment_instruction_approve(
        instruction_id=proposal.pk, by=users["bob.finance"], source="seed_demo"
    )


def _recipients(slug: str, organisation_id: str) -> None:
    """The partner's recipients in ``slug`` that are not there yet."""
    for local, name in DEMO_RECIPIENTS.get(organisation_id, []):
        email = f"{local}@{organisation_id}.example.com"
        if not PartnerRecipient.objects.filter(
            consortium=slug, organisation_id=organisation_id, email=email
        ).exists():
            instructions.partner_recipient_add(
                consortium=slug, organisation_id=organisation_id, email=email, name=name
            )


def _beside_the_ledger(
    service: Callable[..., s.CommandResult],
    arguments: dict[str, Any],
    users: dict[str, AbstractBaseUser],
) -> None:
    """The partner's recipients, as soon as it is admitted."""
    if service is s.partner_admit:
        _recipients(arguments["slug"], arguments["organisation_id"])


def load_demo(progress: Callable[[str], None] | None = None) -> tuple[int, int]:
    """Load the demo; returns (commands that appended, commands already loaded)."""
    users = demo_users()
    appended = replayed = 0
    steps = [*aip_steps(), *stargate_steps(), *asset_steps()]
    for number, (username, service, arguments) in enumerate(steps, start=1):
        # Scope "ledger": the demo's keys were the ledger's global keys before migration
        # 0009 made every key a receipt, so a demo loaded before it is still recognised.
        actor = s.Actor.keyed(
            users[username], f"{KEY_PREFIX}{number:03d}", scope="ledger", source="seed_demo"
        )
        result = service(actor=actor, **arguments)
        _beside_the_ledger(service, arguments, users)
        replayed += result.replayed
        appended += not result.replayed
        if progress:
            progress(
                f"{number:3d}/{len(steps)} {service.__name__}: {result.stream} "
                f"v{result.version}{' (already loaded)' if result.replayed else ''}"
            )
    for slug in DEMO_INSTRUCTIONS:
        _payment_instruction(slug, users)
    # --- interest and equalisation: after everything above, so its positions stand ---
    later = list(interest_steps())
    for number, (username, service, arguments) in enumerate(later, start=1):
        key = f"{KEY_PREFIX}interest:{number:03d}"  # its own keys: others may add steps
        actor = s.Actor.keyed(users[username], key, scope="ledger", source="seed_demo")
        result = service(actor=actor, **arguments)
        replayed += result.replayed
        appended += not result.replayed
        if progress:
            progress(f"interest {number:3d}/{len(later)} {service.__name__}: {result.stream}")
    # --- distributions: after every other demo event, so theirs keep their positions ---
    extra = list(distribution_steps())
    for number, (username, service, arguments) in enumerate(extra, start=1):
        actor = s.Actor.keyed(
            users[username],
            f"{DISTRIBUTION_KEY_PREFIX}{number:03d}",
            scope="ledger",
            source="seed_demo",
        )
        result = service(actor=actor, **arguments)
        replayed += result.replayed
        appended += not result.replayed
        if progress:
            progress(
                f"dist {number:3d}/{len(extra)} {service.__name__}: {result.stream} "
                f"v{result.version}{' (already loaded)' if result.replayed else ''}"
            )
    return appended, replayed
