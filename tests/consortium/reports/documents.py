"""Sample report documents, as a builder would hand them to the renderers: a partner
statement long enough for several pages, a progress pack with charts and mixed currencies,
and a capital call notice, with names full of markup characters and non-ASCII text."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from consortium.reports.document import (
    Amount,
    Anchor,
    Chart,
    Column,
    Document,
    Fact,
    Section,
    Series,
    Table,
)
from consortium.reports.document import Percent as Pct

HASH = "9f2c4e8a1b7d3f6e0a5c9b2d4f8e1a3c7b6d0e9f2a4c8b1d3e5f7a9c0b2d4e6f"
ANCHOR = Anchor(48213, HASH)
PARTNER = "Société Générale & Co <ltd>"
MARKUP = '#set *bold* $x$ <a> "quoted" _under_ @ref // no comment'
REPORT_DATE = dt.date(2026, 3, 31)


def usd(value: str) -> Amount:
    return Amount(Decimal(value), "USD")


def jpy(value: str) -> Amount:
    return Amount(Decimal(value), "JPY")


def kwd(value: str) -> Amount:
    return Amount(Decimal(value), "KWD")


def pct(value: str) -> Pct:
    return Pct(Decimal(value))


def statement() -> Document:
    """A partner statement: facts, calls, ownership and 90 events (several pages)."""
    calls = tuple(
        (
            f"AIP-CC-{n:03d}",
            dt.date(2025, 1, 15) + dt.timedelta(days=30 * n),
            usd(f"{12_500_000 + n * 250_000}.00"),
            usd(f"{12_500_000 + n * 250_000}.00") if n < 10 else usd("0.00"),
            usd("0.00") if n < 10 else usd(f"{12_500_000 + n * 250_000}.00"),
        )
        for n in range(1, 13)
    )
    events = tuple(
        (
            dt.date(2025, 1, 6) + dt.timedelta(days=4 * n),
            f"Contribution of USD {1_000_000 + n:,}.00 received from {PARTNER} "
            f"against call AIP-CC-{1 + n % 12:03d} (bank reference SG/{n:05d}/Ü).",
        )
        for n in range(90)
    )
    return Document(
        kind="statement",
        name="statement-aip-societe-generale-2026-03-31",
        title="Partner statement",
        subtitle=f"{PARTNER} · 1 January 2026 to 31 March 2026",
        consortium="AI Infrastructure Partnership (AIP)",
        report_date=REPORT_DATE,
        anchor=ANCHOR,
        parameters=(
            Fact("Partner", PARTNER),
            Fact("Period", "1 Jan 2026 to 31 Mar 2026"),
        ),
        sections=(
            Section(
                title="Commitment and capital",
                sheet="Summary",
                paragraphs=(f"Figures for {PARTNER} as the ledger held them on 31 March 2026.",),
                facts=(
                    Fact("Opening commitment", usd("2500000000.00")),
                    Fact("Closing commitment", usd("2750000000.00")),
                    Fact("Called", usd("1234567890.12")),
                    Fact("Contributed", usd("1100000000.00")),
                    Fact("Unfunded", usd("1515432109.88")),
                    Fact("Outstanding", usd("134567890.12")),
                    Fact("Overdue", usd("0.00")),
                    Fact("Share of signed equity", Pct(Decimal("7.3333"))),
                    Fact("Calls in the period", 3),
                    Fact("Last contribution", dt.date(2026, 3, 12)),
                    Fact("Role", MARKUP),
                ),
            ),
            Section(
                title="Capital calls",
                sheet="Calls",
                table=Table(
                    columns=(
                        Column("Call"),
                        Column("Due date", "date"),
                        Column("Allocated", "amount"),
                        Column("Contributed", "amount"),
                        Column("Outstanding", "amount"),
                    ),
                    rows=calls,
                    total=(
                        "Total",
                        None,
                        usd("169500000.00"),
                        usd("136250000.00"),
                        usd("33250000.00"),
                    ),
                ),
            ),
            Section(
                title="Ownership of assets",
                sheet="Ownership",
                table=Table(
                    columns=(
                        Column("Asset"),
                        Column("Location"),
                        Column("Direct", "percent"),
                        Column("Look-through", "percent"),
                        Column("Capacity (MW)", "integer"),
                    ),
                    rows=(
                        ("Abilene Campus 1", "Abilene, Texas", None, pct("3.6667"), 1200),
                        ("Fjord Hydro", "Tromsø, Norway", pct("10"), pct("12.5"), 450),
                        ("Désert Solaire", "Ouarzazate", pct("0.5"), pct("73.33"), 580),
                    ),
                ),
            ),
            Section(
                title="Events in the period",
                sheet="Events",
                table=Table(columns=(Column("Date", "date"), Column("Event")), rows=events),
            ),
        ),
        organisation_id="societe-generale",
        notes=("Illustrative figures. Amounts in US dollars unless stated.",),
    )  # fmt: skip


def progress() -> Document:
    """A progress pack: targets, partners with a total, facilities in two currencies, and
    charts of signed and contributed by month (a line and a column chart)."""
    months = tuple(dt.date(2025, m, 1) for m in range(1, 13))
    signed = tuple(Decimal(f"{2_000_000_000 * m + 123_456_789}.12") for m in range(1, 13))
    contributed = tuple(Decimal(f"{900_000_000 * m}.00") for m in range(1, 13))
    partners = (
        ("BlackRock", usd("10000000000.00"), usd("3000000000.00"), Pct(Decimal("33.33"))),
        ("Microsoft", usd("8000000000.00"), usd("2400000000.00"), Pct(Decimal("26.67"))),
        ("MGX", usd("7000000000.00"), usd("2100000000.00"), Pct(Decimal("23.33"))),
        (PARTNER, usd("2750000000.00"), usd("1234567890.12"), Pct(Decimal("9.17"))),
        (MARKUP, usd("2250000000.00"), usd("675000000.00"), Pct(Decimal("7.50"))),
    )
    return Document(
        kind="progress",
        name="progress-aip-2026-03-31",
        title="Fundraising progress",
        subtitle="AI Infrastructure Partnership (AIP)",
        consortium="AI Infrastructure Partnership (AIP)",
        report_date=REPORT_DATE,
        anchor=ANCHOR,
        parameters=(Fact("Consortium", "aip"),),
        sections=(
            Section(
                title="Targets",
                sheet="Targets",
                facts=(
                    Fact("Equity target", usd("30000000000.00")),
                    Fact("Signed equity", usd("30000000000.00")),
                    Fact("Progress to target", Pct(Decimal("100.00"))),
                    Fact("Deadline", dt.date(2026, 12, 31)),
                ),
            ),
            Section(
                title="Signed and called by partner",
                sheet="By partner",
                table=Table(
                    columns=(
                        Column("Partner"),
                        Column("Signed", "amount"),
                        Column("Called", "amount"),
                        Column("Share", "percent"),
                    ),
                    rows=partners,
                    total=("Total", usd("30000000000.00"), usd("9409567890.12"), pct("100.00")),
                ),
            ),
            Section(
                title="Debt facilities",
                sheet="Facilities",
                table=Table(
                    columns=(
                        Column("Lender"),
                        Column("Amount", "amount"),
                        Column("Drawn", "amount"),
                        Column("Maturity", "date"),
                    ),
                    rows=(
                        ("MUFG", jpy("150000000000"), jpy("20000000000"), dt.date(2032, 6, 30)),
                        ("JPMorgan", usd("2500000000.00"), usd("0.00"), dt.date(2031, 12, 31)),
                        ("NBK", kwd("300000000.000"), kwd("1.250"), dt.date(2030, 1, 15)),
                    ),
                ),
            ),
            Section(
                title="Signed and contributed by month",
                sheet="By month",
                paragraphs=("Cumulative signed equity and contributions at each month end.",),
                chart=Chart(
                    title="Signed and contributed (cumulative)",
                    categories=months,
                    series=(Series("Signed", signed), Series("Contributed", contributed)),
                    currency="USD",
                ),
            ),
            Section(
                title="Contributions by month",
                sheet="Contributions",
                chart=Chart(
                    title="Contributed in the month",
                    categories=months[:6],
                    series=(Series("Contributed", contributed[:6]),),
                    currency="USD",
                    style="column",
                ),
            ),
        ),
    )  # fmt: skip


def notice() -> Document:
    """A capital call notice to a partner whose name is Typst and HTML markup."""
    return Document(
        kind="notice",
        name="notice-aip-cc-012-markup",
        title="Capital call notice",
        subtitle=f"Call AIP-CC-012 · {MARKUP}",
        consortium="AI Infrastructure Partnership (AIP)",
        report_date=dt.date(2026, 4, 1),
        anchor=Anchor(50001, HASH[::-1]),
        parameters=(Fact("Call", "AIP-CC-012"), Fact("Partner", MARKUP)),
        sections=(
            Section(
                title="This call",
                sheet="Call",
                paragraphs=(
                    "Capital is called for the construction of Abilene Campus 2 "
                    "(<script>alert('x')</script> is not a purpose).",
                ),
                facts=(
                    Fact("Purpose", "Construction of Abilene Campus 2"),
                    Fact("Due date", dt.date(2026, 4, 30)),
                    Fact("Commitment", usd("2250000000.00")),
                    Fact("Pro-rata share", Pct(Decimal("7.50"))),
                    Fact("This call", usd("93750000.00")),
                    Fact("Called before this call", usd("675000000.00")),
                    Fact("Called after this call", usd("768750000.00")),
                    Fact("Contributed before this call", usd("675000000.00")),
                    Fact("Unfunded after this call", usd("1481250000.00")),
                ),
            ),
            Section(
                title="Payment instructions",
                sheet="Payment",
                facts=(
                    Fact("Bank", "JPMorgan Chase Bank, N.A., New York"),
                    Fact("Account name", "AIP Capital Account"),
                    Fact("IBAN / account", "US00 0000 1234 5678 9012"),
                    Fact("SWIFT", "CHASUS33"),
                    Fact("Reference", "AIP-CC-012 <markup-partner>"),
                    Fact("Memo", '=HYPERLINK("http://example.com") is text, not a formula'),
                ),
            ),
        ),
        organisation_id="markup-partner",
    )


def every() -> dict[str, Document]:
    return {"statement": statement(), "progress": progress(), "notice": notice()}
