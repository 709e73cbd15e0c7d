"""``seed_demo_users`` and ``ensure_local_admin``: sign-ins for trying the demo locally."""

import stat
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command

from consortium import roles
from consortium.management.commands.seed_demo_users import read_passwords
from consortium.models import RoleGrant

pytestmark = pytest.mark.django_db


@pytest.fixture
def local(settings, tmp_path):
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    return tmp_path


def run(command: str) -> str:
    out = StringIO()
    call_command(command, stdout=out)
    return out.getvalue()


def test_one_user_per_role_signs_in_with_the_printed_password(local):
    printed = run("seed_demo_users")
    kept = read_passwords(local / "demo-passwords.txt")
    assert set(kept) == {"alice.deal", "bob.finance", "carol.audit", "mgx.partner"}
    for username, password in kept.items():
        assert f"{username!r}" in printed and f"{password!r}" in printed
        user = authenticate(username=username, password=password)
        assert user is not None, username
    assert stat.S_IMODE((local / "demo-passwords.txt").stat().st_mode) == 0o600

    users = {u.username: u for u in get_user_model().objects.filter(username__in=kept)}
    alice, bob, carol, mgx = (
        users[n] for n in ("alice.deal", "bob.finance", "carol.audit", "mgx.partner")
    )
    # Deal team and finance everywhere; the auditor and the partner in the demo consortia.
    assert roles.has_capability(alice, roles.WRITE, "any-consortium")
    assert roles.has_capability(bob, roles.FINANCE_WRITE, "any-consortium")
    assert not roles.has_capability(bob, roles.WRITE, "aip")
    assert roles.has_capability(carol, roles.READ, "aip")
    assert not roles.has_capability(carol, roles.READ, "another")
    assert not roles.has_capability(carol, roles.FINANCE_WRITE, "aip")
    assert roles.partner_organisations(mgx, "stargate") == {"mgx"}
    assert roles.is_partner_only(mgx, "aip")
    # Staff may enter the workspace; the partner may not (it has its own view).
    assert all(roles.may_use_workspace(u) for u in (alice, bob, carol))
    assert not mgx.is_staff and not roles.may_use_workspace(mgx)


def test_running_again_keeps_the_passwords_and_says_where_they_are(local):
    run("seed_demo_users")
    kept = read_passwords(local / "demo-passwords.txt")
    grants = RoleGrant.objects.count()
    again = run("seed_demo_users")
    assert read_passwords(local / "demo-passwords.txt") == kept
    assert not any(password in again for password in kept.values())
    assert str(local / "demo-passwords.txt") in again
    assert RoleGrant.objects.count() == grants
    assert authenticate(username="alice.deal", password=kept["alice.deal"]) is not None


def test_a_lost_password_file_gives_new_passwords(local):
    run("seed_demo_users")
    (local / "demo-passwords.txt").unlink()
    printed = run("seed_demo_users")
    kept = read_passwords(local / "demo-passwords.txt")
    assert f"{kept['carol.audit']!r}" in printed
    assert authenticate(username="carol.audit", password=kept["carol.audit"]) is not None


def test_the_demo_loaders_actors_become_the_deal_team_and_finance_users(local):
    call_command("seed_demo", stdout=StringIO())
    run("seed_demo_users")
    alice = get_user_model().objects.get(username="alice.deal")
    assert alice.has_usable_password() and alice.is_staff
    assert alice.get_full_name() == "Alice Deal lead"


def test_demo_users_and_the_local_admin_are_for_debug_only(settings, tmp_path):
    settings.DEBUG = False
    settings.VAR_DIR = tmp_path
    for command in ("seed_demo_users", "ensure_local_admin"):
        with pytest.raises(CommandError, match="local development"):
            run(command)
    assert not get_user_model().objects.exists()
    assert not list(tmp_path.iterdir())


def test_the_local_admin_is_a_superuser_on_the_deal_team(local):
    printed = run("ensure_local_admin")
    password = (local / "admin-password.txt").read_text().strip()
    assert f"{password!r}" in printed
    admin = authenticate(username="admin", password=password)
    assert admin is not None and admin.is_superuser
    assert roles.has_capability(admin, roles.WRITE, "aip")
    assert stat.S_IMODE((local / "admin-password.txt").stat().st_mode) == 0o600
    again = run("ensure_local_admin")
    assert password not in again and str(local / "admin-password.txt") in again
    assert RoleGrant.objects.filter(user=admin).count() == 1
    assert (local / "admin-password.txt").read_text().strip() == password


def test_demo_users_and_their_grants_are_recorded_in_the_access_history_once(local):
    from ledger import store

    run("seed_demo_users")
    run("ensure_local_admin")
    first = [(e.data["action"], e.data["user"]) for e in store.read_stream("access")]
    assert ("user_created", "alice.deal") in first
    assert ("role_granted", "mgx.partner") in first
    assert ("user_created", "admin") in first
    assert ("role_granted", "admin") in first
    assert all(e.metadata["source"] == "cli" for e in store.read_stream("access"))
    run("seed_demo_users")
    run("ensure_local_admin")
    again = [(e.data["action"], e.data["user"]) for e in store.read_stream("access")]
    assert again == first  # a second run changes nothing, so records nothing
