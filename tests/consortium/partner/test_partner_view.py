"""The partner view: a partner user sees its own organisation's rows and nothing of the
workspace; nobody else sees the partner view.

Every URL pattern of the admin site (the workspace) is walked, with real demo ids in its
arguments, as a partner user, and each one refuses: a redirect to the admin's sign-in
page, or 403. New rooms' patterns are walked too: an argument this test cannot fill
fails it, naming the argument to add to ``DEMO_IDS``.
"""

import re
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver
from django.urls.resolvers import RegexPattern

from consortium import access_log
from consortium.models import ApiClient, RoleGrant
from consortium.projections import selectors
from ledger import store
from tests.consortium.workspace_people import PASSWORD, person, seed, signed_in

pytestmark = pytest.mark.django_db

# The demo's ids, by the name URL patterns give their arguments. ``object_id`` and
# ``content_type_id`` depend on the ModelAdmin and are filled from real rows.
DEMO_IDS: dict[str, Any] = {
    "slug": "aip",
    "consortium": "aip",
    "command": "commitment-record",
    "position": 1,
    "organisation_id": "mgx",
    "partner": "mgx",
    "app_label": "consortium",
    "url": "no-such-page/",
    "report_id": 1,
    "recipient_id": 1,
    "instruction_id": 1,
}
# Sign-in and sign-out are the doors, not rooms: the sign-in page shows its form to
# anyone not allowed in, sign-out only takes a POST.
DOORS = {"login", "logout"}


@pytest.fixture
def demo() -> None:
    seed()
    # A row for every ModelAdmin, so each one's object URLs have a real id to ask for.
    owner = person("erp.system", "finance")
    access_log.create_api_client(access_log.Acting.cli(), name="erp", user=owner)


def _route(pattern: Any) -> str:
    """A pattern's route with ``{name}`` where each argument goes."""
    text = str(pattern.pattern)
    if isinstance(pattern.pattern, RegexPattern):  # (?P<name>...) groups
        text = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", text).lstrip("^").rstrip("$")
        return text.replace("\\", "")
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", text)


def _object_ids() -> dict[str, str]:
    """A primary key per registered model, by its URL prefix (``app/model/``): a real
    row's where the demo has one; else 1 (a model of a library, e.g. django-celery-beat's
    schedules, that the demo does not fill): a partner must be refused either way."""
    ids = {}
    for model in admin.site._registry:
        first = model._default_manager.order_by("pk").first()
        ids[f"{model._meta.app_label}/{model._meta.model_name}/"] = (
            str(first.pk) if first is not None else "1"
        )
    return ids


def admin_urls() -> list[tuple[str, str]]:
    """(name, URL) of every pattern of the admin site, its arguments filled."""
    objects = _object_ids()
    found: list[tuple[str, str]] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + _route(pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
                continue
            assert isinstance(pattern, URLPattern)
            names = re.findall(r"\{(\w+)\}", route)
            values = dict(DEMO_IDS)
            values["object_id"] = values["id"] = objects.get(prefix, "1")
            values["content_type_id"] = ContentType.objects.get_for_model(User).pk
            unknown = [name for name in names if name not in values]
            assert not unknown, f"{route}: add a demo id for {unknown} to DEMO_IDS"
            if prefix == "" and pattern.name == "view_on_site":
                values["object_id"] = objects["auth/user/"]
            found.append((pattern.name or route, "/admin/" + route.format(**values)))

    walk(admin.site.get_urls(), "")
    return found


def refused(response: Any) -> bool:
    if response.status_code == 403:
        return True
    return response.status_code == 302 and str(response["Location"]).startswith("/admin/login/")


@pytest.mark.parametrize("staff_by_mistake", [False, True])
def test_a_partner_user_is_refused_every_admin_url(demo, staff_by_mistake):
    partner = person("mgx.reader", "partner:mgx", staff=staff_by_mistake)
    browser = signed_in(partner)
    urls = [(name, url) for name, url in admin_urls() if name not in DOORS]
    assert len(urls) > 20, urls  # the site's own, the models' and the rooms' pages
    answers = {url: browser.get(url) for _, url in urls}
    let_in = {url: r.status_code for url, r in answers.items() if not refused(r)}
    assert not let_in, f"a partner user got these admin pages: {let_in}"

    # At the door: the sign-in form again, not the workspace's index.
    door = browser.get("/admin/login/")
    assert door.status_code == 200 and b'id="login-form"' in door.content


def test_the_partner_view_refuses_a_deal_team_member_without_a_partner_grant(demo):
    dana = person("dana", "deal_team", staff=True)
    answer = signed_in(dana).get("/partner/")
    assert answer.status_code == 403
    assert b"no partner grant" in answer.content
    # Not signed in: to the partner view's own sign-in page.
    anonymous = Client().get("/partner/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/partner/login/?next=/partner/")


def _rows(content: bytes, attribute: str) -> set[str]:
    return set(re.findall(rf'data-{attribute}="([^"]+)"', content.decode()))


def test_partners_of_two_organisations_see_only_their_own_rows(demo):
    mgx = signed_in(person("mgx.reader", "partner:mgx"))
    microsoft = signed_in(person("msft.reader", "partner:microsoft@aip"))

    mine = mgx.get("/partner/")
    assert mine.status_code == 200
    # MGX is a partner of both consortia (signed in AIP, soft-circled in Stargate).
    assert _rows(mine.content, "consortium") == {"aip", "stargate"}
    assert _rows(mine.content, "organisation") == {"mgx"}
    theirs = microsoft.get("/partner/")
    assert _rows(theirs.content, "consortium") == {"aip"}  # granted in AIP only
    assert _rows(theirs.content, "organisation") == {"microsoft"}

    # Its figures, formatted as the workspace formats them: the AIP call's allocation.
    (call,) = selectors.capital_calls("aip")
    (own,) = [a.figures for a in call.allocations if a.figures.organisation_id == "mgx"]
    text = mine.content.decode()
    assert f'data-call="{call.figures.call_id}" data-organisation="mgx"' in text
    assert own.due_on.isoformat() in text
    assert "USD 1,200,000,000.00" in text  # MGX's share of the 4.4 bn call (paid)
    assert "USD 6,000,000,000.00" in text  # its signed equity in AIP
    for other in ("Microsoft", "BlackRock", "SoftBank"):
        assert other not in text, other
    assert "Statements and capital call notices" in text


def test_a_partner_signs_in_at_the_partner_view_and_out_again(demo):
    person("mgx.reader", "partner:mgx")
    browser = Client()
    form = browser.get("/partner/login/")
    assert form.status_code == 200 and b"Partner view" in form.content
    answer = browser.post("/partner/login/", {"username": "mgx.reader", "password": PASSWORD})
    assert answer.status_code == 302 and answer["Location"] == "/partner/"
    assert browser.get("/partner/").status_code == 200
    # The workspace's own sign-in refuses it (not staff).
    workspace = Client().post("/admin/login/", {"username": "mgx.reader", "password": PASSWORD})
    assert workspace.status_code == 200 and b"staff account" in workspace.content
    out = browser.post("/partner/logout/")
    assert out.status_code == 302 and out["Location"] == "/partner/login/"
    assert browser.get("/partner/").status_code == 302


def test_the_partner_view_writes_nothing(demo):
    browser = signed_in(person("mgx.reader", "partner:mgx"))
    head = store.head()
    assert browser.post("/partner/", {}).status_code == 405
    assert store.head() == head
    assert RoleGrant.objects.filter(user__username="mgx.reader").count() == 1
    assert ApiClient.objects.count() == 1
