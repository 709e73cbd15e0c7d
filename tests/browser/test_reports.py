"""Reports in the browser: the demo's deal-team lead generates a progress report in the
workspace and downloads it; the demo's partner (MGX) finds its statements in the partner
view, downloads its own, and is refused another partner's.

The demo's sign-ins are made as ``manage.py seed_demo_users`` makes them (its password
file goes to a temporary folder); reports are stored under a temporary ``MEDIA_ROOT``.
"""

import hashlib
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from consortium.demo import load_demo
from consortium.models import StoredReport
from consortium.reports.services import generate_reports
from ledger.projections import runner

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def demo(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.DEBUG = True  # seed_demo_users is for local development only
    settings.VAR_DIR = tmp_path
    load_demo()
    call_command("seed_demo_users", verbosity=0)
    settings.DEBUG = False
    if not django_settings.CELERY_TASK_ALWAYS_EAGER:
        runner.catch_up_all()


def downloaded(browser, selector: str) -> tuple[str, bytes]:
    """Click the first link ``selector`` finds and wait for its download: its file name
    and bytes (in Playwright's thread: no database there)."""

    def click(page):
        with page.expect_download() as info:
            page.locator(selector).first.click()
        return info.value.suggested_filename, Path(info.value.path()).read_bytes()

    name, body = browser.run(click)
    return str(name), bytes(body)


def test_the_deal_team_lead_generates_a_progress_report_and_downloads_it(demo, browser):
    alice = get_user_model().objects.get(username="alice.deal")
    browser.sign_in(alice)
    assert browser.goto("/admin/reports/") == 200
    page = browser.page
    page.get_by_role("link", name="Generate a report").click()
    page.wait_for_load_state()
    page.locator("[name=kind]").select_option("progress")
    page.locator("[name=consortium]").select_option("aip")
    for box in page.locator("[name=formats]").all():
        box.set_checked(box.get_attribute("value") == "csv")
    browser.screenshot("reports-generate-progress")
    page.get_by_role("button", name="Generate").click()
    page.wait_for_load_state()
    browser.expect(page.locator(".ws-generated")).to_contain_text("Fundraising progress")
    browser.screenshot("reports-generated")

    # (the demo's issued calls have their notices stored already)
    (report,) = StoredReport.objects.filter(kind="progress")
    assert (report.kind, report.consortium, report.format) == ("progress", "aip", "csv")
    assert report.requested_by == "user:alice.deal"
    name, body = downloaded(browser, ".ws-generated a[download]")
    assert name == report.filename
    assert body == report.file.open("rb").read()
    assert hashlib.sha256(body).hexdigest() == report.checksum
    assert b"AI Infrastructure Partnership" in body


def test_the_demo_partner_sees_and_downloads_only_its_own_statements(demo, browser):
    made = generate_reports(
        kind="statement",
        parameters={
            "consortium": "aip",
            "period_start": "2025-01-01",
            "period_end": "2025-06-30",
            "organisation": "mgx,microsoft",
        },
        formats=["csv"],
        requested_by="command",
    )
    own, other = sorted(made, key=lambda r: r.organisation_id != "mgx")
    assert (own.organisation_id, other.organisation_id) == ("mgx", "microsoft")

    browser.sign_in(get_user_model().objects.get(username="mgx.partner"))
    assert browser.goto("/partner/") == 200
    page = browser.page
    # its statement, beside what the consumers made of the demo (on the embedded default:
    # the notice of its issued call, its statement for the day the distribution was paid),
    # and nothing of Microsoft's
    period = ':has-text("2025-01-01 to 2025-06-30")'
    rows = page.locator(f'#statements tr[data-statement="statement"]{period}')
    browser.expect(rows).to_have_count(1)
    browser.expect(page.locator('#statements tr[data-organisation="microsoft"]')).to_have_count(0)
    browser.expect(rows.first).to_contain_text("2025-01-01 to 2025-06-30")
    page.locator("#statements").scroll_into_view_if_needed()
    browser.screenshot("partner-statements")

    name, body = downloaded(
        browser, f'#statements tr[data-statement="statement"]{period} a[download]'
    )
    assert name == own.filename
    assert body == own.file.open("rb").read()
    assert browser.goto(f"/partner/reports/{other.pk}/file/") == 404
