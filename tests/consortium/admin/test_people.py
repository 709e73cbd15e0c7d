"""People in the workspace: users, role grants and API clients, for superusers only, every
change an ``AccessChanged`` event in the ledger with the acting superuser."""

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client

from consortium import access_log
from consortium.api.access import digest
from consortium.models import ApiClient, RoleGrant
from ledger import store
from tests.consortium.workspace_people import PASSWORD, person, seed, signed_in

pytestmark = pytest.mark.django_db

PEOPLE_PREFIXES = ("/admin/auth/", "/admin/consortium/rolegrant/", "/admin/consortium/apiclient/")


@pytest.fixture
def root() -> Client:
    return signed_in(person("root.admin", superuser=True, staff=True))


@pytest.fixture
def demo() -> None:
    seed()


def access_events() -> list[store.RecordedEvent]:
    return store.read_stream(access_log.STREAM) if store.stream_exists(access_log.STREAM) else []


def last_access() -> tuple[dict[str, object], dict[str, object]]:
    event = access_events()[-1]
    assert event.type == "AccessChanged"
    return event.data, event.metadata


def _management_form(prefix: str, total: int, initial: int) -> dict[str, object]:
    return {
        f"{prefix}-TOTAL_FORMS": total,
        f"{prefix}-INITIAL_FORMS": initial,
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }


def user_form(user: User, **changes: object) -> dict[str, object]:
    """The user's change form as posted, with ``changes`` and no grant changes."""
    data: dict[str, object] = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        **_management_form("role_grants", 0, 0),
    }
    flags: dict[str, object] = {"is_active": user.is_active, "is_staff": user.is_staff}
    flags["is_superuser"] = user.is_superuser
    flags.update({k: v for k, v in changes.items() if k in flags})
    data.update({k: "on" for k, v in flags.items() if v})
    data.update({k: v for k, v in changes.items() if k not in flags})
    return data


# --- who may -----------------------------------------------------------------------------


def test_only_superusers_see_people_in_the_sidebar(root, demo):
    dana = signed_in(person("dana", "deal_team", staff=True))
    for browser, shown in ((root, True), (dana, False)):
        page = browser.get("/admin/projections/").content.decode()
        for url in (*PEOPLE_PREFIXES[1:], "/admin/auth/user/"):
            assert (f'href="{url}"' in page) is shown, (url, shown)


def test_every_people_url_refuses_a_staff_member_who_is_not_a_superuser(demo):
    from tests.consortium.partner.test_partner_view import admin_urls

    person("erp.system", "finance")
    access_log.create_api_client(
        access_log.Acting.cli(), name="erp", user=User.objects.get(username="erp.system")
    )
    dana = signed_in(person("dana", "deal_team", staff=True))
    urls = [url for _, url in admin_urls() if url.startswith(PEOPLE_PREFIXES)]
    assert len(urls) >= 18, urls
    for url in urls:
        answer = dana.get(url, follow=True)  # (``<id>/`` redirects to ``<id>/change/``)
        # 403 for the models' pages; the auth app's index has nothing for it: 404.
        assert answer.status_code in (403, 404), (url, answer.status_code)
    head = store.head()
    assert dana.post("/admin/consortium/rolegrant/add/", {"user": 1}).status_code == 403
    assert store.head() == head


# --- users -------------------------------------------------------------------------------


def test_creating_a_user_and_changing_its_access_and_password_is_recorded(root):
    answer = root.post(
        "/admin/auth/user/add/",
        {
            "username": "erin",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "usable_password": "true",
        },
    )
    assert answer.status_code == 302, answer.content
    erin = User.objects.get(username="erin")
    data, metadata = last_access()
    assert data == {"action": "user_created", "user": "erin", "changed": ["password"]}
    assert metadata["actor"] == "root.admin" and metadata["source"] == "admin"

    answer = root.post(
        f"/admin/auth/user/{erin.pk}/change/",
        user_form(erin, is_staff=True, is_superuser=True, first_name="Erin"),
    )
    assert answer.status_code == 302, answer.content
    data, _ = last_access()
    assert data == {
        "action": "user_changed",
        "user": "erin",
        "changed": ["first_name", "is_staff", "is_superuser"],
    }

    count = len(access_events())
    new_password = "another long passphrase 42"
    answer = root.post(
        f"/admin/auth/user/{erin.pk}/password/",
        {"password1": new_password, "password2": new_password, "usable_password": "true"},
    )
    assert answer.status_code == 302, answer.content
    assert len(access_events()) == count + 1
    data, _ = last_access()
    assert data == {"action": "user_changed", "user": "erin", "changed": ["password"]}
    # Never a password, or its hash, in the ledger.
    erin.refresh_from_db()
    for event in access_events():
        text = repr((event.data, event.metadata))
        assert new_password not in text and PASSWORD not in text and erin.password not in text


def test_a_user_is_deactivated_never_deleted(root):
    erin = person("erin")
    assert root.get(f"/admin/auth/user/{erin.pk}/delete/").status_code == 403
    root.post(f"/admin/auth/user/{erin.pk}/change/", user_form(erin, is_active=False))
    erin.refresh_from_db()
    assert not erin.is_active
    assert last_access()[0] == {"action": "user_changed", "user": "erin", "changed": ["is_active"]}


# --- grants ------------------------------------------------------------------------------


def grant_rows(user: User, *rows: dict[str, str], delete: tuple[RoleGrant, ...] = ()):
    """The user's form with grant rows: existing ones (kept, or deleted) then new ones."""
    existing = list(user.role_grants.order_by("pk"))
    data = user_form(user)
    data.update(_management_form("role_grants", len(existing) + len(rows), len(existing)))
    for index, grant in enumerate(existing):
        data[f"role_grants-{index}-id"] = grant.pk
        data[f"role_grants-{index}-user"] = user.pk
        if grant in delete:
            data[f"role_grants-{index}-DELETE"] = "on"
    for offset, row in enumerate(rows):
        index = len(existing) + offset
        data[f"role_grants-{index}-user"] = user.pk
        for field in ("role", "organisation_id", "consortium"):
            data[f"role_grants-{index}-{field}"] = row.get(field, "")
    return data


def test_grants_are_made_and_revoked_on_the_users_page(root, demo):
    lena = person("lena")
    answer = root.post(
        f"/admin/auth/user/{lena.pk}/change/",
        grant_rows(lena, {"role": "partner", "organisation_id": "mgx", "consortium": "aip"}),
    )
    assert answer.status_code == 302, answer.content
    assert last_access()[0] == {
        "action": "role_granted",
        "user": "lena",
        "role": "partner",
        "organisation_id": "mgx",
        "consortium": "aip",
    }
    lena.refresh_from_db()
    assert not lena.is_staff, "a partner grant never makes anyone staff"

    grant = lena.role_grants.get()
    answer = root.post(
        f"/admin/auth/user/{lena.pk}/change/",
        grant_rows(lena, {"role": "auditor"}, delete=(grant,)),
    )
    assert answer.status_code == 302, answer.content
    actions = [e.data["action"] for e in access_events()[-2:]]
    assert actions == ["role_revoked", "role_granted"]
    assert [(g.role, g.consortium) for g in lena.role_grants.all()] == [("auditor", "")]
    # The user list names each user's grants.
    assert "auditor in all consortia" in root.get("/admin/auth/user/").content.decode()


@pytest.mark.parametrize(
    ("row", "field", "words"),
    [
        ({"role": "partner"}, "organisation_id", "names its organisation"),
        ({"role": "deal_team", "organisation_id": "mgx"}, "organisation_id", "Only a partner"),
        ({"role": "auditor", "consortium": "nowhere"}, "consortium", "valid choice"),
    ],
)
def test_a_grant_that_breaks_a_rule_is_refused_and_records_nothing(root, demo, row, field, words):
    lena = person("lena")
    head = store.head()
    answer = root.post(f"/admin/auth/user/{lena.pk}/change/", grant_rows(lena, row))
    assert answer.status_code == 200
    errors = answer.context["inline_admin_formsets"][0].formset.forms[0].errors
    assert words in " ".join(errors.get(field, [])), errors
    assert store.head() == head and not RoleGrant.objects.filter(user=lena).exists()


def test_a_grant_in_a_consortium_the_ledger_does_not_know_is_refused():
    form = access_log_form({"role": "auditor", "consortium": "ghost"})
    form.fields["consortium"].choices = [("", "All"), ("ghost", "ghost")]  # a stale list
    assert not form.is_valid()
    assert "has no consortium 'ghost'" in form.errors["consortium"][0]


def access_log_form(data: dict[str, str]):
    from consortium.admin.people import RoleGrantForm

    user = person("lena")
    return RoleGrantForm({"user": user.pk, "organisation_id": "", **data})


def test_the_role_grants_list_adds_and_revokes_but_never_edits(root, demo):
    lena = person("lena")
    answer = root.post(
        "/admin/consortium/rolegrant/add/",
        {"user": lena.pk, "role": "finance", "organisation_id": "", "consortium": "stargate"},
    )
    assert answer.status_code == 302, answer.content
    grant = RoleGrant.objects.get(user=lena)
    assert last_access()[0]["action"] == "role_granted"
    head = store.head()
    edit = root.post(
        f"/admin/consortium/rolegrant/{grant.pk}/change/",
        {"user": lena.pk, "role": "deal_team", "consortium": ""},
    )
    assert edit.status_code == 403 and store.head() == head
    answer = root.post(f"/admin/consortium/rolegrant/{grant.pk}/delete/", {"post": "yes"})
    assert answer.status_code == 302
    assert not RoleGrant.objects.filter(user=lena).exists()
    assert last_access()[0] == {
        "action": "role_revoked",
        "user": "lena",
        "role": "finance",
        "consortium": "stargate",
    }


# --- API clients -------------------------------------------------------------------------


def test_a_new_api_key_is_shown_once_and_only_its_digest_is_kept(root):
    owner = person("erp.system", "finance")
    answer = root.post("/admin/consortium/apiclient/add/", {"name": "erp", "user": owner.pk})
    assert answer.status_code == 200
    assert "no-store" in answer["Cache-Control"]
    page = answer.content.decode()
    (key,) = set(re.findall(r"csk_[A-Za-z0-9_-]{40,}", page))
    assert "only time" in page
    client = ApiClient.objects.get(name="erp")
    assert client.key_digest == digest(key) and client.key_prefix == key[:12]
    created = {"action": "api_client_created", "user": "erp.system", "client": "erp"}
    assert last_access()[0] == created
    assert key not in repr([(e.data, e.metadata) for e in access_events()])
    # The key works, and is never shown again.
    whoami = Client().get("/api/v1/whoami/", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert whoami.status_code == 200
    for url in (
        f"/admin/consortium/apiclient/{client.pk}/change/",
        "/admin/consortium/apiclient/",
    ):
        shown = root.get(url)
        assert shown.status_code == 200 and key not in shown.content.decode()
        assert key[:12] in shown.content.decode()  # its prefix, to recognise it


def test_api_clients_are_revoked_never_edited_or_deleted(root):
    owner = person("erp.system", "finance")
    client, key = access_log.create_api_client(access_log.Acting.cli(), name="erp", user=owner)
    head = store.head()
    edit = root.post(
        f"/admin/consortium/apiclient/{client.pk}/change/", {"name": "x", "user": owner.pk}
    )
    assert edit.status_code == 403
    assert root.get(f"/admin/consortium/apiclient/{client.pk}/delete/").status_code == 403
    assert store.head() == head

    revoke = {"action": "revoke", "_selected_action": [client.pk]}
    answer = root.post("/admin/consortium/apiclient/", revoke, follow=True)
    assert "Revoked: erp." in answer.content.decode()
    client.refresh_from_db()
    assert client.revoked_at is not None
    revoked = {"action": "api_client_revoked", "user": "erp.system", "client": "erp"}
    assert last_access()[0] == revoked
    whoami = Client().get("/api/v1/whoami/", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert whoami.status_code == 401
    # Revoking again records nothing more.
    count = len(access_events())
    root.post("/admin/consortium/apiclient/", revoke)
    assert len(access_events()) == count
