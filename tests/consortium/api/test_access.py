"""API access: keys stored as digests, printed once, revocable and expiring; role grants."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from consortium.api.access import digest
from consortium.models import ApiClient, RoleGrant
from consortium.roles import has_capability, is_partner_only

pytestmark = pytest.mark.django_db


def create(*args: str) -> str:
    out = StringIO()
    call_command("create_api_client", *args, stdout=out)
    return out.getvalue().strip().splitlines()[-1]  # the key, printed once


def whoami(key: str | None) -> int:
    client = APIClient()
    if key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client.get("/api/v1/whoami/").status_code


def test_a_key_is_printed_once_and_stored_only_as_its_digest():
    key = create("treasury-erp", "--user", "treasury", "--role", "finance")
    client = ApiClient.objects.get(name="treasury-erp")
    assert key.startswith("csk_") and len(key) > 40
    assert client.key_digest == digest(key) and key not in client.key_digest
    assert client.key_prefix == key[:12]
    assert whoami(key) == 200


def test_missing_wrong_revoked_and_expired_keys_are_401():
    key = create("erp", "--user", "erp", "--role", "finance")
    assert whoami(None) == 401
    assert whoami("csk_not-a-real-key") == 401
    call_command("create_api_client", "erp", "--revoke", stdout=StringIO())
    assert whoami(key) == 401

    short = create("short", "--user", "erp", "--role", "finance", "--expires-in-days", "1")
    ApiClient.objects.filter(name="short").update(expires_at=timezone.now() - dt.timedelta(1))
    assert whoami(short) == 401


def api(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def test_a_key_without_a_role_may_ask_who_it_is_and_nothing_else():
    key = create("nobody", "--user", "nobody", "--role", "auditor", "--consortium", "other")
    RoleGrant.objects.filter(user__username="nobody").delete()
    answer = api(key).get("/api/v1/whoami/")
    assert answer.status_code == 200
    assert answer.json() == {"username": "nobody", "client": "nobody", "roles": []}
    assert api(key).get("/api/v1/consortia/").status_code == 403


def test_whoami_says_what_every_role_may_do_where():
    partner = create("lp", "--user", "lp", "--role", "partner:mgx", "--consortium", "aip")
    body = api(partner).get("/api/v1/whoami/").json()
    assert body == {
        "username": "lp",
        "client": "lp",
        "roles": [
            {
                "role": "partner",
                "consortium": "aip",
                "organisation_id": "mgx",
                "capabilities": ["partner_read"],
            }
        ],
    }
    finance = create("erp", "--user", "erp", "--role", "finance")
    (role,) = api(finance).get("/api/v1/whoami/").json()["roles"]
    assert role["consortium"] is None
    assert role["capabilities"] == ["finance_write", "partner_read", "read"]


@pytest.mark.parametrize("role", ["treasurer", "partner", "partner:", "auditor:x"])
def test_an_unknown_role_is_refused_with_the_choices(role):
    with pytest.raises(CommandError, match="deal_team, finance, auditor or partner:<organisation>"):
        create("c", "--user", "u", "--role", role)
    assert not ApiClient.objects.exists()


def test_grants_apply_globally_or_per_consortium():
    create("dt", "--user", "dana", "--role", "deal_team", "--consortium", "aip")
    create("p", "--user", "mgx-reader", "--role", "partner:mgx")
    dana = ApiClient.objects.get(name="dt").user
    partner = ApiClient.objects.get(name="p").user
    assert has_capability(dana, "write", "aip") and not has_capability(dana, "write", "stargate")
    assert has_capability(partner, "partner_read", "aip") and not has_capability(
        partner, "read", "aip"
    )
    assert is_partner_only(partner, "aip") and not is_partner_only(dana, "aip")


def test_names_are_unique_and_revoking_an_unknown_client_says_so():
    create("erp", "--user", "erp", "--role", "finance")
    with pytest.raises(CommandError, match="exists already"):
        create("erp", "--user", "erp", "--role", "finance")
    with pytest.raises(CommandError, match="No active API client"):
        call_command("create_api_client", "ghost", "--revoke")


def test_grant_role_for_admin_users():
    create("erp", "--user", "erp", "--role", "finance")
    call_command("grant_role", "erp", "auditor", "--consortium", "aip", stdout=StringIO())
    assert RoleGrant.objects.filter(user__username="erp", role="auditor", consortium="aip").exists()
    with pytest.raises(CommandError, match="no user"):
        call_command("grant_role", "ghost", "auditor")
