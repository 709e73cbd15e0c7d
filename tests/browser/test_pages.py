"""The pages a newcomer meets first, in a real browser: each loads with nothing from
another host, and is photographed."""

from tests.browser.conftest import PASSWORD


def test_the_home_page_leads_to_the_workspace_and_the_api_docs(browser, make_user):
    assert browser.goto("/") == 200
    links = browser.page.locator("nav[aria-label='Where to go'] a")
    hrefs = [link.get_attribute("href") for link in links.all()]
    assert hrefs[0] == "/admin/" and hrefs[-1] == "/api/v1/docs/"
    browser.expect(links.first).to_contain_text("Deal-team workspace")
    browser.expect(browser.page.get_by_role("link", name="Sign in")).to_be_visible()
    browser.screenshot("home-anonymous")

    browser.sign_in(make_user("dana", "deal_team", first_name="Dana", last_name="Reyes"))
    browser.goto("/")
    browser.expect(browser.page.locator("body")).to_contain_text("Signed in as Dana Reyes (dana)")
    browser.screenshot("home-signed-in")
    browser.page.get_by_role("link", name="Deal-team workspace").click()
    browser.page.wait_for_url(browser.url("/admin/"))
    assert browser.external_requests() == []


def test_a_deal_team_member_signs_in_through_the_admin_login(browser, make_user):
    make_user("dana", "deal_team")
    assert browser.goto("/admin/login/") == 200
    browser.screenshot("admin-login")
    browser.page.fill("#id_username", "dana")
    browser.page.fill("#id_password", PASSWORD)
    browser.page.click("button[type=submit]")
    browser.page.wait_for_url(browser.url("/admin/"))
    assert browser.external_requests() == []


def test_the_admin_index_as_a_deal_team_member(browser, make_user):
    browser.sign_in(make_user("dana", "deal_team"))
    assert browser.goto("/admin/") == 200
    assert "Consortium" in browser.page.title()
    # The theme's stylesheet arrived: the sidebar is laid out, not a bare list.
    assert browser.run(
        lambda page: page.evaluate(
            "[...document.styleSheets].some(s => (s.href || '').includes('/unfold/css/'))"
        )
    )
    browser.screenshot("admin-index-deal-team")
    assert browser.external_requests() == []


def test_the_api_docs_answer_a_get_with_the_browser_session(browser, make_user):
    browser.sign_in(make_user("dana", "deal_team"))
    assert browser.goto("/api/v1/docs/") == 200
    operation = browser.page.locator(".opblock-get", has_text="/api/v1/whoami/").first
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    response = operation.locator(".responses-table.live-responses-table")
    browser.expect(response).to_contain_text("dana")
    browser.expect(response.locator("tr.response .response-col_status")).to_have_text("200")
    operation.scroll_into_view_if_needed()
    browser.screenshot("api-docs-whoami-with-session", full_page=False)
    assert browser.external_requests() == []
