"""Workspace users (staff with role grants, as the admin site admits them), and the
command forms' fixtures from their own support module."""

from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.test import Client

from consortium.models import RoleGrant
from tests.consortium.admin.commands_support import browser_for, submit, world  # noqa: F401


@pytest.fixture
def make_user(db) -> Callable[..., User]:
    """``make_user("carol", ("auditor", "aip"), ("deal_team", ""))``: a staff user with
    those grants (a ``partner:<org>`` role is granted as a partner of that organisation,
    and its user is not staff)."""

    def build(username: str, *grants: tuple[str, str], superuser: bool = False) -> User:
        partner = any(role.startswith("partner:") for role, _ in grants)
        user = get_user_model().objects.create_user(
            username, f"{username}@example.com", "pw-long-enough-123", is_staff=not partner
        )
        if superuser:
            user.is_superuser = True
            user.save()
        for role, consortium in grants:
            role, _, org = role.partition(":")
            RoleGrant.objects.create(
                user=user, role=role, organisation_id=org, consortium=consortium
            )
        return user

    return build


@pytest.fixture
def signed_in(client: Client) -> Callable[[User], Client]:
    def sign_in(user: User) -> Client:
        client.force_login(user)
        return client

    return sign_in
