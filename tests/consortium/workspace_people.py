"""People for the workspace and partner-view tests: users with grants, signed in.

``person(username, *grants, staff=False, superuser=False)`` makes an active user with a
password and the grants given as ``"deal_team"``, ``"auditor@aip"`` (in one consortium)
or ``"partner:mgx"``; ``signed_in(user)`` is a test client with its session. The demo
data (``seeded``) is ``seed_demo``'s AIP and Stargate, projections caught up.
"""

from io import StringIO

from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from consortium.models import RoleGrant
from ledger.projections import runner

PASSWORD = "correct horse battery staple"


def person(username: str, *grants: str, staff: bool = False, superuser: bool = False) -> User:
    user = User.objects.create_user(
        username, f"{username}@example.com", PASSWORD, is_staff=staff, is_superuser=superuser
    )
    for grant in grants:
        role, _, consortium = grant.partition("@")
        kind, _, organisation = role.partition(":")
        RoleGrant.objects.create(
            user=user, role=kind, organisation_id=organisation, consortium=consortium
        )
    return user


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def seed() -> None:
    """The demo data, every projection caught up with it."""
    call_command("seed_demo", stdout=StringIO())
    runner.catch_up_all(wait=True)
