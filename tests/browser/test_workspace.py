"""The workspace walked through as its users would, in headless Chromium on the live
server: a deal-team member records a commitment and sees the dashboard rise by it; one
person prepares a capital call and another approves it; a partner sees only its own rows.

The read models follow the ledger: in-process on the embedded default (eager Celery);
with a broker there is no worker in these tests, so each test brings the projections up
to date itself (``caught_up``), as the worker would, before looking.
"""

import re
from decimal import Decimal

import pytest
from django.conf import settings

from consortium.demo import load_demo
from ledger.projections import runner

pytestmark = pytest.mark.timeout(180)


def caught_up() -> None:
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        runner.catch_up_all()


@pytest.fixture
def demo(transactional_db):
    load_demo()
    caught_up()


def exact_amount(text: str) -> Decimal:
    """``USD 1,234.50`` -> Decimal("1234.50")."""
    found = re.search(r"[A-Z]{3} (-?[\d,]+(?:\.\d+)?)", text)
    assert found, text
    return Decimal(found.group(1).replace(",", ""))


def signed_total(browser, slug: str) -> Decimal:
    browser.goto(f"/admin/consortia/{slug}/")
    card = browser.page.locator("[data-figure=signed-total]")
    return exact_amount(card.get_attribute("title"))


def test_a_signed_commitment_recorded_through_its_form_raises_the_dashboard(
    demo, browser, make_user
):
    dana = make_user("dana", "deal_team", first_name="Dana")
    browser.sign_in(dana)
    before = signed_total(browser, "aip")
    browser.screenshot("dashboard-aip-before")

    assert browser.goto("/admin/consortia/aip/record/commitment-record/") == 200
    page = browser.page
    page.locator("[name=commitment_id]").fill("aip-eq-xai-2")
    page.locator("[name=organisation_id]").select_option("xai")
    page.locator("[name=instrument]").select_option("equity")
    page.locator("[name=amount]").fill("250000000.00")
    page.locator("[name=stage]").select_option("signed")
    browser.screenshot("form-commitment-record-filled")
    page.locator("form [type=submit]").last.click()
    page.wait_for_load_state()
    browser.expect(page.locator("body")).to_contain_text("Recorded: ")

    caught_up()
    after = signed_total(browser, "aip")
    browser.screenshot("dashboard-aip-after")
    assert after - before == Decimal("250000000.00")


def test_one_person_prepares_a_call_and_another_approves_it(demo, browser, make_user):
    preparer = make_user("erin", "deal_team")
    approver = make_user("frank", "deal_team")
    browser.sign_in(preparer)
    browser.goto("/admin/consortia/aip/record/capital-call-prepare/")
    page = browser.page
    page.locator("[name=call_id]").fill("aip-call-browser")
    page.locator("[name=amount]").fill("1000000.00")
    page.locator("[name=due_on]").fill("2027-01-31")
    page.locator("[name=purpose]").fill("Site works, Abilene phase 2")
    page.locator("form [type=submit]").last.click()
    page.wait_for_load_state()
    caught_up()

    # The preparer sees the call waiting, with no approve button of their own.
    browser.goto("/admin/approvals/")
    row = page.locator("#call-aip-aip-call-browser")
    browser.expect(row).to_contain_text("Prepared by you")
    assert row.get_by_role("link", name="Approve").count() == 0
    browser.screenshot("approvals-as-preparer")

    other = browser.new_session()
    other.sign_in(approver)
    other.goto("/admin/approvals/")
    theirs = other.page.locator("#call-aip-aip-call-browser")
    other.screenshot("approvals-as-approver")
    theirs.get_by_role("link", name="Approve").click()
    other.page.wait_for_load_state()
    assert "call_id=aip-call-browser" in other.page.url
    other.page.locator("form [type=submit]").last.click()
    other.page.wait_for_load_state()
    browser.expect(other.page.locator("body")).to_contain_text("Recorded: ")
    caught_up()

    other.goto("/admin/approvals/")
    approved = other.page.locator("#call-aip-aip-call-browser")
    browser.expect(approved.locator("dd", has_text="by frank")).to_have_count(1)
    browser.expect(approved.get_by_role("link", name="Issue")).to_have_count(1)
    other.screenshot("approvals-after-approval")


def test_a_partner_sees_only_its_own_rows(demo, browser, make_user):
    partner = make_user("mona", "partner:mgx", consortia=("aip", "stargate"))
    browser.sign_in(partner)
    assert browser.goto("/partner/") == 200
    body = browser.page.locator("main, body").first.inner_text()
    browser.screenshot("partner-view-mgx")
    assert "MGX" in body
    for other in ("Microsoft", "BlackRock", "SoftBank", "OpenAI"):
        assert other not in body
    # and the workspace is not theirs
    browser.goto("/admin/")
    assert "/login/" in browser.page.url


def test_every_dashboard_live_and_as_of_a_date(demo, browser, make_user):
    browser.sign_in(make_user("gina", "auditor"))
    assert browser.goto("/admin/") == 200
    browser.expect(browser.page.locator("body")).to_contain_text("Stargate")
    browser.screenshot("landing")
    for slug in ("aip", "stargate"):
        assert browser.goto(f"/admin/consortia/{slug}/") == 200
        browser.expect(browser.page.locator("body")).not_to_contain_text("historical view")
        browser.screenshot(f"dashboard-{slug}")
    assert browser.goto("/admin/consortia/aip/?on=2025-03-01") == 200
    browser.expect(browser.page.locator("body")).to_contain_text("historical view")
    browser.screenshot("dashboard-aip-as-of-2025-03-01")
    # an auditor reads, and is offered nothing to record
    assert browser.page.get_by_role("link", name="Record").count() == 0
