"""The landing page and a consortium's dashboard, live and as of, through the test client.

Links to rooms other than the dashboards (history, forms, projections) are optional here:
a page renders without them, and no test depends on them.
"""

import datetime as dt
import html
import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import NoReverseMatch, reverse

from consortium.admin import dashboard_rows
from consortium.models import RoleGrant
from consortium.projections import asof
from ledger.models import ProjectionState
from ledger.projections import registry, runner
from ledger.store import head

pytestmark = pytest.mark.django_db


def catch_up() -> None:
    """Every registered projection (tests may have registered their own) to the head."""
    for name in registry.names():
        runner.catch_up(name)


@pytest.fixture
def demo() -> None:
    call_command("seed_demo", stdout=StringIO())
    catch_up()


def person(username: str, *grants: tuple[str, str], superuser: bool = False):
    user = get_user_model().objects.create_user(
        username, password="pw", is_staff=True, is_superuser=superuser
    )
    for role, consortium in grants:
        RoleGrant.objects.create(user=user, role=role, consortium=consortium)
    return user


def signed_in(client, user):
    client.force_login(user)
    return client


def text(response) -> str:
    """The page's visible words, tags dropped and spaces collapsed."""
    body = response.content.decode()
    body = re.sub(r"<script.*?</script>|<style.*?</style>", " ", body, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def dashboard(slug: str) -> str:
    return reverse("admin:workspace-consortium", args=[slug])


# --- the landing page ---------------------------------------------------------------------


def test_the_landing_page_shows_each_consortium_the_user_may_read_with_its_targets(client, demo):
    page = signed_in(client, person("ann", ("deal_team", "aip"))).get(reverse("admin:index"))
    assert page.status_code == 200
    words = text(page)
    assert "AI Infrastructure Partnership" in words
    assert "Stargate" not in words  # no role there
    # AIP: USD 22 bn signed of the USD 30 bn equity target; 43 bn of the 100 bn total.
    assert "Equity target USD 30.0 bn" in words
    assert "USD 22.0 bn · 73.33 %" in words
    assert "Total target USD 100.0 bn" in words
    assert "USD 43.0 bn · 43.00 %" in words
    assert f'href="{dashboard("aip")}"' in page.content.decode()


def test_a_global_grant_sees_every_consortium(client, demo):
    page = signed_in(client, person("bea", ("auditor", ""))).get(reverse("admin:index"))
    words = text(page)
    assert "AI Infrastructure Partnership" in words
    assert "Total target USD 500.0 bn by 2029-12-31" in words
    assert "USD 45.0 bn · 9.00 %" in words  # Stargate signed of 500 bn


def test_a_superuser_without_grants_is_told_why_the_page_is_empty(client, demo):
    page = signed_in(client, person("root", superuser=True)).get(reverse("admin:index"))
    assert page.status_code == 200
    words = text(page)
    assert "a superuser without a role in any consortium" in words
    assert "manage.py grant_role root deal_team" in words
    assert "AI Infrastructure Partnership" not in words


def test_the_landing_page_names_a_projection_that_is_behind_or_stopped(client, demo):
    user = person("cy", ("deal_team", ""))
    assert "projection is" not in text(signed_in(client, user).get(reverse("admin:index")))
    last = head()
    ProjectionState.objects.filter(name="ownership").update(checkpoint=last - 3)
    ProjectionState.objects.filter(name="consortium").update(
        error_position=last - 1, last_error="ValueError: bad event"
    )
    words = text(client.get(reverse("admin:index")))
    assert f"The ownership projection is 3 events behind the ledger (position {last - 3:,}" in (
        words
    )
    assert f"The consortium projection is stopped at position {last - 1:,}: ValueError" in words


# --- a consortium's dashboard -----------------------------------------------------------------


def test_a_consortium_outside_the_users_roles_is_refused(client, demo):
    user = signed_in(client, person("dee", ("finance", "aip")))
    assert user.get(dashboard("aip")).status_code == 200
    assert user.get(dashboard("stargate")).status_code == 403


def test_an_unknown_consortium_is_not_found(client, demo):
    user = signed_in(client, person("eve", ("deal_team", "")))
    assert user.get(dashboard("nowhere")).status_code == 404


def test_the_aip_dashboard_shows_targets_partners_calls_debt_and_assets(client, demo):
    page = signed_in(client, person("fay", ("auditor", "aip"))).get(dashboard("aip"))
    assert page.status_code == 200
    words = text(page)
    # Targets: signed, called and contributed against each.
    assert "Equity target: USD 30.0 bn" in words
    assert "Called USD 4.4 bn · 14.67 %" in words
    assert "Contributed USD 3.8 bn · 12.67 %" in words
    # The pipeline: MGX-sized soft circle of xAI (3 bn) and Microsoft's indicated 2 bn.
    assert "Equity 0.00 3,000,000,000.00 22,000,000,000.00" in words
    assert "Corporate partnerships 2,000,000,000.00 0.00 0.00" in words
    # Partners: BlackRock paid 1.0 bn of its 1.6 bn on the call due 2025-03-14: overdue.
    row = re.search(
        r'<tr class="ws-overdue-row" data-partner="blackrock-gip">.*?</tr>',
        page.content.decode(),
        re.S,
    )
    assert row is not None
    assert "600,000,000.00" in row.group(0)
    # Unfunded 17.6 bn + MGX's 0.1 bn recallable (the demo's aip-dist-1).
    assert "Total 22,000,000,000.00 4,400,000,000.00 3,800,000,000.00 17,700,000,000.00" in words
    # --- distributions: 1.0 bn paid, 2.8 bn net invested, DPI 1.0 / 3.8 = 0.26x ---
    assert (
        "Distributions paid 1,000,000,000.00 · net invested capital 2,800,000,000.00 · "
        "DPI 0.26x" in words
    )
    assert "MGX 315,789,473.68 315,789,473.68 100,000,000.00 884,210,526.32 0.26x" in words
    # The open call, its state and due date.
    assert "aip-call-1" in words and "Partly paid · overdue" in words and "2025-03-14" in words
    # The term loan: 20 bn arranged, 5 bn drawn, 15 bn available, maturing 2032-12-31.
    assert (
        "aip-senior-term-loan Senior lender syndicate (illustrative) Term USD "
        "20,000,000,000.00 5,000,000,000.00 0.00 5,000,000,000.00 15,000,000,000.00 2032-12-31"
    ) in words
    # Assets sponsored, with direct and look-through ownership (Microsoft: 20 % direct).
    assert "AIP Campus Virginia (illustrative)" in words
    assert "Microsoft 20.00 % 29.09 % 49.09 %" in words
    assert "Stargate Abilene" not in words
    # The chart's data, from the monthly rows, in billions.
    assert '"labels": ["2024-10", "2024-11", "2024-12"' in html.unescape(page.content.decode())


def test_the_stargate_dashboard_shows_its_tranches(client, demo):
    page = signed_in(client, person("gus", ("deal_team", "stargate"))).get(dashboard("stargate"))
    words = text(page)
    assert "Total target: USD 500.0 bn by 2029-12-31" in words
    # 100 bn now, then 100 bn a year for four years; 45 bn signed fill the first tranche.
    assert (
        "Tranche 1 total 2025-01-21 available 100,000,000,000.00 100,000,000,000.00 "
        "45,000,000,000.00 0.00 0.00"
    ) in words
    assert "Tranche 5 total 2029-01-21 100,000,000,000.00 500,000,000,000.00 0.00" in words
    assert "No debt facility arranged." in words
    assert "Stargate Abilene (illustrative)" in words


def test_a_dashboard_renders_without_the_other_rooms_links(client, demo, monkeypatch):
    """The history, forms and projections pages belong to other rooms: without them the
    page renders, with no link to them."""
    real = reverse

    def without_rooms(name, *args, **kwargs):
        if name != "admin:workspace-consortium" and name.startswith("admin:workspace-"):
            raise NoReverseMatch(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(dashboard_rows, "reverse", without_rooms)
    page = signed_in(client, person("hal", ("deal_team", ""))).get(dashboard("aip"))
    assert page.status_code == 200
    assert 'id="ws-record"' not in page.content.decode()
    assert 'id="ws-history"' not in page.content.decode()
    assert dashboard_rows.url("admin:workspace-journal") is None
    assert dashboard_rows.url("admin:index") == reverse("admin:index")


def test_links_to_history_and_forms_when_those_rooms_exist(client, demo, monkeypatch):
    def rooms(name, *args, **kwargs):
        return f"/{name.removeprefix('admin:')}/{'/'.join(map(str, kwargs.get('args') or ()))}"

    monkeypatch.setattr(dashboard_rows, "reverse", rooms)
    body = (
        signed_in(client, person("ida", ("deal_team", "aip")))
        .get(dashboard("aip"))
        .content.decode()
    )
    assert 'href="/workspace-journal/?consortium=aip&amp;partner=mgx"' in body
    assert 'href="/workspace-journal/?consortium=aip"' in body
    assert 'href="/workspace-commands/aip"' in body


# --- as of --------------------------------------------------------------------------------------


def test_the_as_of_view_is_folded_from_the_ledger_and_labelled_historical(client, demo):
    user = signed_in(client, person("jo", ("deal_team", "aip")))
    position = head()
    page = user.get(dashboard("aip"), {"on": "2025-03-01", "known_at": str(position)})
    assert page.status_code == 200
    words = text(page)
    assert f"As of 2025-03-01, as known at position {position:,}: historical view" in words
    assert "Back to live" in words
    # On 1 March 2025 the call was issued and unpaid; nothing was overdue yet.
    assert "Contributed USD 0.00 · 0.00 %" in words
    assert "Issued: unpaid" in words
    assert "Overdue on 2025-03-01 USD 0.00" in words
    # Only the virginia campus was registered by then (the plant on 2025-02-01 too).
    assert "AIP Campus Virginia" in words


def test_as_known_at_an_earlier_position_ignores_what_was_recorded_after(client, demo):
    user = signed_in(client, person("kim", ("deal_team", "")))
    # The 16th event: the AIP's 16th command; its facility (the 17th) was not arranged yet.
    words = text(user.get(dashboard("aip"), {"known_at": "16"}))
    assert "As known at position 16: historical view" in words
    assert "No debt facility arranged." in words
    assert "aip-senior-term-loan" in text(user.get(dashboard("aip"), {"known_at": "17"}))
    known = asof.recorded_at_position(16)
    assert known is not None
    moment = known.isoformat()
    assert "As known at" in text(user.get(dashboard("aip"), {"known_at": moment}))


def test_as_of_before_formation_says_so_and_shows_live(client, demo):
    user = signed_in(client, person("lee", ("deal_team", "")))
    page = user.get(dashboard("stargate"), {"on": "2024-12-31"})
    assert page.status_code == 400
    assert "the consortium was not formed yet: showing it live" in text(page)


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"on": "31/12/2025"}, "“31/12/2025” is not a date: write it as YYYY-MM-DD."),
        ({"known_at": "99999"}, "Position 99,999 is not in the ledger"),
        ({"known_at": "yesterday"}, "“yesterday” is neither a ledger position nor a date"),
    ],
)
def test_a_bad_as_of_is_refused_in_words(client, demo, query, error):
    page = signed_in(client, person("max", ("deal_team", ""))).get(dashboard("aip"), query)
    assert page.status_code == 400
    assert error in text(page)
    assert "historical view" not in text(page)


def test_as_of_parameters_parse():
    def head_() -> int:
        return 0

    view, errors = dashboard_rows.parse_as_of({"on": "2025-06-30"}, head=head_)
    assert errors == [] and view is not None
    assert view.label == "As of 2025-06-30"
    view, errors = dashboard_rows.parse_as_of({"known_at": "2025-07-01T09:00"}, head=head_)
    assert view is not None and view.known_at == dt.datetime(2025, 7, 1, 9, tzinfo=dt.UTC)
    assert view.label == "As known at 2025-07-01 09:00:00 UTC"
    view, _ = dashboard_rows.parse_as_of({"known_at": "2025-07-01"}, head=head_)
    assert view is not None and view.known_at == dt.datetime(
        2025, 7, 1, 23, 59, 59, 999999, tzinfo=dt.UTC
    )
    assert dashboard_rows.parse_as_of({}, head=head_) == (None, [])


def test_an_assets_smallest_look_through_owners_are_summed_in_one_line():
    from decimal import Decimal

    from consortium.projections.figures import AssetRow, LookThroughRow, Ownership

    owners = [
        LookThroughRow(f"org-{i:02d}", Decimal(0), Decimal(i + 1), Decimal(i + 1))
        for i in range(15)
    ]
    asset = AssetRow(
        "dc", "aip", "data_centre", "DC", "Here", Decimal(1), "USD", 100, Decimal(120),
        Decimal(120),
    )  # fmt: skip
    (row,) = dashboard_rows.asset_rows([Ownership(asset, (), tuple(owners))], {"org-14": "Big"})
    shown = [(r["name"], r["total"]) for r in row["look_through"]]
    assert shown[0] == ("Big", Decimal(15))
    assert len(shown) == dashboard_rows.LOOK_THROUGH_SHOWN
    assert (row["others"], row["others_percent"]) == (3, Decimal(1 + 2 + 3))


@pytest.mark.parametrize(
    ("minor", "currency"),
    [(0, "USD"), (5, "USD"), (123456789012, "USD"), (-250, "EUR"), (1234567, "JPY")],
)
def test_a_tables_figure_is_the_exact_amount_without_its_currency(minor, currency):
    from consortium import formatting

    exact = formatting.exact_minor(minor, currency)
    assert dashboard_rows.figure(minor, currency) == exact.removeprefix(f"{currency} ")
