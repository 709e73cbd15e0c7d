"""What a form does around the service call: pickers and suggestions from the current
state, prefilled fields, a stale form asked to confirm, a double submit recorded once,
and the success message naming what was recorded."""

import re

from django.contrib.messages import get_messages
from django.urls import reverse

from consortium import services as s
from consortium.domain.events import CommitmentAmended, event_from_stored
from consortium.narration import describe, names_for
from ledger import store
from tests.consortium.admin.commands_support import form_url
from tests.consortium.conftest import usd

MAY = "2025-05-01"


def _choices(response, field: str) -> list[str]:
    return [value for value, _ in response.context["form"].fields[field].choices if value]


def test_pickers_offer_what_the_command_accepts(world, browser_for):
    browser = browser_for("deal_team")

    def offered(command: str, field: str, asset: str | None = None) -> list[str]:
        return _choices(browser.get(form_url(command, asset=asset)), field)

    assert offered("capital-call-approve", "call_id") == ["call-2"]
    assert offered("capital-call-issue", "call_id") == ["call-3"]
    assert offered("capital-call-cancel", "call_id") == ["call-2", "call-3"]
    assert offered("contribution-receive", "call_id") == ["call-1"]
    assert offered("contribution-reverse", "contribution_id") == ["c-1"]
    assert offered("facility-repay", "facility_id") == ["f-1"]
    assert offered("commitment-amend", "commitment_id") == ["aip-mgx", "aip-mgx-2", "aip-microsoft"]
    assert offered("partner-withdraw", "organisation_id") == ["banks", "mgx", "microsoft", "nvidia"]
    assert offered("commitment-record", "currency") == ["USD", "EUR"]
    assert offered("stake-sell", "holder", "dc-1") == ["consortium:aip", "organisation:microsoft"]
    holders = offered("stake-acquire", "holder", "dc-1")
    assert holders[:2] == ["consortium:aip", "consortium:sg"]
    assert "organisation:openai" in holders  # a partner of another consortium


def test_ids_for_new_things_are_suggested(world, browser_for):
    browser = browser_for("deal_team")

    def suggested(command: str, field: str) -> str:
        return str(browser.get(form_url(command)).context["form"].initial[field])

    assert suggested("capital-call-prepare", "call_id") == "aip-call-4"
    assert suggested("commitment-record", "commitment_id") == "aip-commitment-4"
    assert suggested("contribution-receive", "contribution_id") == "aip-contribution-2"
    assert suggested("facility-arrange", "facility_id") == "aip-facility-2"
    assert suggested("facility-draw", "draw_id") == "aip-draw-2"
    assert suggested("facility-repay", "repayment_id") == "aip-repayment-1"
    assert suggested("asset-register", "asset_id") == "aip-asset-2"


def test_get_parameters_prefill_the_form(world, browser_for):
    browser = browser_for("deal_team")
    response = browser.get(form_url("capital-call-approve") + "?call_id=call-2&token=forged")
    form = response.context["form"]
    assert form.initial["call_id"] == "call-2"
    assert form.initial["token"] != "forged"
    assert re.search(r'<option value="call-2"[^>]*selected', response.content.decode())


def test_a_stake_form_asks_for_its_asset_first(world, browser_for):
    browser = browser_for("deal_team")
    response = browser.get(form_url("stake-sell"))
    assert response.status_code == 200
    assert _choices(response, "asset_id") == ["dc-1"]
    assert 'method="get"' in response.content.decode()
    elsewhere = browser.get(form_url("stake-sell", "sg", asset="dc-1"))
    assert (
        "No asset 'dc-1' is sponsored by Stargate; choose one." in elsewhere.context["top_errors"]
    )


def test_a_stale_form_asks_to_confirm_and_records_only_then(world, browser_for, bob):
    browser = browser_for("deal_team")
    url = form_url("commitment-amend")
    form = browser.get(url).context["form"]
    fields = {
        "token": form.initial["token"],
        "version": form.initial["version"],
        "commitment_id": "aip-mgx",
        "amount": "650",
        "effective_on": MAY,
    }
    # Meanwhile, someone else changes the consortium.
    s.commitment_record(
        actor=bob,
        slug="aip",
        commitment_id="aip-microsoft-2",
        organisation_id="microsoft",
        instrument="equity",
        amount=usd("80.00"),
        stage="signed",
    )
    [change] = store.read_all(after=store.head() - 1)
    head = store.head()

    asked = browser.post(url, fields)

    assert asked.status_code == 200
    assert store.head() == head  # nothing recorded
    html = asked.content.decode()
    assert "this changed since you opened the form" in html
    assert describe(change, names_for(["aip"])) in html
    assert "Confirm and record" in html
    confirm = asked.context["form"]
    assert confirm.data["version"] == str(form.initial["version"] + 1)
    assert confirm.data["token"] == fields["token"]

    recorded = browser.post(url, dict(confirm.data.items()))

    assert recorded.status_code == 302
    [event] = store.read_all(after=head)
    assert event_from_stored(event.type, event.data) == CommitmentAmended(
        "aip-mgx", usd("650.00"), usd("650.00"), None
    )


def test_a_change_between_confirm_and_submit_asks_again(world, browser_for, bob):
    browser = browser_for("deal_team")
    url = form_url("capital-call-cancel")
    form = browser.get(url).context["form"]
    fields = {
        "token": form.initial["token"],
        "version": form.initial["version"],
        "call_id": "call-2",
        "reason": "Not needed",
    }
    s.partner_admit(actor=bob, slug="aip", organisation_id="xai", name="xAI", role="member")
    confirm = browser.post(url, fields).context["form"]
    s.partner_admit(actor=bob, slug="aip", organisation_id="oracle", name="Oracle", role="member")
    head = store.head()

    again = browser.post(url, dict(confirm.data.items()))

    assert again.status_code == 200
    assert store.head() == head
    [oracle] = store.read_all(after=head - 1)
    assert describe(oracle, names_for(["aip"])) in again.content.decode()
    assert again.context["form"].data["version"] == str(form.initial["version"] + 2)


def test_a_double_submit_records_once_and_answers_the_same(world, browser_for):
    browser = browser_for("deal_team")
    url = form_url("capital-call-prepare")
    form = browser.get(url).context["form"]
    fields = {
        "token": form.initial["token"],
        "version": form.initial["version"],
        "call_id": "call-5",
        "amount": "10",
        "due_on": "2025-06-30",
        "purpose": "Fees",
        "effective_on": MAY,
    }
    head = store.head()

    first = browser.post(url, fields)
    second = browser.post(url, fields)

    assert first.status_code == second.status_code == 302
    assert first.url == second.url
    [event] = store.read_all(after=head)
    messages = [
        [str(m) for m in get_messages(response.wsgi_request)] for response in (first, second)
    ]
    # (the first answer's message is still queued when the second is read: not displayed)
    assert messages[1] == messages[0] * 2
    assert reverse("admin:workspace-event", args=[event.position]) in messages[0][0]


def test_a_used_token_with_other_values_records_nothing_more(world, browser_for):
    browser = browser_for("deal_team")
    url = form_url("partner-admit")
    form = browser.get(url).context["form"]
    fields = {
        "token": form.initial["token"],
        "version": form.initial["version"],
        "organisation_id": "xai",
        "name": "xAI",
        "role": "member",
    }
    assert browser.post(url, fields).status_code == 302
    head = store.head()

    other = browser.post(url, {**fields, "organisation_id": "oracle", "name": "Oracle"})

    assert other.status_code == 200
    assert store.head() == head
    assert "already submitted" in other.content.decode()
    assert other.context["form"].data["token"] != fields["token"]


def test_a_tampered_token_or_version_is_refused(world, browser_for):
    browser = browser_for("deal_team")
    url = form_url("partner-admit")
    head = store.head()
    fields = {"organisation_id": "xai", "name": "xAI", "role": "member"}
    for hidden in ({"token": "short", "version": "3"}, {"token": "a" * 24, "version": "-1"}):
        response = browser.post(url, {**fields, **hidden})
        assert response.status_code == 200
        assert "incomplete or out of date" in response.content.decode()
    assert store.head() == head


def test_the_success_message_names_what_was_recorded(world, browser_for, submit):
    browser = browser_for("finance")
    response, [event] = submit(
        browser, "fx-rate-record", currency="GBP", rate="1.27", effective_on=MAY
    )
    [message] = get_messages(response.wsgi_request)
    assert message.level_tag == "success"
    link = reverse("admin:workspace-event", args=[event.position])
    words = describe(event, names_for(["aip"]))
    assert str(message) == f'Recorded: <a class="underline" href="{link}">{words}</a>.'


def _twice(browser, command: str, where: str | None = "aip", **fields: str):
    url = form_url(command, where)
    form = browser.get(url).context["form"]
    data = {"token": form.initial["token"], "version": form.initial["version"], **fields}
    head = store.head()
    answers = [browser.post(url, data), browser.post(url, data)]
    return answers, store.read_all(after=head)


def test_a_double_submit_of_a_new_asset_or_consortium_records_once(world, browser_for):
    browser = browser_for("deal_team")
    answers, appended = _twice(
        browser,
        "asset-register",
        asset_id="dc-7",
        kind="data_centre",
        name="Seven",
        location="VA",
        capacity_mw="10",
        estimated_cost="10",
        currency="USD",
    )
    assert [a.status_code for a in answers] == [302, 302]
    assert [e.type for e in appended] == ["AssetRegistered"]
    answers, appended = _twice(
        browser, "consortium-form", None, name="Atlas", slug="atlas", base_currency="USD"
    )
    assert [a.status_code for a in answers] == [302, 302]
    assert [e.type for e in appended] == ["ConsortiumFormed"]
