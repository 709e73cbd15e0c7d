"""The Reports room: the stored reports a user may read, their downloads (the API's rule),
and the "Generate a report" form's refusals (nothing stored) and who may use it."""

import re

import pytest
from django.urls import reverse

from consortium.models import StoredReport
from tests.consortium.stored_reports import store_report

pytestmark = pytest.mark.django_db
LIST = "/admin/reports/"
GENERATE = "/admin/reports/generate/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def consortia(formed):
    formed("aip")
    formed("stargate", {"openai": "700.00", "oracle": "300.00"})


@pytest.fixture
def reports(consortia) -> dict[str, StoredReport]:
    return {
        "aip_progress": store_report("progress", "aip", "", "xlsx", requested_by="user:dora"),
        "mgx_statement": store_report("statement", "aip", "mgx", "pdf"),
        "mgx_notice": store_report("notice", "aip", "mgx", "csv", requested_by="notices"),
        "stargate_progress": store_report("progress", "stargate", "", "csv"),
    }


def listed(page) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-report="(\d+)"', page.content.decode())]


def newest_first(*found: StoredReport) -> list[int]:
    return sorted((r.pk for r in found), reverse=True)


def test_the_room_lists_every_report_newest_first_with_its_anchor(reports, make_user, signed_in):
    client = signed_in(make_user("dora", ("deal_team", "")))
    page = client.get(LIST)
    assert page.status_code == 200
    assert listed(page) == newest_first(*reports.values())
    text = page.content.decode()
    statement = reports["mgx_statement"]
    assert f"{statement.position}:{statement.chain_hash[:8]}" in text
    assert statement.checksum[:10] in text and f"SHA-256 {statement.checksum}" in text
    assert "Partner statement" in text and "Mgx" in text  # the partner's name
    assert "user:dora" in text and "notices" in text
    assert reverse("admin:workspace-report-file", args=[statement.pk]) in text
    assert 'href="/admin/reports/generate/"' in text


def test_the_sidebar_leads_to_the_room(reports, make_user, signed_in):
    page = signed_in(make_user("aud", ("auditor", "aip"))).get(reverse("admin:index"))
    assert 'href="/admin/reports/"' in page.content.decode()


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ({"kind": "progress"}, ["aip_progress", "stargate_progress"]),
        ({"consortium": "stargate"}, ["stargate_progress"]),
        ({"format": "pdf"}, ["mgx_statement"]),
        ({"kind": "notice", "consortium": "aip"}, ["mgx_notice"]),
        ({"kind": "ownership"}, []),
    ],
)
def test_filters(reports, make_user, signed_in, query, names):
    page = signed_in(make_user("dora", ("finance", ""))).get(LIST, query)
    assert listed(page) == newest_first(*(reports[name] for name in names))
    if not names:
        assert "No stored report matches these filters." in page.content.decode()


def test_pages_of_fifty_newest_first(consortia, make_user, signed_in):
    made = [store_report("notice", "aip", f"org-{n}", "csv") for n in range(55)]
    client = signed_in(make_user("dora", ("auditor", "")))
    first = client.get(LIST)
    assert listed(first) == newest_first(*made)[:50]
    older = re.search(r'href="\?([^"]*before=\d+)"', first.content.decode())
    assert older
    second = client.get(LIST + "?" + older.group(1).replace("&amp;", "&"))
    assert listed(second) == newest_first(*made)[50:]


def test_an_auditor_in_one_consortium_reads_and_downloads_its_reports_only(
    reports, make_user, signed_in
):
    client = signed_in(make_user("aud", ("auditor", "aip")))
    page = client.get(LIST)
    aip = [r for name, r in reports.items() if r.consortium == "aip"]
    assert listed(page) == newest_first(*aip)
    assert "Generate a report" not in page.content.decode()
    own = reports["mgx_statement"]
    download = client.get(reverse("admin:workspace-report-file", args=[own.pk]))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == own.file.open("rb").read()
    assert download["ETag"] == f'"{own.checksum}"'
    assert download["Content-Disposition"] == f'attachment; filename="{own.filename}"'
    other = reports["stargate_progress"]
    assert client.get(reverse("admin:workspace-report-file", args=[other.pk])).status_code == 404
    assert client.get(reverse("admin:workspace-report-file", args=[99999])).status_code == 404


def test_a_superuser_reads_every_report(reports, make_user, signed_in):
    page = signed_in(make_user("root", superuser=True)).get(LIST)
    assert listed(page) == newest_first(*reports.values())


def test_a_partner_user_is_not_let_in(reports, make_user, signed_in):
    client = signed_in(make_user("mgx.reader", ("partner:mgx", "")))
    for url in (LIST, GENERATE, f"/admin/reports/{reports['mgx_statement'].pk}/file/"):
        answer = client.get(url)
        assert answer.status_code == 302 and answer["Location"].startswith("/admin/login/")


def test_an_auditor_may_not_generate(reports, make_user, signed_in):
    client = signed_in(make_user("aud", ("auditor", "")))
    assert client.get(GENERATE).status_code == 403
    before = StoredReport.objects.count()
    posted = client.post(GENERATE, {"kind": "progress", "consortium": "aip", "formats": ["csv"]})
    assert posted.status_code == 403
    assert StoredReport.objects.count() == before


def test_the_form_offers_the_consortia_the_user_may_generate_in(consortia, make_user, signed_in):
    client = signed_in(make_user("fin", ("finance", "stargate"), ("auditor", "aip")))
    page = client.get(GENERATE)
    assert page.status_code == 200
    text = page.content.decode()
    assert '<option value="stargate">' in text
    assert '<option value="aip">' not in text
    assert 'value="openai"' in text and 'value="mgx"' not in text  # stargate's partners


@pytest.mark.parametrize(
    ("posted", "field", "words"),
    [
        ({"consortium": "aip", "formats": ["csv"]}, "kind", "This field is required."),
        ({"kind": "statement", "consortium": "aip", "formats": ["csv"]}, "period_start", "needs"),
        ({"kind": "notice", "consortium": "aip", "formats": ["pdf"]}, "call", "needs this"),
        ({"kind": "progress", "formats": ["csv"]}, "consortium", "needs this"),
        ({"kind": "ownership", "formats": ["csv"]}, "asset", "needs this"),
        ({"kind": "progress", "consortium": "aip"}, "formats", "This field is required."),
        (
            {"kind": "progress", "consortium": "aip", "formats": ["csv"], "partners": ["mgx"]},
            "partners",
            "Only statements and notices",
        ),
        (
            {"kind": "progress", "consortium": "aip", "formats": ["csv"], "position": "0"},
            "position",
            "greater than or equal to 1",
        ),
        (
            {"kind": "progress", "consortium": "elsewhere", "formats": ["csv"]},
            "consortium",
            "Select a valid choice",
        ),
    ],
)
def test_a_form_error_is_shown_beside_its_field_and_nothing_is_stored(
    consortia, make_user, signed_in, posted, field, words
):
    client = signed_in(make_user("dora", ("deal_team", "")))
    answer = client.post(GENERATE, posted)
    assert answer.status_code == 200
    form = answer.context["form"]
    assert field in form.errors, form.errors
    assert any(words in message for message in form.errors[field])
    assert words in answer.content.decode().replace("&#x27;", "'")
    assert StoredReport.objects.count() == 0


# --- generating through the service -----------------------------------------------------


@pytest.fixture
def dora(make_user, signed_in):
    return signed_in(make_user("dora", ("deal_team", "")))


def generated_ids(answer) -> list[int]:
    assert answer.status_code == 302, answer.content
    location = answer["Location"]
    assert location.startswith("/admin/reports/?generated=")
    return [int(pk) for pk in location.split("=", 1)[1].replace("%2C", ",").split(",")]


def test_the_deal_team_generates_a_progress_report_and_downloads_it(consortia, dora):
    answer = dora.post(GENERATE, {"kind": "progress", "consortium": "aip", "formats": ["csv"]})
    (pk,) = generated_ids(answer)
    report = StoredReport.objects.get(pk=pk)
    assert (report.kind, report.consortium, report.format) == ("progress", "aip", "csv")
    assert report.requested_by == "user:dora"
    page = dora.get(answer["Location"])
    text = page.content.decode()
    assert "Generated just now (1)" in text
    link = reverse("admin:workspace-report-file", args=[pk])
    assert link in text
    download = dora.get(link)
    body = b"".join(download.streaming_content)
    assert body == report.file.open("rb").read() and len(body) == report.size
    assert download["ETag"] == f'"{report.checksum}"'


def test_finance_generates_statements_for_the_partners_chosen(consortia, make_user, signed_in):
    client = signed_in(make_user("fin", ("finance", "aip")))
    answer = client.post(
        GENERATE,
        {
            "kind": "statement",
            "consortium": "aip",
            "partners": ["mgx", "microsoft"],
            "period_start": "2025-01-01",
            "period_end": "2025-03-31",
            "formats": ["csv"],
        },
    )
    made = StoredReport.objects.filter(pk__in=generated_ids(answer))
    assert sorted(made.values_list("organisation_id", flat=True)) == ["mgx", "microsoft"]
    assert {r.requested_by for r in made} == {"user:fin"}


def test_a_notice_for_an_issued_call(issued_call, dora):
    answer = dora.post(
        GENERATE, {"kind": "notice", "consortium": "aip", "call": "call-1", "formats": ["csv"]}
    )
    made = StoredReport.objects.filter(pk__in=generated_ids(answer))
    assert sorted(made.values_list("organisation_id", flat=True)) == ["mgx", "microsoft"]


@pytest.mark.parametrize(
    ("posted", "field", "words"),
    [
        (
            {
                "kind": "statement",
                "period_start": "2025-03-31",
                "period_end": "2025-01-01",
            },
            "period_end",
            "The period ends on 2025-01-01, before it starts on 2025-03-31.",
        ),
        ({"kind": "progress", "report_date": "2099-01-01"}, "report_date", "is after today"),
        ({"kind": "progress", "position": "999999"}, "position", "does not exist yet"),
        ({"kind": "progress", "formats": ["pdf"]}, "formats", "does not come as pdf"),
        (
            {"kind": "progress", "report_date": "2020-01-01"},
            "consortium",
            "No consortium 'aip' was formed by 2020-01-01",
        ),
    ],
)
def test_a_refusal_of_the_service_is_shown_beside_its_field_and_nothing_is_stored(
    consortia, dora, posted, field, words
):
    answer = dora.post(GENERATE, {"consortium": "aip", "formats": ["csv"]} | posted)
    assert answer.status_code == 200
    form = answer.context["form"]
    assert field in form.errors, form.errors
    assert any(words in message for message in form.errors[field]), form.errors
    assert StoredReport.objects.count() == 0


def test_a_partner_of_another_consortium_is_refused_in_the_services_words(consortia, dora):
    """The form offers every partner of the user's consortia: the service says which one
    is not a partner where the statement is asked."""
    answer = dora.post(
        GENERATE,
        {
            "kind": "statement",
            "consortium": "stargate",
            "partners": ["mgx"],
            "period_start": "2025-01-01",
            "period_end": "2025-02-01",
            "formats": ["csv"],
        },
    )
    assert answer.status_code == 200
    errors = answer.context["form"].errors["partners"]
    (error,) = errors
    assert error.startswith("'mgx' is not a partner of 'stargate' by 2025-02-01 (ledger position")
    assert StoredReport.objects.count() == 0
