"""The partner view's statements and notices: a partner lists and downloads its own
organisation's, in the consortia its grants name, and nobody else's."""

import re

import pytest
from django.test import Client

from tests.consortium.stored_reports import store_report
from tests.consortium.workspace_people import person, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def reports(formed):
    formed("aip")
    return {
        "statement_pdf": store_report("statement", "aip", "mgx", "pdf"),
        "statement_xlsx": store_report("statement", "aip", "mgx", "xlsx"),
        "notice": store_report("notice", "aip", "mgx", "pdf"),
        "stargate_statement": store_report("statement", "stargate", "mgx", "pdf"),
        "microsoft_statement": store_report("statement", "aip", "microsoft", "pdf"),
        "progress": store_report("progress", "aip", "", "pdf"),
    }


def file_url(report) -> str:
    return f"/partner/reports/{report.pk}/file/"


def downloads(content: bytes) -> list[str]:
    return re.findall(r'href="(/partner/reports/\d+/file/)"', content.decode())


def test_a_partner_sees_its_statements_and_notices_newest_first(reports):
    page = signed_in(person("mgx.reader", "partner:mgx")).get("/partner/")
    assert page.status_code == 200
    text = page.content.decode()
    # One row per document, its formats side by side; the newest first.
    assert re.findall(r'data-statement="(\w+)"', text) == ["statement", "notice", "statement"]
    assert downloads(page.content) == [
        file_url(reports[name])
        for name in ("stargate_statement", "notice", "statement_pdf", "statement_xlsx")
    ]
    assert "2025-04-01 to 2025-06-30" in text and "aip-call-1" in text
    assert "Capital call notice" in text and "Partner statement" in text
    assert "microsoft" not in text.lower()


def test_a_partner_granted_in_one_consortium_sees_only_its_statements_there(reports):
    page = signed_in(person("mgx.reader", "partner:mgx@aip")).get("/partner/")
    assert file_url(reports["stargate_statement"]) not in downloads(page.content)
    assert len(downloads(page.content)) == 3


def test_a_partner_downloads_its_own_file_byte_for_byte(reports):
    client = signed_in(person("mgx.reader", "partner:mgx"))
    own = reports["notice"]
    answer = client.get(file_url(own))
    assert answer.status_code == 200
    assert answer.getvalue() == own.file.open("rb").read()
    assert answer["Content-Type"] == "application/pdf"
    assert answer["Content-Disposition"] == f'attachment; filename="{own.filename}"'
    assert answer["ETag"] == f'"{own.checksum}"'


@pytest.mark.parametrize("name", ["microsoft_statement", "progress"])
def test_another_partners_file_or_a_progress_report_is_404(reports, name):
    client = signed_in(person("mgx.reader", "partner:mgx"))
    assert client.get(file_url(reports[name])).status_code == 404


def test_a_partner_in_one_consortium_cannot_download_its_statement_of_another(reports):
    client = signed_in(person("mgx.reader", "partner:mgx@aip"))
    assert client.get(file_url(reports["stargate_statement"])).status_code == 404


def test_only_a_signed_in_partner_downloads(reports):
    url = file_url(reports["notice"])
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/partner/login/")
    dana = signed_in(person("dana", "deal_team", staff=True))
    assert dana.get(url).status_code == 404  # the workspace is where the deal team reads


def test_no_statement_yet_is_said(formed):
    formed("aip")
    page = signed_in(person("mgx.reader", "partner:mgx")).get("/partner/")
    assert "No statement or capital call notice has been issued to you yet" in page.content.decode()


def test_a_head_request_answers_the_files_headers(reports):
    own = reports["notice"]
    answer = signed_in(person("mgx.reader", "partner:mgx")).head(file_url(own))
    assert answer.status_code == 200
    assert answer["ETag"] == f'"{own.checksum}"'
