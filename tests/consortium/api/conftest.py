"""Shared API fixtures: clients with keys for a role, and the demo data.

``api_client_for(role, consortium=None, *, username=None, revoked=False, expired=False)``
returns a ``rest_framework.test.APIClient`` sending ``Authorization: Bearer <key>`` for a
fresh key (and user, unless ``username`` names one) granted ``role``: ``deal_team``,
``finance``, ``auditor`` or ``partner:<org>``, globally or in ``consortium``. Special
roles: ``no_role`` (a valid key, no grant), ``none`` (no Authorization header),
``bad_key`` (an unknown key). The client carries ``.user``, ``.key`` and ``.client_name``.
"""

import datetime as dt
import itertools
from collections.abc import Callable

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from consortium.api.access import digest, new_key
from consortium.models import ApiClient, RoleGrant
from ledger import store

ROLES = ("deal_team", "finance", "auditor", "partner:mgx")
# Every kind of caller a role test should cover: the four roles, and the 401s.
CALLERS = (*ROLES, "no_role", "none", "bad_key", "revoked", "expired")


@pytest.fixture
def api_client_for(db) -> Callable[..., APIClient]:
    counter = itertools.count(1)

    def make(
        role: str,
        consortium: str | None = None,
        *,
        username: str | None = None,
        revoked: bool = False,
        expired: bool = False,
    ) -> APIClient:
        api = APIClient()
        if role == "none":
            return api
        if role == "bad_key":
            api.credentials(HTTP_AUTHORIZATION="Bearer csk_not-a-real-key")
            return api
        if role in {"revoked", "expired"}:
            return make("deal_team", consortium, revoked=role == "revoked", expired=True)
        number = next(counter)
        name = username or f"{role.replace(':', '-')}-{number}"
        user, _ = get_user_model().objects.get_or_create(username=name)
        key = new_key()
        now = timezone.now()
        client = ApiClient.objects.create(
            name=f"{name}-key-{number}",
            user=user,
            key_prefix=key[:12],
            key_digest=digest(key),
            revoked_at=now if revoked else None,
            expires_at=now - dt.timedelta(minutes=1) if expired and not revoked else None,
        )
        if role != "no_role":
            kind, _, organisation = role.partition(":")
            RoleGrant.objects.get_or_create(
                user=user, role=kind, organisation_id=organisation, consortium=consortium or ""
            )
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        api.user = user  # type: ignore[attr-defined]
        api.key = key  # type: ignore[attr-defined]
        api.client_name = client.name  # type: ignore[attr-defined]
        return api

    return make


@pytest.fixture
def seeded(db) -> int:
    """The demo data (AIP and Stargate) loaded; returns the ledger head."""
    call_command("seed_demo", verbosity=0)
    return store.head()
