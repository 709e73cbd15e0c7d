"""Who may do what, changed and recorded: users, role grants and API clients, each change
an ``AccessChanged`` event on the ledger stream ``access``, appended in the same
transaction as the change itself.

The admin (``consortium.admin.people``, source ``"admin"``) and the command line
(``grant_role``, ``create_api_client``; source ``"cli"``) change access only through the
functions here, so both record the same events and follow the same rules:

- a ``partner`` grant names an organisation, and no other role does;
- a grant in a consortium names one the ledger knows (``consortium_known``; the command
  line may grant ahead of formation and says so), or none (every consortium);
- granting never makes anyone staff (``consortium.roles.may_use_workspace`` keeps a
  partner-only user out of the workspace even when ``is_staff`` is set by mistake);
- an API key is made here (``consortium.api.access.new_key``), returned once to be shown
  once, and only its digest is stored; a client is revoked, never deleted or re-keyed.

The event's data: ``action`` (one of ``ACTIONS``), ``user`` (a username) and, where they
apply, ``role``, ``organisation_id``, ``consortium`` (``""``: every consortium),
``client`` (an API client's name) and ``changed`` (the user fields changed, by name).
Never a password or a key. Payment instructions (``consortium.reports.instructions``) are
recorded here too: ``payment_instruction_proposed`` / ``_approved`` / ``_rejected``, with
``user`` the person acting, ``consortium``, and ``instruction`` (its id, bank details and
proposer), so the history shows who changed where partners pay, and who agreed. Its
metadata names the acting person like a command's (``actor``, ``correlation_id``,
``causation_id``, ``source``). No projection handles
these events (none lists ``AccessChanged`` among its types); the history words them.
"""

import dataclasses
import datetime as dt
import getpass
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from consortium.api.access import digest, new_key
from consortium.domain.errors import InvalidInput
from consortium.domain.events import consortium_stream_id
from consortium.models import ApiClient, RoleGrant
from ledger import store

STREAM = "access"
EVENT_TYPE = "AccessChanged"
ACTIONS = (
    "user_created",
    "user_changed",
    "role_granted",
    "role_revoked",
    "api_client_created",
    "api_client_revoked",
    "payment_instruction_proposed",
    "payment_instruction_approved",
    "payment_instruction_rejected",
)
PAYMENT_INSTRUCTION_ACTIONS = tuple(a for a in ACTIONS if a.startswith("payment_instruction_"))
ADMIN = "admin"
CLI = "cli"
KEY_PREFIX_LENGTH = 12  # what is kept of a key to recognise it (``csk_`` and 8 more)


class GrantRefused(ValueError):
    """A grant that breaks a rule; ``field`` is the form field it concerns."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclasses.dataclass(frozen=True)
class Acting:
    """Who changes access, and through what: a signed-in superuser in the admin, or the
    operating-system account running a management command."""

    name: str
    source: str

    @classmethod
    def admin(cls, user: AbstractBaseUser | AnonymousUser) -> "Acting":
        if not user.is_authenticated or not getattr(user, "is_superuser", False):
            raise PermissionError("Only superusers change users, role grants and API clients.")
        return cls(user.get_username(), ADMIN)

    @classmethod
    def cli(cls) -> "Acting":
        try:
            name = getpass.getuser()
        except (KeyError, OSError):  # no name for this uid (a bare container)
            name = "unknown"
        return cls(name, CLI)


def record(
    acting: Acting,
    action: str,
    *,
    user: str,
    role: str | None = None,
    organisation_id: str | None = None,
    consortium: str | None = None,
    client: str | None = None,
    changed: Sequence[str] | None = None,
    instruction: Mapping[str, Any] | None = None,
) -> store.AppendResult:
    """Append one ``AccessChanged`` event. Call it inside the transaction that makes the
    change (every function below does), so the change and its record commit together."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown access action {action!r}; one of {', '.join(ACTIONS)}.")
    data: dict[str, Any] = {"action": action, "user": user}
    optional = {
        "role": role,
        "organisation_id": organisation_id or None,
        "consortium": consortium,
        "client": client,
        "changed": sorted(changed) if changed else None,
        "instruction": dict(instruction) if instruction else None,
    }
    data.update({key: value for key, value in optional.items() if value is not None})
    metadata = {
        "actor": acting.name,
        "correlation_id": str(uuid.uuid4()),
        "causation_id": None,
        "source": acting.source,
    }
    event = store.NewEvent(EVENT_TYPE, data, effective_on=timezone.now().date())
    return store.append(STREAM, [event], expected_version=None, metadata=metadata)


# --- grants ------------------------------------------------------------------------------


def parse_role(text: str) -> tuple[str, str]:
    """``deal_team``, ``finance``, ``auditor`` or ``partner:<organisation id>``."""
    role, _, organisation = text.partition(":")
    check_grant(role, organisation)
    return role, organisation


def check_grant(role: str, organisation_id: str) -> None:
    """The role exists, and names an organisation exactly when it is ``partner``."""
    if role not in RoleGrant.ROLES:
        raise GrantRefused(
            f"{role!r} is not a role: use deal_team, finance, auditor or partner:<organisation>.",
            field="role",
        )
    if role == "partner" and not organisation_id:
        raise GrantRefused(
            "A partner grant names its organisation (partner:<organisation>): use deal_team, "
            "finance, auditor or partner:<organisation>.",
            field="organisation_id",
        )
    if role != "partner" and organisation_id:
        raise GrantRefused(
            f"Only a partner grant names an organisation; leave it empty for {role} "
            "(use deal_team, finance, auditor or partner:<organisation>).",
            field="organisation_id",
        )


def consortium_known(slug: str) -> bool:
    """The ledger has a consortium ``slug`` (asked of the ledger, not of a projection that
    may lag behind a consortium formed a moment ago)."""
    try:
        return store.stream_exists(consortium_stream_id(slug))
    except InvalidInput:
        return False


def grant_role(
    acting: Acting, user: User, role: str, organisation_id: str, consortium: str
) -> tuple[RoleGrant, bool]:
    """Grant ``role`` (``consortium=""``: everywhere); recorded when new. Returns the grant
    and whether it was created. Never touches ``is_staff``."""
    check_grant(role, organisation_id)
    with transaction.atomic():
        grant, created = RoleGrant.objects.get_or_create(
            user=user, role=role, organisation_id=organisation_id, consortium=consortium
        )
        if created:
            role_granted(acting, grant)
    return grant, created


def role_granted(acting: Acting, grant: RoleGrant) -> None:
    """Record a grant just saved (the admin saves it through its form)."""
    _record_grant(acting, "role_granted", grant)


def role_revoked(acting: Acting, grant: RoleGrant) -> None:
    """Record a grant about to be deleted (or just deleted)."""
    _record_grant(acting, "role_revoked", grant)


def revoke_grants(acting: Acting, grants: Iterable[RoleGrant]) -> int:
    """Delete the grants, each recorded; returns how many."""
    count = 0
    with transaction.atomic():
        for grant in grants:
            role_revoked(acting, grant)
            grant.delete()
            count += 1
    return count


def _record_grant(acting: Acting, action: str, grant: RoleGrant) -> None:
    record(
        acting,
        action,
        user=grant.user.get_username(),
        role=grant.role,
        organisation_id=grant.organisation_id,
        consortium=grant.consortium,
    )


# --- users -------------------------------------------------------------------------------


def user_created(acting: Acting, user: AbstractBaseUser, changed: Sequence[str] = ()) -> None:
    """Record a user just created (``changed``: what was set beyond the username)."""
    record(acting, "user_created", user=user.get_username(), changed=changed)


def user_changed(acting: Acting, user: AbstractBaseUser, changed: Sequence[str]) -> None:
    """Record a change of the user's fields (by name; ``password`` for a new password)."""
    if changed:
        record(acting, "user_changed", user=user.get_username(), changed=changed)


# --- API clients -------------------------------------------------------------------------


class ClientRefused(ValueError):
    """An API client that cannot be created or revoked as asked."""


def create_api_client(
    acting: Acting, *, name: str, user: User, expires_at: dt.datetime | None = None
) -> tuple[ApiClient, str]:
    """A new client for ``user`` and its key: the key is returned here, to be shown once,
    and only its digest is stored."""
    key = new_key()
    with transaction.atomic():
        if ApiClient.objects.filter(name=name).exists():
            raise ClientRefused(f"An API client named {name!r} exists already.")
        client = ApiClient.objects.create(
            name=name,
            user=user,
            key_prefix=key[:KEY_PREFIX_LENGTH],
            key_digest=digest(key),
            expires_at=expires_at,
        )
        record(acting, "api_client_created", user=user.get_username(), client=name)
    return client, key


def revoke_api_clients(acting: Acting, clients: QuerySet[ApiClient]) -> list[ApiClient]:
    """Revoke those of ``clients`` not revoked yet, each recorded; returns them. The rows
    are locked first, so two revocations of one client record it once."""
    revoked = []
    with transaction.atomic():
        now = timezone.now()
        pending = clients.select_for_update().filter(revoked_at__isnull=True)
        for client in pending.select_related("user").order_by("name"):
            client.revoked_at = now
            client.save(update_fields=["revoked_at"])
            record(
                acting, "api_client_revoked", user=client.user.get_username(), client=client.name
            )
            revoked.append(client)
    return revoked
