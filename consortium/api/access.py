"""Who may call the API: bearer keys (stored as SHA-256 digests) and role grants.

Roles, granted globally or per consortium (``RoleGrant``):

- ``deal_team``: every write and every read;
- ``finance``: contributions and their reversals, debt draws and repayments, FX rates,
  and every read;
- ``auditor``: reads only, the event feed included;
- ``partner`` (with an organisation id, ``partner:<org>``): reads only its own positions
  and capital calls, in the consortia it belongs to.

A view names the capability it needs (``capability = {"GET": READ, "POST": WRITE}``); a
missing or bad key is 401, a missing role 403.
"""

import hashlib
import secrets
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from consortium.models import ApiClient, RoleGrant

if TYPE_CHECKING:  # rest_framework.views imports the authentication classes
    from rest_framework.views import APIView

KEY_PREFIX = "csk_"

# Capabilities a view can require, and the roles that have them.
WRITE = "write"  # deal team commands
FINANCE_WRITE = "finance_write"  # contributions, reversals, draws, repayments, FX rates
READ = "read"  # progress, positions, calls, assets, events
PARTNER_READ = "partner_read"  # positions and calls, narrowed to the partner's own rows
CAPABILITIES: dict[str, frozenset[str]] = {
    WRITE: frozenset({"deal_team"}),
    FINANCE_WRITE: frozenset({"deal_team", "finance"}),
    READ: frozenset({"deal_team", "finance", "auditor"}),
    PARTNER_READ: frozenset({"deal_team", "finance", "auditor", "partner"}),
}


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    """A long random key; shown once, stored only as its digest."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


class BearerKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <key>`` for an unrevoked, unexpired ``ApiClient``."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[AbstractBaseUser, ApiClient] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _, key = header.partition(" ")
        if scheme != self.keyword:
            return None
        key = key.strip()
        if not key:
            raise exceptions.AuthenticationFailed("The Authorization header has no key.")
        client = ApiClient.objects.select_related("user").filter(key_digest=digest(key)).first()
        if client is None:
            raise exceptions.AuthenticationFailed("This API key is not known.")
        now = timezone.now()
        if client.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This API key has been revoked.")
        if client.expires_at is not None and client.expires_at <= now:
            raise exceptions.AuthenticationFailed("This API key has expired.")
        if not client.user.is_active:
            raise exceptions.AuthenticationFailed("The user of this API key is inactive.")
        return client.user, client

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


def client_id(request: Request) -> str:
    """The scope of idempotency keys and rate limits: the API client, or the session user."""
    if isinstance(request.auth, ApiClient):
        return request.auth.name
    return f"user:{request.user.pk}"


def grants(user: Any, consortium: str | None) -> list[RoleGrant]:
    """The user's grants that apply in ``consortium`` (global ones always apply)."""
    if not getattr(user, "is_authenticated", False):
        return []
    # Memoized on the user object, which lives for one request: a view asks more than once.
    memo: dict[str | None, list[RoleGrant]] = user.__dict__.setdefault("_role_grants", {})
    if consortium not in memo:
        scopes = ["", consortium] if consortium else [""]
        memo[consortium] = list(RoleGrant.objects.filter(user=user, consortium__in=scopes))
    return memo[consortium]


def partner_organisations(user: Any, consortium: str | None) -> set[str]:
    """Organisations whose rows a partner-only user may read in ``consortium``."""
    return {g.organisation_id for g in grants(user, consortium) if g.role == "partner"}


def has_capability(user: Any, capability: str, consortium: str | None) -> bool:
    roles = {g.role for g in grants(user, consortium)}
    return bool(roles & CAPABILITIES[capability])


def is_partner_only(user: Any, consortium: str | None) -> bool:
    """True when the user reads only as a partner there (rows must be narrowed)."""
    roles = {g.role for g in grants(user, consortium)}
    return bool(roles) and roles <= {"partner"}


class HasCapability(permissions.BasePermission):
    """The capability the view names for the request's method, in the URL's consortium."""

    message = "Your role does not allow this."

    def has_permission(self, request: Request, view: "APIView") -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        needed = getattr(view, "capability", {}).get(request.method or "GET")
        if needed is None:
            return False
        consortium = view.kwargs.get("slug") if hasattr(view, "kwargs") else None
        if has_capability(request.user, needed, consortium):
            return True
        self.message = (
            f"Your role does not allow this ({needed.replace('_', ' ')} "
            f"{'in ' + consortium if consortium else 'here'})."
        )
        return False
