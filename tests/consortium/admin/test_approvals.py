"""The maker-checker queue: calls awaiting approval with their allocation, approved calls
awaiting issue, and no approve button for the preparer or a reader."""

import datetime as dt
import re
from html import unescape

import pytest
from django.urls import reverse

from consortium import services as s
from consortium.admin.approvals import awaiting_approval, command_link
from consortium.admin.navigation import sidebar
from ledger.projections.runner import catch_up_all
from tests.consortium.conftest import usd

pytestmark = pytest.mark.django_db
QUEUE = "/admin/approvals/"


@pytest.fixture
def carol(make_user):
    """A deal-team member who prepares calls."""
    return make_user("carol", ("deal_team", ""))


@pytest.fixture
def draft(formed, carol):
    """aip: mgx signed 6,000,000.00 and microsoft 4,000,000.00; carol prepared a call of
    1,000,000.00 (draft)."""
    formed("aip", {"mgx": "6000000.00", "microsoft": "4000000.00"})
    s.capital_call_prepare(
        actor=s.Actor(carol),
        slug="aip",
        call_id="Q1-2026",
        amount=usd("1000000.00"),
        due_on=dt.date(2999, 3, 31),
        purpose="Land for the first campus",
        effective_on=dt.date(2025, 2, 1),
    )
    return "Q1-2026"


def allocation_rows(body: str) -> list[tuple[str, str]]:
    """(partner id, allocation) per row of the allocation tables, in order."""
    rows = re.findall(
        r'<span class="text-xs text-base-500">([\w-]+)</span></td>.*?'
        r'font-semibold">([^<]+)</td>',
        body,
        flags=re.S,
    )
    return [(org, unescape(amount)) for org, amount in rows]


def test_a_draft_is_listed_with_its_allocation_per_partner(draft, make_user, signed_in):
    client = signed_in(make_user("dora", ("deal_team", "")))
    page = client.get(reverse("admin:workspace-approvals"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Capital call Q1-2026" in body and "USD 1,000,000.00" in body
    assert "2999-03-31" in body and "Land for the first campus" in body and "by carol" in body
    # 600/400 signed: 1,000,000.00 splits 600,000.00 / 400,000.00 (hand-checked)
    assert allocation_rows(body) == [("mgx", "USD 600,000.00"), ("microsoft", "USD 400,000.00")]
    assert "Awaiting approval (1)" in body and "Approved, awaiting issue (0)" in body


def test_the_allocation_rounds_by_largest_remainder(formed, carol, make_user, signed_in):
    formed("aip", {"a-org": "1.00", "b-org": "1.00", "c-org": "1.00"})
    s.capital_call_prepare(
        actor=s.Actor(carol), slug="aip", call_id="odd", amount=usd("1.00"),
        due_on=dt.date(2999, 1, 1), purpose="Fees", effective_on=dt.date(2025, 2, 1),
    )  # fmt: skip
    body = signed_in(make_user("dora", ("deal_team", ""))).get(QUEUE).content.decode()
    # thirds of a dollar: 33 cents each and the odd cent to the lowest id
    assert allocation_rows(body) == [
        ("a-org", "USD 0.34"),
        ("b-org", "USD 0.33"),
        ("c-org", "USD 0.33"),
    ]


def test_the_preparer_sees_no_approve_button(draft, carol, signed_in):
    body = signed_in(carol).get(QUEUE).content.decode()
    assert "Prepared by you: another person must approve." in body
    assert "ws-action" not in body


def test_another_deal_team_member_may_approve(draft, make_user, signed_in):
    body = signed_in(make_user("dora", ("deal_team", ""))).get(QUEUE).content.decode()
    assert "Prepared by you" not in body
    link = command_link("aip", "capital-call-approve", call_id=draft)
    if link is None:  # the approve form is another room's; without it, no button at all
        assert "ws-action" not in body
    else:
        assert f'href="{link.replace("&", "&amp;")}">Approve</a>' in body
        assert link.endswith("?call_id=Q1-2026")


def test_a_reader_sees_the_queue_without_buttons(draft, make_user, signed_in):
    body = signed_in(make_user("audrey", ("auditor", ""))).get(QUEUE).content.decode()
    assert "Capital call Q1-2026" in body and allocation_rows(body)
    assert "ws-action" not in body and "Prepared by you" not in body


def test_a_consortium_scoped_user_sees_only_its_consortia(
    draft, formed, carol, make_user, signed_in
):
    formed("stargate", {"openai": "7000000.00"})
    s.capital_call_prepare(
        actor=s.Actor(carol), slug="stargate", call_id="SG-1", amount=usd("10.00"),
        due_on=dt.date(2999, 1, 1), purpose="Fees", effective_on=dt.date(2025, 2, 1),
    )  # fmt: skip
    scoped = make_user("sam", ("deal_team", "stargate"))
    body = signed_in(scoped).get(QUEUE).content.decode()
    assert "SG-1" in body and "Q1-2026" not in body
    catch_up_all()
    assert awaiting_approval(scoped) == 1


def test_approved_calls_wait_for_issue_with_an_issue_link(draft, make_user, signed_in):
    dora = make_user("dora", ("deal_team", ""))
    s.capital_call_approve(
        actor=s.Actor(dora), slug="aip", call_id=draft, effective_on=dt.date(2025, 2, 2)
    )
    body = signed_in(dora).get(QUEUE).content.decode()
    assert "Awaiting approval (0)" in body and "Approved, awaiting issue (1)" in body
    assert "by dora, effective 2025-02-02" in body
    assert allocation_rows(body) == [("mgx", "USD 600,000.00"), ("microsoft", "USD 400,000.00")]
    link = command_link("aip", "capital-call-issue", call_id=draft)
    if link is not None:
        assert f'href="{link.replace("&", "&amp;")}">Issue</a>' in body


def test_a_call_that_could_not_be_issued_now_says_why(draft, alice, make_user, signed_in):
    for org, amount in (("mgx", "100.00"), ("microsoft", "200.00")):
        s.commitment_amend(
            actor=alice, slug="aip", commitment_id=f"aip-{org}", amount=usd(amount),
            effective_on=dt.date(2025, 2, 3),
        )  # fmt: skip
    body = signed_in(make_user("dora", ("deal_team", ""))).get(QUEUE).content.decode()
    assert (
        "If issued now it would be refused: The total unfunded equity is USD 300.00; "
        "a call of USD 1,000,000.00 exceeds it." in unescape(body)
    )
    assert not allocation_rows(body)


def test_the_sidebar_badge_counts_calls_awaiting_approval(draft, make_user, rf):
    catch_up_all()
    request = rf.get("/admin/")
    request.user = make_user("dora", ("deal_team", ""))
    items = [item for group in sidebar(request) for item in group["items"]]
    approvals = next(item for item in items if item["title"] == "Approvals")
    assert approvals["badge"] == "1"
    request.user = make_user("nobody-here", ("auditor", "stargate"))
    items = [item for group in sidebar(request) for item in group["items"]]
    assert "badge" not in next(item for item in items if item["title"] == "Approvals")


def test_the_badge_is_on_every_workspace_page(draft, make_user, signed_in):
    catch_up_all()
    body = signed_in(make_user("dora", ("deal_team", ""))).get("/admin/history/").content.decode()
    assert re.search(r"<span>Approvals</span>\s*<span[^>]*>\s*1\s*</span>", body)
