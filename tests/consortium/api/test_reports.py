"""``/api/v1/reports/``: who reads which stored report, the file byte for byte with its
checksum, paging and filters, and the schema.

Given stored reports of AIP and Stargate (real rows, real files through the storage API),
when each kind of caller lists them, reads one and downloads its file, then the deal
team, finance and auditors read their consortia's, a partner's key only its own
statements and notices (anyone else's is 404), a key with no role 403, no key 401.
"""

import base64
import gzip
import hashlib
import json

import pytest

from consortium.models import StoredReport
from tests.consortium.stored_reports import store_report

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def reports() -> dict[str, StoredReport]:
    return {
        "progress": store_report("progress", "aip", "", "xlsx"),
        "mgx_statement": store_report("statement", "aip", "mgx", "pdf"),
        "mgx_notice": store_report("notice", "aip", "mgx", "csv"),
        "microsoft_statement": store_report("statement", "aip", "microsoft", "pdf"),
        "stargate_mgx_statement": store_report("statement", "stargate", "mgx", "csv"),
        "stargate_progress": store_report("progress", "stargate", "", "csv"),
        "ownership": store_report("ownership", "", "", "csv", parameters={"asset": "a-1"}),
    }


def urls(report: StoredReport) -> list[str]:
    base = f"/api/v1/reports/{report.pk}/"
    return [base, base + "file/"]


def listed(api, **params) -> list[int]:
    response = api.get("/api/v1/reports/", params)
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def assert_problem(response, status: int) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == status


@pytest.mark.parametrize("role", ["deal_team", "finance", "auditor"])
def test_a_global_reader_reads_every_report_and_file(api_client_for, reports, role):
    api = api_client_for(role)
    assert listed(api) == sorted((r.pk for r in reports.values()), reverse=True)
    for report in reports.values():
        detail, file = (api.get(url) for url in urls(report))
        assert detail.status_code == 200 and detail.json()["id"] == report.pk
        assert file.status_code == 200


@pytest.mark.parametrize("role", ["deal_team", "finance", "auditor"])
def test_a_reader_in_one_consortium_does_not_see_the_others(api_client_for, reports, role):
    api = api_client_for(role, "aip")
    aip = [r for r in reports.values() if r.consortium == "aip"]
    assert listed(api) == sorted((r.pk for r in aip), reverse=True)
    for name in ("stargate_mgx_statement", "stargate_progress", "ownership"):
        for url in urls(reports[name]):
            assert_problem(api.get(url), 404)


def test_a_partner_reads_only_its_own_statements_and_notices(api_client_for, reports):
    api = api_client_for("partner:mgx")
    own = ["mgx_statement", "mgx_notice", "stargate_mgx_statement"]
    assert listed(api) == sorted((reports[name].pk for name in own), reverse=True)
    for name in own:
        for url in urls(reports[name]):
            assert api.get(url).status_code == 200
    for name in ("progress", "microsoft_statement", "stargate_progress", "ownership"):
        for url in urls(reports[name]):
            response = api.get(url)
            assert_problem(response, 404)
            assert "may not read" in response.json()["detail"]


def test_a_partner_granted_in_one_consortium_reads_only_its_reports_there(api_client_for, reports):
    api = api_client_for("partner:mgx", "aip")
    assert listed(api) == sorted(
        (reports["mgx_statement"].pk, reports["mgx_notice"].pk), reverse=True
    )
    for url in urls(reports["stargate_mgx_statement"]):
        assert_problem(api.get(url), 404)


def test_a_progress_report_addressed_to_nobody_is_not_a_partners(api_client_for, db):
    """A report of another kind that happens to name the partner is still not its own."""
    progress = store_report("progress", "aip", "mgx", "csv")
    api = api_client_for("partner:mgx")
    assert listed(api) == []
    assert_problem(api.get(f"/api/v1/reports/{progress.pk}/"), 404)


@pytest.mark.parametrize(
    ("role", "status"),
    [("no_role", 403), ("none", 401), ("bad_key", 401), ("revoked", 401), ("expired", 401)],
)
def test_without_a_role_or_a_key_nothing_is_read(api_client_for, reports, role, status):
    api = api_client_for(role)
    assert_problem(api.get("/api/v1/reports/"), status)
    for url in urls(reports["mgx_statement"]):
        assert_problem(api.get(url), status)
    if status == 401:
        assert api.get("/api/v1/reports/")["WWW-Authenticate"].startswith("Bearer")


def test_the_description_names_what_the_report_was_computed_from(api_client_for, reports):
    report = reports["mgx_statement"]
    body = api_client_for("auditor").get(f"/api/v1/reports/{report.pk}/").json()
    assert body == {
        "id": report.pk,
        "kind": "statement",
        "format": "pdf",
        "consortium": "aip",
        "organisation_id": "mgx",
        "parameters": report.parameters,
        "report_date": "2025-06-30",
        "position": report.position,
        "chain_hash": report.chain_hash,
        "anchor": f"{report.position}:{report.chain_hash}",
        "checksum": report.checksum,
        "size": report.size,
        "content_type": "application/pdf",
        "filename": "statement-aip-mgx-2025-06-30.pdf",
        "requested_by": "command",
        "created_at": report.created_at.isoformat(),
        "file": f"http://testserver/api/v1/reports/{report.pk}/file/",
    }
    ownership = api_client_for("auditor").get(f"/api/v1/reports/{reports['ownership'].pk}/")
    assert ownership.json()["consortium"] is None
    assert ownership.json()["organisation_id"] is None


def test_the_file_is_the_stored_bytes_with_their_checksum(api_client_for, db):
    content = bytes(range(256)) * 64  # every byte value, 16 KiB
    report = store_report("statement", "aip", "mgx", "pdf", content=content)
    api = api_client_for("partner:mgx")
    response = api.get(f"/api/v1/reports/{report.pk}/file/")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body == content == report.file.open("rb").read()
    digest = hashlib.sha256(body).hexdigest()
    assert digest == report.checksum
    assert response["ETag"] == f'"{digest}"'
    assert response["Repr-Digest"] == (
        "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"
    )
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Length"] == str(len(content))
    assert response["Content-Disposition"] == (
        'attachment; filename="statement-aip-mgx-2025-06-30.pdf"'
    )


def test_a_client_holding_the_file_gets_304(api_client_for, reports):
    report = reports["mgx_notice"]
    api = api_client_for("finance")
    url = f"/api/v1/reports/{report.pk}/file/"
    again = api.get(url, HTTP_IF_NONE_MATCH=f'"{report.checksum}"')
    assert again.status_code == 304 and again["ETag"] == f'"{report.checksum}"'
    assert api.get(url, HTTP_IF_NONE_MATCH='"0000"').status_code == 200


def test_the_file_is_served_whatever_accept_says_and_never_recompressed(api_client_for, db):
    content = b"consortium,partner,amount\r\n" + b"aip,mgx,1200000000.00\r\n" * 400
    report = store_report("notice", "aip", "mgx", "csv", content=content)
    api = api_client_for("deal_team")
    response = api.get(
        f"/api/v1/reports/{report.pk}/file/",
        HTTP_ACCEPT="application/pdf",
        HTTP_ACCEPT_ENCODING="gzip",
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert not response.has_header("Content-Encoding")
    body = b"".join(response.streaming_content)
    assert body == content
    with pytest.raises(gzip.BadGzipFile):
        gzip.decompress(body)


def test_a_missing_report_is_404_for_anyone(api_client_for, reports):
    api = api_client_for("deal_team")
    for url in ("/api/v1/reports/999999/", "/api/v1/reports/999999/file/"):
        assert_problem(api.get(url), 404)
    assert_problem(api.get("/api/v1/reports/99999999999999999999999/"), 404)


def test_pages_newest_first_each_report_once(api_client_for, db):
    made = [store_report("notice", "aip", f"org-{n}", "csv") for n in range(7)]
    api = api_client_for("auditor")
    seen, url, pages = [], "/api/v1/reports/?page_size=3", 0
    while url:
        body = api.get(url).json()
        seen += [item["id"] for item in body["results"]]
        url, pages = body["next"], pages + 1
        if len(seen) == 3:  # a report stored while paging comes first, not twice
            store_report("notice", "aip", "late", "csv")
    assert pages == 3
    assert seen == [r.pk for r in reversed(made)]


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"kind": "progress"}, ["progress", "stargate_progress"]),
        ({"format": "pdf"}, ["mgx_statement", "microsoft_statement"]),
        ({"consortium": "stargate"}, ["stargate_mgx_statement", "stargate_progress"]),
        ({"organisation": "mgx"}, ["mgx_statement", "mgx_notice", "stargate_mgx_statement"]),
        ({"kind": "statement", "consortium": "aip"}, ["mgx_statement", "microsoft_statement"]),
        ({"consortium": "nope"}, []),
    ],
)
def test_filters(api_client_for, reports, params, names):
    expected = sorted((reports[name].pk for name in names), reverse=True)
    assert listed(api_client_for("deal_team"), **params) == expected


def test_the_file_link_carries_no_filter(api_client_for, reports):
    body = api_client_for("deal_team").get("/api/v1/reports/", {"format": "pdf"}).json()
    for item in body["results"]:
        assert item["file"] == f"http://testserver/api/v1/reports/{item['id']}/file/"


def test_a_partners_filters_narrow_its_own_reports_only(api_client_for, reports):
    api = api_client_for("partner:mgx")
    assert listed(api, organisation="microsoft") == []
    assert listed(api, kind="progress") == []


@pytest.mark.parametrize(
    ("params", "field"),
    [({"kind": "memo"}, "kind"), ({"format": "docx"}, "format"), ({"cursor": "xyz"}, "cursor")],
)
def test_bad_query_parameters_are_400_naming_them(api_client_for, reports, params, field):
    response = api_client_for("deal_team").get("/api/v1/reports/", params)
    assert_problem(response, 400)
    assert field in response.json()["errors"]


def test_the_reports_are_in_the_schema(client):
    schema = json.loads(client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").content)
    paths = schema["paths"]
    listing = paths["/api/v1/reports/"]["get"]
    assert listing["operationId"] == "reports_list"
    assert {"kind", "format", "consortium", "organisation", "cursor", "page_size"} <= {
        p["name"] for p in listing["parameters"]
    }
    detail = paths["/api/v1/reports/{id}/"]["get"]
    assert detail["operationId"] == "reports_retrieve"
    assert detail["parameters"][0]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 2**63 - 1,
    }
    file = paths["/api/v1/reports/{id}/file/"]["get"]
    assert file["operationId"] == "reports_file"
    ok = file["responses"]["200"]["content"]
    assert ok["application/pdf"]["schema"] == {"type": "string", "format": "binary"}
    assert set(ok) == {
        "application/pdf",
        "text/csv",
        "text/html",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    for operation in (listing, detail, file):
        assert operation["description"]
        assert "application/problem+json" in operation["responses"]["401"]["content"]
    assert "404" in file["responses"] and "404" in detail["responses"]


# --- POST: generating on demand ------------------------------------------------------------

PROGRESS = {"kind": "progress", "parameters": {"consortium": "aip"}, "formats": ["csv"]}


def post(api, body, **headers):
    return api.post("/api/v1/reports/", body, format="json", **headers)


@pytest.mark.parametrize("role", ["deal_team", "finance"])
def test_the_deal_team_and_finance_generate_reports(formed, api_client_for, role):
    formed("aip")
    api = api_client_for(role, "aip")
    response = post(api, PROGRESS)
    assert response.status_code == 201, response.content
    (item,) = response.json()["results"]
    report = StoredReport.objects.get(pk=item["id"])
    assert (report.kind, report.consortium, report.format) == ("progress", "aip", "csv")
    assert report.requested_by == f"user:{api.user.username}"
    assert item == api.get(f"/api/v1/reports/{report.pk}/").json()
    file = api.get(item["file"])
    assert hashlib.sha256(b"".join(file.streaming_content)).hexdigest() == report.checksum


def test_statements_for_the_partners_asked(formed, api_client_for):
    formed("aip")
    body = {
        "kind": "statement",
        "parameters": {
            "consortium": "aip",
            "period_start": "2025-01-01",
            "period_end": "2025-03-31",
            "organisation": "mgx,microsoft",
        },
        "formats": ["csv", "xlsx"],
    }
    response = post(api_client_for("deal_team"), body)
    assert response.status_code == 201, response.content
    made = [(r["organisation_id"], r["format"]) for r in response.json()["results"]]
    assert sorted(made) == [
        ("mgx", "csv"),
        ("mgx", "xlsx"),
        ("microsoft", "csv"),
        ("microsoft", "xlsx"),
    ]


@pytest.mark.parametrize(
    ("role", "consortium"), [("auditor", None), ("partner:mgx", None), ("finance", "stargate")]
)
def test_others_may_not_generate(formed, api_client_for, role, consortium):
    formed("aip")
    response = post(api_client_for(role, consortium), PROGRESS)
    assert_problem(response, 403)
    assert StoredReport.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({**PROGRESS, "kind": "memo"}, 400, "kind"),
        ({**PROGRESS, "formats": []}, 400, "formats"),
        ({**PROGRESS, "parameters": {"consortium": "AIP!"}}, 400, "parameters.consortium"),
        ({**PROGRESS, "parameters": {"consortium": "aip", "colour": "red"}}, 400, "colour"),
        ({**PROGRESS, "position": 0}, 400, "position"),
        ({**PROGRESS, "parameters": {}}, 422, "A progress report needs consortium."),
        ({**PROGRESS, "formats": ["pdf"]}, 422, "does not come as pdf"),
        ({**PROGRESS, "parameters": {"consortium": "nope"}}, 422, "No consortium 'nope'"),
        ({**PROGRESS, "position": 10**9}, 422, "does not exist yet"),
        (
            {
                "kind": "statement",
                "parameters": {
                    "consortium": "aip",
                    "period_start": "2025-03-31",
                    "period_end": "2025-01-01",
                },
                "formats": ["csv"],
            },
            422,
            "The period ends on 2025-01-01, before it starts on 2025-03-31.",
        ),
    ],
)
def test_bad_requests_store_nothing(formed, api_client_for, body, status, words):
    formed("aip")
    response = post(api_client_for("deal_team"), body)
    assert_problem(response, status)
    problem = response.json()
    assert words in problem["detail"] or words in problem["errors"], problem
    assert StoredReport.objects.count() == 0


def test_a_repeat_with_the_same_idempotency_key_stores_nothing_more(formed, api_client_for):
    formed("aip")
    api = api_client_for("finance")
    first = post(api, PROGRESS, HTTP_IDEMPOTENCY_KEY="pack-2025-06")
    again = post(api, PROGRESS, HTTP_IDEMPOTENCY_KEY="pack-2025-06")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert again.json() == first.json()
    assert StoredReport.objects.count() == 1
    other = post(api, {**PROGRESS, "formats": ["xlsx"]}, HTTP_IDEMPOTENCY_KEY="pack-2025-06")
    assert_problem(other, 422)
    # Another client's same key is its own.
    theirs = post(api_client_for("finance"), PROGRESS, HTTP_IDEMPOTENCY_KEY="pack-2025-06")
    assert theirs.status_code == 201 and not theirs.has_header("Idempotent-Replayed")
    assert StoredReport.objects.count() == 2


@pytest.mark.parametrize("role", ["auditor", "no_role", "partner:mgx"])
def test_a_method_a_route_does_not_have_is_405_for_any_valid_key(api_client_for, reports, role):
    api = api_client_for(role)
    report = reports["mgx_statement"]
    for url in urls(report):
        response = api.delete(url)
        assert_problem(response, 405)
        assert response["Allow"] == "GET, HEAD, OPTIONS"
    assert_problem(api.delete("/api/v1/reports/"), 405)
