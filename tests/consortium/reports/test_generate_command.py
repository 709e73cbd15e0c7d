"""manage.py generate_report: progress on stderr for multi-partner runs, each stored
report and the anchor on stdout, the service's words as the error."""

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from consortium.models import StoredReport
from consortium.reports.services import formats_for
from ledger import store

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def demo(db) -> int:
    call_command("seed_demo", verbosity=0)
    return store.head()


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("generate_report", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_statements_for_every_partner_show_progress_and_the_anchor(demo):
    out, err = run(
        "statement",
        "--consortium",
        "aip",
        "--from",
        "2025-01-01",
        "--to",
        "2025-03-31",
        "--date",
        "2025-12-31",
        "--format",
        "csv",
    )
    assert err.splitlines() == [f"statement {n}/6" for n in range(1, 7)]
    reports = list(StoredReport.objects.order_by("id"))
    assert len(reports) == 6 and {r.requested_by for r in reports} == {"command"}
    lines = out.splitlines()
    for report, line in zip(reports, lines, strict=False):
        assert line.split("\t") == [
            str(report.pk),
            "statement",
            report.organisation_id,
            "csv",
            report.file.name,
            f"sha256:{report.checksum}",
        ]
    head = store.read_head()
    assert lines[-1].startswith(f"Anchor {head.position}:{head.hash} (report date 2025-12-31)")
    assert f"verify_ledger --expect {head.position}:{head.hash}" in lines[-1]


def test_chosen_partners_position_and_default_formats(demo):
    out, err = run(
        "statement",
        "--consortium",
        "aip",
        "--partner",
        "mgx",
        "--partner",
        "microsoft",
        "--from",
        "2025-01-01",
        "--to",
        "2025-03-31",
        "--date",
        "2025-12-31",
        "--position",
        str(demo - 1),
    )
    reports = list(StoredReport.objects.order_by("id"))
    formats = formats_for("statement")
    assert [(r.organisation_id, r.format) for r in reports] == [
        (org, fmt) for org in ("mgx", "microsoft") for fmt in formats
    ]
    assert {r.position for r in reports} == {demo - 1}
    assert err.splitlines() == ["statement 1/2", "statement 2/2"]
    out, err = run("ownership", "--asset", "sg-dc-abilene", "--date", "2025-12-31")
    assert err == "" and "ownership" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("progress", "--consortium", "nope"), "No consortium 'nope'"),
        (
            ("statement", "--consortium", "aip", "--from", "2025-03-01", "--to", "2025-02-01"),
            "before it starts",
        ),
        (
            (
                "statement",
                "--consortium",
                "aip",
                "--partner",
                "nobody",
                "--from",
                "2025-01-01",
                "--to",
                "2025-02-01",
            ),
            "'nobody' is not a partner",
        ),
        (("progress", "--consortium", "aip", "--date", "2999-01-01"), "after today"),
        (("progress", "--consortium", "aip", "--date", "soon"), "is not a date"),
        (("progress", "--consortium", "aip", "--position", "99999"), "does not exist yet"),
        (("progress", "--consortium", "aip", "--call", "x"), "does not take --call"),
        (("notice", "--consortium", "aip"), "needs call"),
    ],
)
def test_errors_are_the_services_words_and_store_nothing(demo, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert StoredReport.objects.count() == 0
