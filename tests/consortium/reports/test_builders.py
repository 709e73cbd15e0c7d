"""Report builders: every report's figures reconcile with the API at the same position
and with hand-computed demo figures; a report at an earlier position gives what the
ledger held then; statements and notices fold once per run, not once per partner."""

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient

from consortium import services as s
from consortium.api.access import digest, new_key
from consortium.domain.money import Money
from consortium.models import ApiClient, RoleGrant
from consortium.projections import asof
from consortium.reports import builders
from consortium.reports.builders import PaymentDetails
from consortium.reports.document import Amount, Anchor, Cell, Document, Percent, Section, Table
from consortium.reports.errors import ReportError
from ledger import store

pytestmark = pytest.mark.django_db

DAY = dt.date(2025, 12, 31)


def usd(amount: str) -> Money:
    return Money.of(amount, "USD")


def at_head() -> Anchor:
    head = store.read_head()
    return Anchor(head.position, head.hash)


def section(document: Document, title: str) -> Section:
    for found in document.sections:
        if found.title.startswith(title):
            return found
    raise AssertionError(f"no section {title!r} in {[x.title for x in document.sections]}")


def facts(document: Document, title: str) -> dict[str, Cell]:
    return {fact.label: fact.value for fact in section(document, title).facts}


def rows(document: Document, title: str) -> dict[Any, tuple[Cell, ...]]:
    """A section's table rows by their first cell (and its total row under "Total")."""
    table = section(document, title).table
    assert table is not None
    found = {row[0]: row[1:] for row in table.rows}
    if table.total is not None:
        found["Total"] = table.total[1:]
    return found


def text(cell: Cell) -> str | None:
    """A cell as the API writes it (decimal strings)."""
    if cell is None:
        return None
    if isinstance(cell, Amount | Percent):
        return format(cell.value, "f")
    return str(cell)


def bn(amount: str) -> Amount:
    return Amount(Decimal(amount) * 1_000_000_000 + Decimal("0.00"), "USD")


@pytest.fixture
def auditor(db) -> APIClient:
    """An API client with an auditor's key (reads everything, as of any date)."""
    user = get_user_model().objects.create_user("auditor")
    key = new_key()
    ApiClient.objects.create(
        name="auditor-key", user=user, key_prefix=key[:12], key_digest=digest(key)
    )
    RoleGrant.objects.create(user=user, role="auditor", organisation_id="", consortium="")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return api


@pytest.fixture
def demo(db) -> Anchor:
    call_command("seed_demo", verbosity=0)
    return at_head()


# --- fundraising progress ---------------------------------------------------------------


def test_progress_reconciles_with_the_api_progress_and_positions(demo, auditor):
    """Given the demo, the progress pack's figures equal the API's progress and positions
    as of the same date at the same position, row by row and in total."""
    api = auditor
    document = builders.build_progress("aip", demo, DAY)
    body = api.get("/api/v1/consortia/aip/progress/", {"as_of": DAY.isoformat()}).json()
    assert body["position"] == demo.position
    by_instrument = rows(document, "By instrument")
    for row in body["instruments"]:
        name = "Total" if row["instrument"] == "total" else row["instrument"].replace("_", " ")
        signed, called, contributed, unfunded, outstanding = by_instrument[name]
        assert [text(signed), text(called), text(contributed), text(unfunded)] == [
            row["signed"],
            row["called"],
            row["contributed"],
            row["unfunded"],
        ]
        assert text(outstanding) == row["outstanding"]
    pipeline = rows(document, "Pipeline")
    for row in body["instruments"][:3]:
        indicated, soft, signed, _ = pipeline[row["instrument"].replace("_", " ")]
        assert [text(indicated), text(soft), text(signed)] == [
            row["indicated"],
            row["soft_circled"],
            row["signed"],
        ]
    months = rows(document, "Signed and contributed")
    assert [(m, text(v[0]), text(v[1])) for m, v in months.items()] == [
        (dt.date.fromisoformat(m["month"]), m["signed"], m["contributed"]) for m in body["months"]
    ]

    positions = api.get("/api/v1/consortia/aip/positions/", {"as_of": DAY.isoformat()}).json()
    commitments = rows(document, "Commitments by partner")
    capital = rows(document, "Called and contributed by partner")
    for p in positions["results"]:
        assert [text(c) for c in commitments[p["name"]][1:]] == [
            p["equity_signed"],
            p["asset_contribution_signed"],
            p["corporate_partnership_signed"],
            p["debt_signed"],
            p["debt_drawn"],
            p["equity_share_percent"],
        ]
        assert [text(c) for c in capital[p["name"]][1:]] == [
            p["called"],
            p["contributed"],
            p["unfunded"],
            p["outstanding"],
            p["overdue"],
        ]
    equity = body["instruments"][0]
    assert text(commitments["Total"][1]) == equity["signed"]  # all partners' equity
    assert [text(c) for c in capital["Total"][1:5]] == [
        equity["called"],
        equity["contributed"],
        equity["unfunded"],
        equity["outstanding"],
    ]


def test_progress_holds_the_hand_computed_demo_figures(demo):
    """AIP: equity 8 + 8 + 6 bn signed, 4.4 bn called, 3.8 bn contributed (BlackRock paid
    1.0 of its 1.6 bn, overdue since 14 March), MGX's site AED 3,672,500,000 at 0.2723 =
    USD 1,000,021,750.00, a 20 bn term loan with 5 bn drawn; Stargate's 45 bn signed fill
    its first 100 bn tranche."""
    document = builders.build_progress("aip", demo, DAY)
    by_instrument = rows(document, "By instrument")
    # Unfunded 17.6 bn + MGX's 0.1 bn recallable from the demo's distribution aip-dist-1.
    assert by_instrument["equity"] == (bn("22"), bn("4.4"), bn("3.8"), bn("17.7"), bn("0.6"))
    # --- distributions: MGX's 315,789,473.68 of the 1.0 bn, 100 m of it recallable ---
    paid = rows(document, "Distributions, net invested capital and DPI")
    assert paid["MGX"][1:] == (
        bn("1.2"),
        Amount(Decimal("315789473.68"), "USD"),
        Amount(Decimal("315789473.68"), "USD"),
        Amount(Decimal("100000000.00"), "USD"),
        Amount(Decimal("884210526.32"), "USD"),
        "0.26x",
    )
    assert paid["Total"][1:] == (bn("3.8"), bn("1"), bn("1"), bn("0.1"), bn("2.8"), "0.26x")
    site = Amount(Decimal("1000021750.00"), "USD")
    assert by_instrument["asset contribution"] == (site, bn("0"), bn("0"), site, bn("0"))
    assert by_instrument["debt"] == (bn("20"), bn("5"), bn("5"), bn("15"), bn("0"))
    assert by_instrument["Total"][0] == Amount(Decimal("43000021750.00"), "USD")
    pipeline = rows(document, "Pipeline")
    assert pipeline["equity"] == (bn("0"), bn("3"), bn("22"), bn("25"))
    assert pipeline["corporate partnership"] == (bn("2"), bn("0"), bn("0"), bn("2"))
    capital = rows(document, "Called and contributed by partner")
    assert capital["BlackRock / GIP"][5] == bn("0.6")  # overdue at the report date
    assert capital["Total"][5] == bn("0.6")
    assert rows(document, "Commitments by partner")["BlackRock / GIP"][6] == Percent(
        Decimal("36.3636")
    )
    facilities = rows(document, "Debt facilities")
    loan = (bn("20"), bn("5"), bn("0"), bn("5"), bn("15"))
    assert facilities["aip-senior-term-loan"][3:] == loan  # all in USD: no base columns
    assert facilities["Total"][3:] == loan
    chart = section(document, "Signed and contributed").chart
    assert chart is not None and "cumulative" in chart.title
    assert chart.series[0].values[-1] == Decimal("43000021750.00")
    assert chart.series[1].values[-1] == Decimal("8800000000.00")  # 3.8 bn equity + 5 bn debt

    stargate = builders.build_progress("stargate", demo, DAY)
    tranches = section(stargate, "Tranches").table
    assert tranches is not None
    assert [(r[1], r[5], r[6]) for r in tranches.rows] == [
        (1, bn("45"), bn("0")),
        (2, bn("0"), bn("0")),
        (3, bn("0"), bn("0")),
        (4, bn("0"), bn("0")),
        (5, bn("0"), bn("0")),
    ]


def test_overdue_is_judged_at_the_report_date(demo):
    """BlackRock's 0.6 bn was due on 14 March 2025: not overdue on the 14th, overdue on
    the 15th."""
    due_day = builders.build_progress("aip", demo, dt.date(2025, 3, 14))
    day_after = builders.build_progress("aip", demo, dt.date(2025, 3, 15))
    title = "Called and contributed by partner"
    assert rows(due_day, title)["BlackRock / GIP"][5] == bn("0")
    assert rows(day_after, title)["BlackRock / GIP"][5] == bn("0.6")


# --- partner statements -----------------------------------------------------------------


def test_a_statement_reconciles_with_the_api_and_the_demo(demo, auditor):
    """BlackRock's Q1 2025: called 1.6 bn in the period, contributed 1.0 bn (ref.
    BLK-FED-7781), 0.6 bn outstanding and overdue at 31 March; closing figures equal the
    API's positions as of 31 March, opening ones those as of 31 December."""
    start, end = dt.date(2025, 1, 1), dt.date(2025, 3, 31)
    [document] = builders.build_statements("aip", ["blackrock-gip"], start, end, demo, DAY)
    assert document.organisation_id == "blackrock-gip" and document.kind == "statement"
    summary = facts(document, "Summary")
    assert summary["Called in the period"] == bn("1.6")
    assert summary["Contributed in the period (net of reversals)"] == bn("1")
    assert summary["Unfunded at the end"] == bn("6.4")
    assert summary["Outstanding at the end"] == bn("0.6")
    assert summary["Overdue at the end (due before 2025-03-31)"] == bn("0.6")
    api = auditor
    for on, prefix in ((end, "at the end"), (dt.date(2024, 12, 31), "at the start")):
        body = api.get("/api/v1/consortia/aip/positions/", {"as_of": on.isoformat()}).json()
        [row] = [p for p in body["results"] if p["organisation_id"] == "blackrock-gip"]
        assert text(summary[f"Called {prefix}"]) == row["called"]
        assert text(summary[f"Contributed {prefix}"]) == row["contributed"]
    body = api.get("/api/v1/consortia/aip/positions/", {"as_of": end.isoformat()}).json()
    [row] = [p for p in body["results"] if p["organisation_id"] == "blackrock-gip"]
    assert text(summary["Unfunded at the end"]) == row["unfunded"]
    assert text(summary["Overdue at the end (due before 2025-03-31)"]) == row["overdue"]
    contributions = section(document, "Contributions").table
    assert contributions is not None
    assert [r[3] for r in contributions.rows] == ["BLK-FED-7781"]
    calls = rows(document, "Capital calls")
    assert calls["aip-call-1"][3:6] == (bn("1.6"), bn("1"), bn("0.6"))
    ownership = rows(document, "Ownership")
    assert ownership["aip-dc-virginia"][4] == Percent(Decimal("29.0909"))
    events = section(document, "Events").table
    assert events is not None
    assert any("BLK-FED-7781" in str(r[1]) for r in events.rows)
    assert all("Microsoft paid" not in str(r[1]) for r in events.rows)  # not its events


def test_a_statement_shows_reversals_and_reconciles_opening_to_closing(issued_call, alice, bob):
    """Given mgx paid 300 on 10 Feb, reversed on 20 Feb and paid again on 1 Mar, its
    February statement shows 300 and -300 (net 0), March's the payment of 1 Mar; in each,
    opening + period = closing."""
    s.contribution_receive(
        actor=bob,
        slug="aip",
        contribution_id="c-1",
        call_id="call-1",
        organisation_id="mgx",
        amount=usd("300.00"),
        bank_reference="REF-1",
        received_on=dt.date(2025, 2, 10),
    )
    s.contribution_reverse(
        actor=bob,
        slug="aip",
        contribution_id="c-1",
        reason="returned by the bank",
        effective_on=dt.date(2025, 2, 20),
    )
    s.contribution_receive(
        actor=bob,
        slug="aip",
        contribution_id="c-2",
        call_id="call-1",
        organisation_id="mgx",
        amount=usd("300.00"),
        bank_reference="REF-2",
        received_on=dt.date(2025, 3, 1),
    )
    anchor = at_head()
    feb = builders.build_statements(
        "aip", ["mgx"], dt.date(2025, 2, 1), dt.date(2025, 2, 28), anchor, DAY
    )[0]
    lines = section(feb, "Contributions").table
    assert lines is not None
    assert [(r[0], r[3], r[4], r[5]) for r in lines.rows] == [
        (dt.date(2025, 2, 10), "REF-1", Amount(Decimal("300.00"), "USD"), "reversed on 2025-02-20"),
        (
            dt.date(2025, 2, 20),
            "REF-1",
            Amount(Decimal("-300.00"), "USD"),
            "reversal: returned by the bank",
        ),
    ]
    assert lines.total is not None and lines.total[4] == Amount(Decimal("0.00"), "USD")
    summary = facts(feb, "Summary")
    assert summary["Called in the period"] == Amount(Decimal("300.00"), "USD")
    assert summary["Overdue at the end (due before 2025-02-28)"] == Amount(Decimal("0.00"), "USD")
    march = builders.build_statements(
        "aip", ["mgx"], dt.date(2025, 3, 1), dt.date(2025, 3, 31), anchor, DAY
    )[0]
    summary = facts(march, "Summary")
    for document in (feb, march):
        got = facts(document, "Summary")
        for figure in ("Called", "Contributed"):
            start = got[f"{figure} at the start"]
            during = got[
                "Called in the period"
                if figure == "Called"
                else "Contributed in the period (net of reversals)"
            ]
            end = got[f"{figure} at the end"]
            assert isinstance(start, Amount) and isinstance(during, Amount)
            assert isinstance(end, Amount) and start.value + during.value == end.value
    assert summary["Contributed at the end"] == Amount(Decimal("300.00"), "USD")


def test_statements_for_every_partner_fold_once_per_run(demo, monkeypatch):
    """Six AIP partners: one read of the stream folded at the opening and closing dates,
    not once per partner."""
    runs: list[list[dt.date]] = []
    real = asof.consortium_views_as_of

    def counted(slug: str, dates: list[dt.date], **kwargs: Any) -> list[asof.ConsortiumAsOf]:
        runs.append(list(dates))
        return real(slug, dates, **kwargs)

    monkeypatch.setattr(asof, "consortium_views_as_of", counted)
    documents = builders.build_statements(
        "aip", None, dt.date(2025, 1, 1), dt.date(2025, 6, 30), demo, DAY
    )
    assert [d.organisation_id for d in documents] == [
        "blackrock-gip",
        "mgx",
        "microsoft",
        "nvidia",
        "senior-lenders",
        "xai",
    ]
    assert runs == [[dt.date(2024, 12, 31), dt.date(2025, 6, 30)]]


def test_statement_input_errors(demo):
    with pytest.raises(ReportError, match="'nobody' is not a partner"):
        builders.build_statements(
            "aip", ["nobody"], dt.date(2025, 1, 1), dt.date(2025, 3, 31), demo, DAY
        )
    with pytest.raises(ReportError, match="before it starts"):
        builders.build_statements("aip", None, dt.date(2025, 3, 1), dt.date(2025, 2, 1), demo, DAY)
    with pytest.raises(ReportError, match="No consortium 'nope'"):
        builders.build_statements("nope", None, dt.date(2025, 1, 1), dt.date(2025, 3, 1), demo, DAY)


# --- capital call notices ---------------------------------------------------------------


def test_a_notice_holds_the_ilpa_fields(demo):
    """AIP's first call: 4.4 bn, BlackRock's 1.6 bn (36.3636 % of 22 bn signed equity),
    nothing called before, 6.4 bn unfunded after; the payment instruction printed with
    the call id in the reference."""
    payment = PaymentDetails(
        7, "AIP Holdings LP", "Bank of Example", "GB00EXMP1", "EXMPGB2L", "AIP"
    )
    [notice] = builders.build_notices("aip", "aip-call-1", ["blackrock-gip"], demo, DAY, payment)
    main = facts(notice, "Capital call notice")
    assert main["Purpose"] == "First close: land and power for two campuses (illustrative)"
    assert main["Notice date"] == dt.date(2025, 2, 12)
    assert main["Due date"] == dt.date(2025, 3, 14)
    assert main["Total amount of this call"] == bn("4.4")
    assert main["Your amount due"] == bn("1.6")
    commitment = facts(notice, "Your commitment")
    assert commitment["Equity commitment (signed)"] == bn("8")
    assert commitment["Pro-rata share (of signed equity)"] == Percent(Decimal("36.3636"))
    cumulative = rows(notice, "Cumulative")
    assert cumulative["Called"] == (bn("0"), bn("1.6"), bn("1.6"))
    assert cumulative["Contributed"] == (bn("0"), bn("1.6"), bn("1.6"))
    assert cumulative["Unfunded commitment"] == (bn("8"), bn("-1.6"), bn("6.4"))
    assert facts(notice, "Payment")["Reference to quote"] == "AIP aip-call-1"
    assert ("Payment instruction", "7") in [(f.label, f.value) for f in notice.parameters]
    [bare] = builders.build_notices("aip", "aip-call-1", ["mgx"], demo, DAY, None)
    assert facts(bare, "Payment") == {"Payment instructions": builders.NO_INSTRUCTIONS}


def test_a_second_notice_counts_the_first_call_before_it(issued_call, alice, bob):
    """Given call-1 (mgx 300, paid 100) then call-2 of 200: mgx's notice for call-2 shows
    300 called and 100 contributed before, 420 and 220 after, 180 unfunded after."""
    s.contribution_receive(
        actor=bob,
        slug="aip",
        contribution_id="c-1",
        call_id="call-1",
        organisation_id="mgx",
        amount=usd("100.00"),
        bank_reference="REF-1",
        received_on=dt.date(2025, 2, 10),
    )
    s.capital_call_prepare(
        actor=alice,
        slug="aip",
        call_id="call-2",
        amount=usd("200.00"),
        due_on=dt.date(2025, 5, 1),
        purpose="Power",
        effective_on=dt.date(2025, 4, 1),
    )
    s.capital_call_approve(
        actor=bob, slug="aip", call_id="call-2", effective_on=dt.date(2025, 4, 2)
    )
    s.capital_call_issue(actor=bob, slug="aip", call_id="call-2", effective_on=dt.date(2025, 4, 3))
    anchor = at_head()
    notices = builders.build_notices("aip", "call-2", None, anchor, DAY, None)
    assert [n.organisation_id for n in notices] == ["mgx", "microsoft"]
    cumulative = rows(notices[0], "Cumulative")

    def a(value: str) -> Amount:
        return Amount(Decimal(value), "USD")

    assert cumulative["Called"] == (a("300.00"), a("120.00"), a("420.00"))
    assert cumulative["Contributed"] == (a("100.00"), a("120.00"), a("220.00"))
    assert cumulative["Unfunded commitment"] == (a("300.00"), a("-120.00"), a("180.00"))
    # The first call's notice, made after the second call, still describes the first.
    first = builders.build_notices("aip", "call-1", ["mgx"], anchor, DAY, None)[0]
    assert rows(first, "Cumulative")["Called"] == (a("0.00"), a("300.00"), a("300.00"))


def test_notice_input_errors(issued_call, alice):
    anchor = at_head()
    with pytest.raises(ReportError, match="no capital call 'call-9'"):
        builders.build_notices("aip", "call-9", None, anchor, DAY, None)
    with pytest.raises(ReportError, match="allocates nothing to 'nvidia'"):
        builders.build_notices("aip", "call-1", ["nvidia"], anchor, DAY, None)
    s.capital_call_prepare(
        actor=alice,
        slug="aip",
        call_id="call-2",
        amount=usd("10.00"),
        due_on=dt.date(2025, 5, 1),
        purpose="Draft",
        effective_on=dt.date(2025, 4, 1),
    )
    with pytest.raises(ReportError, match="is draft, not issued"):
        builders.build_notices("aip", "call-2", None, at_head(), DAY, None)


# --- asset ownership --------------------------------------------------------------------


def test_ownership_reconciles_with_the_api(demo, auditor):
    """Stargate Abilene after the 15 % transfer to Oracle: Stargate 85 %, Oracle 15 %
    direct; look-through rows equal the API's, and add up to 100 %."""
    api = auditor
    document = builders.build_ownership("sg-dc-abilene", demo, DAY)
    body = api.get("/api/v1/assets/sg-dc-abilene/ownership/", {"as_of": DAY.isoformat()}).json()
    stakes = section(document, "Direct stakes").table
    assert stakes is not None and stakes.total is not None
    assert [(r[0], r[1], text(r[3]), r[4]) for r in stakes.rows] == [
        (x["holder_kind"], x["holder_id"], x["percent"], dt.date.fromisoformat(x["held_since"]))
        for x in body["stakes"]
    ]
    assert [r[1] for r in stakes.rows] == ["stargate", "oracle"]
    assert stakes.total[3] == Percent(Decimal("100.0000"))
    assert [r[2] for r in stakes.rows] == ["Stargate", "Oracle"]
    through = rows(document, "Look-through")
    assert [
        (org, text(r[1]), text(r[2]), text(r[3])) for org, r in through.items() if org != "Total"
    ] == [
        (x["organisation_id"], x["direct_percent"], x["indirect_percent"], x["total_percent"])
        for x in body["look_through"]
    ]
    assert through["Total"][3] == Percent(Decimal("100.0000"))
    assert through["oracle"][:2] == ("Oracle", Percent(Decimal("15.0000")))
    before = builders.build_ownership("sg-dc-abilene", demo, dt.date(2025, 5, 31))
    held = section(before, "Direct stakes").table
    assert held is not None and [r[1] for r in held.rows] == ["stargate"]  # transfer: 1 June
    with pytest.raises(ReportError, match="No asset 'nowhere'"):
        builders.build_ownership("nowhere", demo, DAY)


# --- history -----------------------------------------------------------------------------


def test_a_report_at_an_earlier_position_holds_what_the_ledger_held_then(demo, alice, bob):
    """Given every kind built at position P, when later events (one back-dated before the
    period, one a contribution in it) are appended, then building again at P gives the
    same documents, while at the new head the figures differ."""

    def everything(anchor: Anchor) -> list[Document]:
        return [
            builders.build_progress("aip", anchor, DAY),
            *builders.build_statements(
                "aip", None, dt.date(2025, 1, 1), dt.date(2025, 3, 31), anchor, DAY
            ),
            *builders.build_notices("aip", "aip-call-1", None, anchor, DAY, None),
            builders.build_ownership("aip-dc-virginia", anchor, DAY),
        ]

    before = everything(demo)
    s.partner_admit(
        actor=alice,
        slug="aip",
        organisation_id="late",
        name="Late",
        role="member",
        effective_on=dt.date(2024, 10, 1),
    )
    s.commitment_record(
        actor=alice,
        slug="aip",
        commitment_id="aip-eq-late",
        organisation_id="late",
        instrument="equity",
        amount=usd("1000000000.00"),
        stage="signed",
        effective_on=dt.date(2024, 10, 2),
    )  # back-dated: before the call, so it changes shares and look-through
    s.contribution_receive(
        actor=bob,
        slug="aip",
        contribution_id="aip-c1-blackrock-2",
        call_id="aip-call-1",
        organisation_id="blackrock-gip",
        amount=usd("600000000.00"),
        bank_reference="BLK-FED-7790",
        received_on=dt.date(2025, 3, 20),
    )
    assert everything(demo) == before
    after = everything(at_head())
    assert rows(after[0], "By instrument")["equity"][0] == bn("23")
    statement = after[1]
    assert facts(statement, "Summary")["Outstanding at the end"] == bn("0")


def test_facilities_in_another_currency_are_totalled_at_historical_rates(formed, alice, bob):
    """Given a USD term loan of 100 and a EUR revolver of 50 at 1.10, the facilities table
    adds the base-currency columns and totals only those: 155.00 arranged."""
    formed()
    s.partner_admit(
        actor=alice,
        slug="aip",
        organisation_id="bank",
        name="Bank",
        role="lender",
        effective_on=dt.date(2025, 1, 6),
    )
    s.fx_rate_record(
        actor=bob,
        slug="aip",
        currency="EUR",
        rate=Decimal("1.10"),
        effective_on=dt.date(2025, 1, 6),
    )
    for facility, amount in (("usd-loan", usd("100.00")), ("eur-rcf", Money.of("50.00", "EUR"))):
        s.facility_arrange(
            actor=bob,
            slug="aip",
            facility_id=facility,
            lender="bank",
            amount=amount,
            maturity_on=dt.date(2030, 1, 1),
            revolving=facility == "eur-rcf",
            effective_on=dt.date(2025, 1, 7),
        )
    document = builders.build_progress("aip", at_head(), DAY)
    facilities = rows(document, "Debt facilities")
    assert facilities["eur-rcf"][3] == Amount(Decimal("50.00"), "EUR")
    assert facilities["eur-rcf"][8:] == (
        Amount(Decimal("55.00"), "USD"),
        Amount(Decimal("0.00"), "USD"),
    )
    assert facilities["Total"][3:] == (
        None,
        None,
        None,
        None,
        None,
        Amount(Decimal("155.00"), "USD"),
        Amount(Decimal("0.00"), "USD"),
    )
    assert rows(document, "By instrument")["debt"][0] == Amount(Decimal("155.00"), "USD")


def test_a_statement_words_the_stake_events_concerning_the_partner(demo):
    """Q1 2025 in AIP: Microsoft's own 20 % of the Virginia campus is among its events,
    not MGX's; AIP's 80 % (every partner's look-through) is among both."""
    start, end = dt.date(2025, 1, 1), dt.date(2025, 3, 31)
    microsoft, mgx = builders.build_statements("aip", ["microsoft", "mgx"], start, end, demo, DAY)

    def words(document: Document) -> list[str]:
        table = section(document, "Events").table
        assert table is not None
        return [str(row[1]) for row in table.rows]

    own = "Microsoft took a 20.00 % stake in AIP Campus Virginia (illustrative)"
    shared = "AI Infrastructure Partnership took a 80.00 % stake in AIP Campus Virginia"
    assert own in words(microsoft) and own not in words(mgx)
    assert any(w.startswith(shared) for w in words(microsoft))
    assert any(w.startswith(shared) for w in words(mgx))
    dates = [row[0] for row in (section(microsoft, "Events").table or Table((), ())).rows]
    assert all(isinstance(d, dt.date) for d in dates)
    assert dates == sorted(d for d in dates if isinstance(d, dt.date))


def test_no_builder_reads_the_clock(demo, monkeypatch):
    """Every kind is built with the clock made to fail: the figures depend on the anchor
    and the report date alone."""
    from django.utils import timezone

    def no_clock() -> dt.datetime:
        raise AssertionError("a builder read the clock")

    monkeypatch.setattr(timezone, "now", no_clock)
    monkeypatch.setattr(timezone, "localdate", no_clock)
    builders.build_progress("aip", demo, DAY)
    builders.build_statements("aip", None, dt.date(2025, 1, 1), dt.date(2025, 3, 31), demo, DAY)
    builders.build_notices("aip", "aip-call-1", None, demo, DAY, None)
    builders.build_ownership("sg-dc-abilene", demo, DAY)
