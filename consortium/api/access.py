"""Who may call the API: bearer keys (stored as SHA-256 digests) and role grants.

The roles and what each may do are ``consortium.roles`` (the workspace uses the same). A
view names the capability it needs (``capability = {"GET": READ, "POST": WRITE}``); a
missing or bad key is 401, a missing role 403, and a method the view does not have 405
for any valid key.
"""

import dataclasses
import functools
import hashlib
import secrets
from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Model
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from consortium.models import ApiClient, RoleGrant
from consortium.roles import has_capability
from ledger import db

if TYPE_CHECKING:  # rest_framework.views imports the authentication classes
    from rest_framework.views import APIView

KEY_PREFIX = "csk_"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    """A long random key; shown once, stored only as its digest."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


@dataclasses.dataclass(frozen=True)
class _Columns:
    """A model's columns in a raw row: the attribute names and each value's converters."""

    model: type[Model]
    names: list[str]
    converters: list[list[Any]]

    @classmethod
    def of(cls, model: type[Model], alias: str) -> "_Columns":
        fields = model._meta.concrete_fields
        converters = [
            connection.ops.get_db_converters(field.get_col(alias))
            + cast(Any, field).get_db_converters(connection)
            for field in fields
        ]
        return cls(model, [f.attname for f in fields], converters)

    def build(self, values: tuple[Any, ...]) -> Any:
        """The model instance for its slice of a row (as the ORM would convert it)."""
        converted = []
        for value, converters in zip(values, self.converters, strict=True):
            for convert in converters:
                value = convert(value, None, connection)
            converted.append(value)
        return self.model.from_db(connection.alias, self.names, converted)


@functools.cache
def _credentials_query() -> tuple[str, _Columns, _Columns, _Columns]:
    """One statement for a key: its client, the client's user and all the user's grants.

    Built once from the models' metadata (a custom user model works too). Every request
    runs it, so it is plain SQL, prepared on PostgreSQL (``ledger.db.fetch``): the ORM's
    two queries cost more to compile than to run.
    """
    quote = connection.ops.quote_name
    user_model = get_user_model()
    client, user, grant = (
        _Columns.of(ApiClient, "c"),
        _Columns.of(user_model, "u"),
        _Columns.of(RoleGrant, "g"),
    )

    def select(model: type[Model], alias: str) -> list[str]:
        return [f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields]

    client_user = quote(ApiClient._meta.get_field("user").column)
    grant_user = quote(RoleGrant._meta.get_field("user").column)
    selected = select(ApiClient, "c") + select(user_model, "u") + select(RoleGrant, "g")
    sql = (
        f"SELECT {', '.join(selected)} "  # noqa: S608
        f"FROM {quote(ApiClient._meta.db_table)} c "
        f"JOIN {quote(user_model._meta.db_table)} u ON u.{quote(user_model._meta.pk.column)}"
        f" = c.{client_user} "
        f"LEFT JOIN {quote(RoleGrant._meta.db_table)} g ON g.{grant_user} = c.{client_user} "
        f"WHERE c.{quote('key_digest')} = %s"
    )
    return sql, client, user, grant


def _credentials(key_digest: str) -> tuple[ApiClient, AbstractBaseUser] | None:
    """The client holding ``key_digest`` and its user, the user's grants memoized on it."""
    sql, client_columns, user_columns, grant_columns = _credentials_query()
    rows = db.fetch(sql, [key_digest])
    if not rows:
        return None
    first, n_client = rows[0], len(client_columns.names)
    n_both = n_client + len(user_columns.names)
    client: ApiClient = client_columns.build(first[:n_client])
    user: AbstractBaseUser = user_columns.build(first[n_client:n_both])
    client.user = user  # type: ignore[assignment]
    user.__dict__["_all_role_grants"] = [
        grant_columns.build(row[n_both:])
        for row in rows
        if row[n_both] is not None  # the LEFT JOIN found no grant
    ]
    return client, user


class BearerKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <key>`` for an unrevoked, unexpired ``ApiClient``.

    One prepared query finds the client, its user and the user's grants (``grants``
    answers from them for the rest of the request).
    """

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
        found = _credentials(digest(key))
        if found is None:
            raise exceptions.AuthenticationFailed("This API key is not known.")
        client, user = found
        now = timezone.now()
        if client.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This API key has been revoked.")
        if client.expires_at is not None and client.expires_at <= now:
            raise exceptions.AuthenticationFailed("This API key has expired.")
        if not user.is_active:
            raise exceptions.AuthenticationFailed("The user of this API key is inactive.")
        return user, client

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


def client_id(request: Request) -> str:
    """The scope of idempotency keys and rate limits: the API client, or the session user
    (visible ASCII, as the ledger's receipt scopes must be: a client's name need not be)."""
    if isinstance(request.auth, ApiClient):
        return f"api-client:{request.auth.pk}"
    return f"user:{request.user.pk}"


class HasCapability(permissions.BasePermission):
    """The capability the view names for the request's method, in the URL's consortium."""

    message = "Your role does not allow this."

    def has_permission(self, request: Request, view: "APIView") -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        method = request.method or "GET"
        if method == "HEAD":  # a HEAD is a GET without the body
            method = "GET"
        needed = getattr(view, "capability", {}).get(method)
        if needed is None:
            # A method the view does not have is the view's to refuse (405, with ``Allow``)
            # for any key; OPTIONS only describes the view.
            return method == "OPTIONS" or not hasattr(view, method.lower())
        consortium = view.kwargs.get("slug") if hasattr(view, "kwargs") else None
        if has_capability(request.user, needed, consortium):
            return True
        self.message = (
            f"Your role does not allow this ({needed.replace('_', ' ')} "
            f"{'in ' + consortium if consortium else 'here'})."
        )
        return False
