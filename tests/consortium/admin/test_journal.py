"""The history: the ledger read like a journal, filtered, paged and scoped by roles."""

import datetime as dt
import re
from decimal import Decimal
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from consortium import services as s
from consortium.admin.journal import PAGE, first_position_recorded_from
from ledger.models import Event
from ledger.store import NewEvent, append, head
from tests.consortium.conftest import usd

pytestmark = pytest.mark.django_db
JOURNAL = "/admin/history/"


@pytest.fixture
def two_consortia(formed, issued_call, alice, bob):
    """aip (mgx 600 / microsoft 400, call-1 issued 300 / 200) and stargate (openai,
    oracle); bob approved and issued the call, alice did everything else."""
    formed("stargate", {"openai": "700.00", "oracle": "300.00"})
    s.contribution_receive(
        actor=bob,
        slug="aip",
        contribution_id="c-1",
        call_id="call-1",
        organisation_id="mgx",
        amount=usd("300.00"),
        received_on=dt.date(2025, 2, 20),
        bank_reference="REF-1",
    )
    return ("aip", "stargate")


def positions(page) -> list[int]:
    """The event positions a journal page lists, in its order."""
    found = re.findall(r'href="/admin/history/(\d+)/">\d+</a>', page.content.decode())
    return [int(p) for p in found]


def expected(**lookups) -> list[int]:
    return list(
        Event.objects.filter(**lookups).order_by("-position").values_list("position", flat=True)
    )


@pytest.fixture
def deal_team(make_user, signed_in):
    return signed_in(make_user("dora", ("deal_team", "")))


def test_the_journal_reads_newest_first_in_words(two_consortia, deal_team):
    page = deal_team.get(reverse("admin:workspace-journal"))
    assert page.status_code == 200
    assert positions(page) == expected()
    body = page.content.decode()
    assert "Mgx paid USD 300.00 on capital call call-1, received 2025-02-20 (ref. REF-1)" in body
    assert "Capital call call-1 approved by bob" in body
    assert body.index("Openai committed USD 700.00 equity, signed") < body.index(
        "Mgx committed USD 600.00 equity, signed"
    )
    assert "2025-02-20" in body and ">bob</a>" in body


@pytest.mark.parametrize(
    ("query", "lookups"),
    [
        ("consortium=stargate", {"stream": "consortium-stargate"}),
        ("type=PartnerAdmitted", {"type": "PartnerAdmitted"}),
        ("actor=bob", {"metadata__actor": "bob"}),
        ("effective_from=2025-02-02", {"effective_on__gte": dt.date(2025, 2, 2)}),
        ("effective_to=2025-02-01", {"effective_on__lte": dt.date(2025, 2, 1)}),
        ("q=REF-1", {"type": "ContributionReceived"}),
        ("q=call-1", {"data__call_id": "call-1"}),
    ],
)
def test_each_filter_narrows(two_consortia, deal_team, query, lookups):
    shown = positions(deal_team.get(f"{JOURNAL}?{query}"))
    assert shown == expected(**lookups)
    assert 0 < len(shown) < Event.objects.count()


def test_filters_combine(two_consortia, deal_team):
    shown = positions(deal_team.get(f"{JOURNAL}?consortium=aip&type=PartnerAdmitted"))
    assert shown == expected(stream="consortium-aip", type="PartnerAdmitted")
    assert len(shown) == 2


def test_the_partner_filter_finds_what_concerns_the_partner(two_consortia, deal_team):
    shown = positions(deal_team.get(f"{JOURNAL}?partner=mgx"))
    kinds = list(
        Event.objects.filter(position__in=shown)
        .order_by("-position")
        .values_list("type", flat=True)
    )
    # admitted, its commitment, the call issued with a share for it, its contribution
    assert kinds == [
        "ContributionReceived",
        "CapitalCallIssued",
        "CommitmentRecorded",
        "PartnerAdmitted",
    ]
    assert positions(deal_team.get(f"{JOURNAL}?partner=oracle&consortium=aip")) == []
    assert len(positions(deal_team.get(f"{JOURNAL}?partner=oracle"))) == 2


def test_the_partner_filter_sees_stakes_held_directly(formed, alice, deal_team):
    formed("aip")
    s.asset_register(
        actor=alice,
        asset_id="dc-1",
        sponsor="aip",
        kind="data_centre",
        name="Campus One",
        location="Loudoun County, VA, US",
        capacity_mw=Decimal("100"),
        estimated_cost=usd("1000000.00"),
        effective_on=dt.date(2025, 2, 1),
    )
    from consortium.domain.money import Percent
    from consortium.domain.values import Holder

    s.stake_acquire(
        actor=alice, asset_id="dc-1", holder=Holder.organisation("mgx"),
        percent=Percent.of("20"), effective_on=dt.date(2025, 2, 2),
    )  # fmt: skip
    s.stake_acquire(
        actor=alice, asset_id="dc-1", holder=Holder.consortium("aip"),
        percent=Percent.of("80"), effective_on=dt.date(2025, 2, 2),
    )  # fmt: skip
    shown = positions(deal_team.get(f"{JOURNAL}?partner=mgx"))
    assert shown[0] == Event.objects.get(type="StakeAcquired", data__percent="20").position
    assert len(shown) == 3  # the stake, the commitment, the admission
    # the consortium's history covers the assets it sponsors
    aip = positions(deal_team.get(f"{JOURNAL}?consortium=aip"))
    assert aip == expected()


def test_recorded_dates_are_position_bounds(two_consortia, deal_team):
    today = timezone.now().astimezone(dt.UTC).date()
    everything = expected()
    assert (
        positions(deal_team.get(f"{JOURNAL}?recorded_from={today}&recorded_to={today}"))
        == everything
    )
    tomorrow, yesterday = today + dt.timedelta(days=1), today - dt.timedelta(days=1)
    assert positions(deal_team.get(f"{JOURNAL}?recorded_from={tomorrow}")) == []
    assert positions(deal_team.get(f"{JOURNAL}?recorded_to={yesterday}")) == []


def test_bisection_finds_the_first_event_recorded_from_a_moment(two_consortia):
    stamps = dict(Event.objects.values_list("position", "recorded_at"))
    for position in range(1, head() + 1):
        found = first_position_recorded_from(stamps[position])
        assert stamps[found] >= stamps[position] and found <= position
        assert found == 1 or stamps[found - 1] < stamps[position]
    later = stamps[head()] + dt.timedelta(microseconds=1)
    assert first_position_recorded_from(later) == head() + 1


def test_pages_by_position_older_and_newer(formed, alice, deal_team):
    formed("aip")
    for number in range(PAGE + 10):  # more than a page
        s.partner_admit(
            actor=alice, slug="aip", organisation_id=f"org-{number}", name=f"Org {number}",
            role="member", effective_on=dt.date(2025, 1, 7),
        )  # fmt: skip
    first = deal_team.get(JOURNAL)
    top = positions(first)
    assert top == expected()[:PAGE]
    older_link = re.search(r'href="\?([^"]+)">Older', first.content.decode())
    assert older_link and "Newer" not in first.content.decode()
    second = deal_team.get(f"{JOURNAL}?{older_link.group(1).replace('&amp;', '&')}")
    assert positions(second) == expected()[PAGE:]
    body = second.content.decode()
    assert "Older" not in body
    newer_link = re.search(r'href="\?([^"]+)">. Newer', body)
    assert newer_link
    back = deal_team.get(f"{JOURNAL}?{newer_link.group(1).replace('&amp;', '&')}")
    assert positions(back) == top


def test_a_consortium_scoped_user_never_sees_another_consortium(
    two_consortia, make_user, signed_in
):
    client = signed_in(make_user("audrey", ("auditor", "aip")))
    assert positions(client.get(JOURNAL)) == expected(stream="consortium-aip")
    refused = client.get(f"{JOURNAL}?consortium=stargate")
    assert positions(refused) == [] and "Select a valid choice" in refused.content.decode()
    assert positions(client.get(f"{JOURNAL}?partner=openai")) == []
    stargate = Event.objects.filter(stream="consortium-stargate").earliest("position")
    assert client.get(f"{JOURNAL}{stargate.position}/").status_code == 404
    # the ledger's own admin is ruled by the same scope
    raw = client.get("/admin/ledger/event/")
    assert raw.status_code == 200
    assert (
        "consortium-aip" in raw.content.decode()
        and "consortium-stargate" not in raw.content.decode()
    )
    assert client.get(f"/admin/ledger/event/{stargate.position}/change/").status_code == 302


def test_a_partner_user_is_refused(two_consortia, make_user, signed_in):
    client = signed_in(make_user("pat", ("partner:mgx", "aip")))
    for url in (JOURNAL, f"{JOURNAL}1/", "/admin/ledger/event/"):
        answer = client.get(url)
        assert answer.status_code == 302 and "/admin/login/" in answer["Location"]


def test_a_staff_user_without_a_grant_cannot_read_the_raw_ledger(
    two_consortia, make_user, signed_in
):
    client = signed_in(make_user("stan"))
    assert client.get("/admin/ledger/event/").status_code == 302


def test_access_changes_are_for_superusers_only(two_consortia, make_user, signed_in, client):
    created = NewEvent("AccessChanged", {"action": "user_created", "user": "carol"})
    append("access", [created], expected_version=0, metadata={"actor": "root"})
    access = Event.objects.get(stream="access").position
    auditor = signed_in(make_user("ada", ("auditor", "")))
    assert access not in positions(auditor.get(JOURNAL))
    assert auditor.get(f"{JOURNAL}{access}/").status_code == 404
    raw = auditor.get("/admin/ledger/event/?stream=access").content.decode()
    assert f"/admin/ledger/event/{access}/change/" not in raw
    assert auditor.get("/admin/ledger/event/").status_code == 200
    root = signed_in(make_user("root", superuser=True))
    page = root.get(JOURNAL)
    assert positions(page)[0] == access and "User carol was created" in page.content.decode()
    assert positions(root.get(f"{JOURNAL}?type=AccessChanged")) == [access]
    raw = root.get("/admin/ledger/event/?stream=access").content.decode()
    assert f"/admin/ledger/event/{access}/change/" in raw


def test_the_event_page_shows_data_metadata_and_hash(two_consortia, deal_team):
    event = Event.objects.get(type="ContributionReceived")
    page = deal_team.get(reverse("admin:workspace-event", args=[event.position]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Mgx paid USD 300.00 on capital call call-1" in body
    assert event.hash in body and event.prev_hash in body
    assert "&quot;bank_reference&quot;: &quot;REF-1&quot;" in body
    assert "&quot;actor&quot;: &quot;bob&quot;" in body
    previous = Event.objects.get(stream=event.stream, version=event.version - 1)
    assert reverse("admin:workspace-event", args=[previous.position]) in body
    assert "Next in this stream" not in body  # the contribution is the stream's last event
    assert f"/admin/ledger/event/?stream={event.stream}" in body
    assert deal_team.get(reverse("admin:workspace-event", args=[head() + 1])).status_code == 404


def test_bad_filters_say_so_and_list_nothing(two_consortia, deal_team):
    page = deal_team.get(f"{JOURNAL}?effective_from=not-a-date")
    assert page.status_code == 200
    assert positions(page) == [] and "Enter a valid date" in page.content.decode()


def _walk(client, query: str, direction: str = "Older") -> list[list[int]]:
    """Every page from ``query`` on, following the older (or newer) links."""
    pages = []
    url = f"{JOURNAL}?{query}"
    for _ in range(100):
        answer = client.get(url)
        pages.append(positions(answer))
        link = re.search(rf'href="\?([^"]+)">[^<]*{direction}', answer.content.decode())
        if not link:
            return pages
        url = f"{JOURNAL}?{unescape(link.group(1))}"
    raise AssertionError("the links never end")


def test_unindexed_filters_read_a_window_at_a_time(two_consortia, deal_team, monkeypatch):
    from consortium.admin import journal

    monkeypatch.setattr(journal, "WINDOW", 4)
    pages = _walk(deal_team, "actor=bob")
    assert [p for page in pages for p in page] == expected(metadata__actor="bob")
    assert [] in pages  # some windows hold no match, and link on all the same
    assert all(len(page) <= 4 for page in pages)
    body = deal_team.get(f"{JOURNAL}?actor=bob").content.decode()
    assert f"this page: {head() - 3} to {head()}" in body
    # and back, newest first again, from the oldest window
    oldest = deal_team.get(f"{JOURNAL}?actor=bob&before=1").content.decode()
    assert "Newer" in oldest
    back = _walk(deal_team, "actor=bob&before=1", "Newer")
    assert sorted(p for page in back for p in page) == sorted(expected(metadata__actor="bob"))


def test_indexed_filters_page_without_a_window(two_consortia, deal_team, monkeypatch):
    from consortium.admin import journal

    monkeypatch.setattr(journal, "WINDOW", 4)
    monkeypatch.setattr(journal, "PAGE", 3)
    pages = _walk(deal_team, "type=PartnerAdmitted")
    assert [len(page) for page in pages] == [3, 1]
    assert [p for page in pages for p in page] == expected(type="PartnerAdmitted")
