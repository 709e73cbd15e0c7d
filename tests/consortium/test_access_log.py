"""Access changes in the ledger: the command line records what the admin records, in the
same transaction as the change, and nothing that reads the ledger trips on them."""

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import transaction
from rest_framework.test import APIClient

from consortium import access_log
from consortium.models import ApiClient, RoleGrant
from consortium.projections import selectors
from ledger import store
from ledger.projections import registry, runner
from ledger.verification import verify
from tests.consortium.workspace_people import seed

pytestmark = pytest.mark.django_db


def access_data() -> list[dict[str, object]]:
    if not store.stream_exists(access_log.STREAM):
        return []
    return [event.data for event in store.read_stream(access_log.STREAM)]


def test_grant_role_records_a_new_grant_once_as_the_command_line():
    User.objects.create_user("lena")
    call_command("grant_role", "lena", "partner:mgx", stdout=StringIO())
    call_command("grant_role", "lena", "partner:mgx", stdout=StringIO())  # already held
    (event,) = store.read_stream(access_log.STREAM)
    assert event.type == "AccessChanged"
    assert event.data == {
        "action": "role_granted",
        "user": "lena",
        "role": "partner",
        "organisation_id": "mgx",
        "consortium": "",
    }
    assert event.metadata["source"] == "cli" and event.metadata["actor"]
    assert not User.objects.get(username="lena").is_staff


def test_create_api_client_records_the_user_the_client_and_its_grants_never_the_key():
    out = StringIO()
    call_command(
        "create_api_client", "erp", "--user", "erp.system", "--role", "finance",
        "--consortium", "aip", "--consortium", "stargate", stdout=out, stderr=StringIO(),
    )  # fmt: skip
    key = out.getvalue().strip().splitlines()[-1]
    assert access_data() == [
        {"action": "user_created", "user": "erp.system"},
        {"action": "api_client_created", "user": "erp.system", "client": "erp"},
        {"action": "role_granted", "user": "erp.system", "role": "finance", "consortium": "aip"},
        {
            "action": "role_granted",
            "user": "erp.system",
            "role": "finance",
            "consortium": "stargate",
        },
    ]
    events = store.read_stream(access_log.STREAM)
    assert key not in repr([(e.data, e.metadata) for e in events])

    call_command("create_api_client", "erp", "--revoke", stdout=StringIO())
    assert access_data()[-1] == {
        "action": "api_client_revoked",
        "user": "erp.system",
        "client": "erp",
    }
    with pytest.raises(CommandError, match="No active API client"):
        call_command("create_api_client", "erp", "--revoke", stdout=StringIO())
    assert len(access_data()) == 5


def test_a_refused_command_records_nothing_and_creates_nobody():
    call_command("create_api_client", "erp", "--user", "a", "--role", "auditor", stdout=StringIO())
    before = store.head()
    with pytest.raises(CommandError, match="exists already"):
        call_command("create_api_client", "erp", "--user", "b", "--role", "auditor")
    assert store.head() == before
    assert not User.objects.filter(username="b").exists()


def test_the_command_line_says_when_a_consortium_is_not_in_the_ledger_yet():
    User.objects.create_user("lena")
    err = StringIO()
    call_command(
        "grant_role", "lena", "auditor", "--consortium", "newco", stdout=StringIO(), stderr=err
    )
    assert "no consortium 'newco' yet" in err.getvalue()
    assert RoleGrant.objects.filter(user__username="lena", consortium="newco").exists()


def test_the_change_and_its_record_commit_or_roll_back_together():
    lena = User.objects.create_user("lena")
    with pytest.raises(RuntimeError), transaction.atomic():
        access_log.grant_role(access_log.Acting.cli(), lena, "auditor", "", "")
        assert access_data(), "recorded inside the transaction"
        raise RuntimeError("the request failed after the grant")
    assert not RoleGrant.objects.exists() and access_data() == []


def test_only_a_superuser_acts_in_the_admin_and_actions_are_known():
    dana = User.objects.create_user("dana", is_staff=True)
    with pytest.raises(PermissionError):
        access_log.Acting.admin(dana)
    with pytest.raises(ValueError, match="Unknown access action"):
        access_log.record(access_log.Acting.cli(), "user_deleted", user="dana")


def test_access_events_are_ignored_by_projections_and_fine_for_the_ledgers_readers():
    seed()
    head = store.head()
    live = {name: runner.live_generation(name) for name in registry.names()}
    before = ([p.figures for p in selectors.positions("aip")], selectors.consortia())
    call_command(
        "create_api_client", "reader", "--user", "auditor.system", "--role", "auditor",
        stdout=(out := StringIO()),
    )  # fmt: skip
    key = out.getvalue().strip().splitlines()[-1]
    assert store.head() == head + 3  # the user, the client, the grant

    # The projections catch up past them, untouched, and a rebuild reads past them too.
    runner.catch_up_all(wait=True)
    for status in runner.status():
        assert status.checkpoint == store.head() and not status.stopped, status
    for name in registry.names():
        runner.rebuild(name)
        assert runner.live_generation(name) == live[name] + 1
    assert ([p.figures for p in selectors.positions("aip")], selectors.consortia()) == before

    # The hash chain verifies; the API's feed serves them like any event.
    assert verify().ok
    call_command("verify_ledger", stdout=StringIO(), stderr=StringIO())
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    feed = api.get(f"/api/v1/events/?after={head}")
    assert feed.status_code == 200
    assert [e["type"] for e in feed.json()["results"]] == ["AccessChanged"] * 3
    assert api.get("/api/v1/consortia/aip/events/").status_code == 200
    assert ApiClient.objects.filter(name="reader").exists()
