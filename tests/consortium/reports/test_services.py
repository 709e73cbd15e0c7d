"""generate_reports: the anchor and checksum recorded with each stored file, byte-identical
regeneration at one position in every available format, idempotency by key, payment
instructions recorded for reproducibility, and bad input that stores nothing."""

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from consortium import services as s
from consortium.domain.money import Money
from consortium.models import PaymentInstruction, StoredReport
from consortium.reports import builders
from consortium.reports.document import Anchor
from consortium.reports.rendering import render
from consortium.reports.services import ReportError, formats_for, generate_reports
from ledger import store

pytestmark = pytest.mark.django_db

DAY = dt.date(2025, 12, 31)
REQUESTS = {
    "progress": {"consortium": "aip"},
    "statement": {
        "consortium": "aip",
        "period_start": "2025-01-01",
        "period_end": "2025-03-31",
        "organisation": "blackrock-gip",
    },
    "notice": {"consortium": "aip", "call": "aip-call-1", "organisation": "mgx"},
    "ownership": {"asset": "aip-dc-virginia"},
}


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def demo(db) -> int:
    call_command("seed_demo", verbosity=0)
    return store.head()


def stored_files(media: Path) -> list[Path]:
    return sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []


def content(report: StoredReport) -> bytes:
    with report.file.open("rb") as handle:
        data: bytes = handle.read()
    return data


def test_a_stored_report_records_its_anchor_checksum_and_parameters(demo):
    """Given the demo, a progress pack stored as CSV holds the bytes of the document built
    at the head, their SHA-256, the head's position and hash, the canonical parameters
    and who asked."""
    [report] = generate_reports(
        kind="progress",
        parameters={"consortium": "aip"},
        formats=["csv"],
        requested_by="user:alice",
        report_date=DAY,
    )
    head = store.read_head()
    assert (report.position, report.chain_hash) == (head.position, head.hash)
    assert report.chain_hash == store.hash_at(head.position)
    assert report.parameters == {"consortium": "aip", "report_date": "2025-12-31"}
    assert (report.kind, report.format, report.consortium) == ("progress", "csv", "aip")
    assert report.requested_by == "user:alice" and report.report_date == DAY
    data = content(report)
    assert hashlib.sha256(data).hexdigest() == report.checksum and report.size == len(data)
    expected = render(
        builders.build_progress("aip", Anchor(head.position, head.hash), DAY), "csv"
    ).content
    assert data == expected
    assert report.filename == "progress-aip-2025-12-31.csv"
    assert f"{head.position}:{head.hash}".encode() in data


@pytest.mark.parametrize("kind", list(REQUESTS))
def test_the_same_report_at_the_same_position_is_byte_identical(demo, kind, alice):
    """Every available format of every kind, made twice at one position (the second after
    more events were appended), gives the same bytes; at another position another hash
    is recorded."""
    formats = formats_for(kind)
    first = generate_reports(
        kind=kind, parameters=REQUESTS[kind], formats=formats, requested_by="t", report_date=DAY
    )
    s.partner_admit(
        actor=alice,
        slug="aip",
        organisation_id="late",
        name="Late",
        role="member",
        effective_on=dt.date(2025, 1, 2),
    )
    again = generate_reports(
        kind=kind,
        parameters=REQUESTS[kind],
        formats=formats,
        requested_by="t",
        report_date=DAY,
        position=demo,
    )
    assert [r.format for r in first] == [r.format for r in again] == formats
    for one, two in zip(first, again, strict=True):
        assert one.pk != two.pk
        assert content(one) == content(two) and one.checksum == two.checksum
        assert (one.position, one.chain_hash) == (two.position, two.chain_hash)
    later = generate_reports(
        kind=kind, parameters=REQUESTS[kind], formats=formats, requested_by="t", report_date=DAY
    )
    assert later[0].position == demo + 1
    assert later[0].chain_hash == store.hash_at(demo + 1) != first[0].chain_hash


def test_a_key_makes_generation_idempotent(demo):
    """A repeat with the same key returns the reports already stored and stores nothing."""
    made = generate_reports(
        kind="statement",
        parameters={"consortium": "aip", "period_start": "2025-01-01", "period_end": "2025-03-31"},
        formats=["csv"],
        requested_by="schedule:1",
        report_date=DAY,
        key="statement:aip:2025-q1",
    )
    assert [r.key for r in made] == [
        f"statement:aip:2025-q1:{org}:csv"
        for org in ("blackrock-gip", "mgx", "microsoft", "nvidia", "senior-lenders", "xai")
    ]
    assert [r.parameters["organisation"] for r in made] == [r.organisation_id for r in made]
    count = StoredReport.objects.count()
    again = generate_reports(
        kind="statement",
        parameters={"consortium": "aip", "period_start": "2025-01-01", "period_end": "2025-03-31"},
        formats=["csv"],
        requested_by="schedule:1",
        report_date=DAY,
        key="statement:aip:2025-q1",
    )
    assert [r.pk for r in again] == [r.pk for r in made]
    assert StoredReport.objects.count() == count
    # A key that merely starts the same is another key.
    other = generate_reports(
        kind="progress",
        parameters={"consortium": "aip"},
        formats=["csv"],
        requested_by="t",
        report_date=DAY,
        key="statement:aip",
    )
    assert [r.key for r in other] == ["statement:aip:-:csv"]


def test_progress_is_reported_per_document(demo):
    seen: list[tuple[int, int]] = []
    generate_reports(
        kind="statement",
        parameters={"consortium": "aip", "period_start": "2025-01-01", "period_end": "2025-03-31"},
        formats=["csv"],
        requested_by="t",
        report_date=DAY,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(n, 6) for n in range(1, 7)]


def _instruction(consortium: str, account: str, proposer, decider, at: dt.datetime):
    found = PaymentInstruction.objects.create(
        consortium=consortium,
        beneficiary="AIP Holdings LP",
        bank="Bank of Example",
        account=account,
        bic="EXMPGB2L",
        reference="AIP",
        proposed_by=proposer,
    )
    found.status, found.decided_by, found.decided_at = "approved", decider, at
    found.save()
    return found


def test_a_notice_records_the_payment_instruction_it_printed(demo):
    """Without an approved instruction the notice says they follow; with one, its id is
    recorded, and regenerating from the stored parameters after a newer instruction was
    approved prints the same bytes."""
    [bare] = generate_reports(
        kind="notice",
        parameters=REQUESTS["notice"],
        formats=["csv"],
        requested_by="t",
        report_date=DAY,
    )
    assert bare.parameters["payment_instruction"] == ""
    assert builders.NO_INSTRUCTIONS.encode() in content(bare)
    users = get_user_model().objects
    carol, dave = users.create_user("carol"), users.create_user("dave")
    now = timezone.now()
    first = _instruction("aip", "GB00FIRST", carol, dave, now - dt.timedelta(days=2))
    [notice] = generate_reports(
        kind="notice",
        parameters=REQUESTS["notice"],
        formats=["csv"],
        requested_by="t",
        report_date=DAY,
    )
    assert notice.parameters["payment_instruction"] == str(first.pk)
    assert b"GB00FIRST" in content(notice) and b"AIP aip-call-1" in content(notice)
    _instruction("aip", "GB00SECOND", dave, carol, now - dt.timedelta(days=1))
    asked = {k: notice.parameters[k] for k in ("consortium", "call", "payment_instruction")}
    [again] = generate_reports(
        kind="notice",
        parameters={**asked, "organisation": "mgx"},
        formats=["csv"],
        requested_by="t",
        report_date=DAY,
        position=notice.position,
    )
    assert content(again) == content(notice)
    [current] = generate_reports(
        kind="notice",
        parameters=REQUESTS["notice"],
        formats=["csv"],
        requested_by="t",
        report_date=DAY,
    )
    assert b"GB00SECOND" in content(current)


@pytest.mark.parametrize(
    ("kind", "parameters", "extra", "message"),
    [
        ("progress", {"consortium": "nope"}, {}, "No consortium 'nope'"),
        (
            "statement",
            {**REQUESTS["statement"], "organisation": "nobody"},
            {},
            "'nobody' is not a partner",
        ),
        (
            "statement",
            {**REQUESTS["statement"], "period_start": "2025-04-01"},
            {},
            "before it starts",
        ),
        (
            "statement",
            {**REQUESTS["statement"], "period_end": "2025-31-03"},
            {},
            "is not a date",
        ),
        (
            "statement",
            {**REQUESTS["statement"], "period_end": "2026-03-31"},
            {},
            "after the report date",
        ),
        ("notice", {**REQUESTS["notice"], "call": "call-9"}, {}, "no capital call 'call-9'"),
        ("notice", {**REQUESTS["notice"], "payment_instruction": "99"}, {}, "no approved"),
        ("ownership", {"asset": "nowhere"}, {}, "No asset 'nowhere'"),
        ("ownership", {}, {}, "needs asset"),
        ("ownership", {"asset": "aip-dc-virginia", "colour": "red"}, {}, "colour is not"),
        ("report", {}, {}, "no report kind 'report'"),
        ("progress", {"consortium": "aip"}, {"formats": ["docx"]}, "no format 'docx'"),
        ("progress", {"consortium": "aip"}, {"formats": ["pdf"]}, "does not come as pdf"),
        ("progress", {"consortium": "aip"}, {"formats": []}, "at least one format"),
        ("progress", {"consortium": "aip"}, {"position": 0}, "from 1"),
        ("progress", {"consortium": "aip"}, {"position": 10_000}, "does not exist yet"),
        (
            "progress",
            {"consortium": "aip"},
            {"report_date": dt.date(2999, 1, 1)},
            "after today",
        ),
    ],
)
def test_bad_input_is_a_clear_error_and_stores_nothing(
    demo, media, kind, parameters, extra, message
):
    arguments = {"formats": ["csv"], "report_date": DAY, **extra}
    with pytest.raises(ReportError, match=message):
        generate_reports(kind=kind, parameters=parameters, requested_by="t", **arguments)
    assert StoredReport.objects.count() == 0
    assert stored_files(media) == []


def test_an_empty_ledger_has_nothing_to_report(db, media):
    with pytest.raises(ReportError, match="ledger is empty"):
        generate_reports(
            kind="progress", parameters={"consortium": "aip"}, formats=["csv"], requested_by="t"
        )
    assert StoredReport.objects.count() == 0


def test_a_report_is_made_at_a_past_position_from_its_stored_inputs(demo, alice):
    """The stored parameters, position and report date are all it takes to make the same
    file again, even after back-dated events."""
    [made] = generate_reports(
        kind="statement",
        parameters=REQUESTS["statement"],
        formats=["csv"],
        requested_by="t",
        report_date=DAY,
    )
    s.commitment_record(
        actor=alice,
        slug="aip",
        commitment_id="aip-eq-bg-2",
        organisation_id="blackrock-gip",
        instrument="equity",
        amount=Money.of("1000000.00", "USD"),
        stage="signed",
        effective_on=dt.date(2025, 1, 10),
    )
    stored = dict(made.parameters)
    day = dt.date.fromisoformat(stored.pop("report_date"))
    [again] = generate_reports(
        kind=made.kind,
        parameters=stored,
        formats=[made.format],
        requested_by="auditor",
        report_date=day,
        position=made.position,
    )
    assert again.checksum == made.checksum
    [now] = generate_reports(
        kind=made.kind, parameters=stored, formats=["csv"], requested_by="t", report_date=day
    )
    assert now.checksum != made.checksum
