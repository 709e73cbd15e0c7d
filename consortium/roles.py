"""Roles: who may read and do what, in the API and the deal-team workspace alike.

Roles are granted globally or per consortium (``consortium.models.RoleGrant``):

- ``deal_team``: every command and every read;
- ``finance``: contributions and their reversals, debt draws and repayments, FX rates,
  and every read;
- ``auditor``: reads only, the event history included;
- ``partner`` (with an organisation id, ``partner:<org>``): reads only its own positions
  and capital calls, in the consortia it belongs to, through the partner view; never the
  workspace.

The API's views and the workspace's pages name the capability they need; both answer
from the same grants, so a user can do in the admin exactly what its grants allow in the
API.
"""

from typing import Any

from consortium.models import RoleGrant

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


# The deal-team workspace (the admin): any role but partner, in some consortium.
WORKSPACE_ROLES = frozenset({"deal_team", "finance", "auditor"})


def grants_everywhere(user: Any) -> list[RoleGrant]:
    """Every grant of the user, in any scope."""
    if not getattr(user, "is_authenticated", False):
        return []
    # Memoized on the user object, which lives for one request (a key's authentication
    # loads them with the user; a session user's are read here).
    every: list[RoleGrant] | None = user.__dict__.get("_all_role_grants")
    if every is None:
        every = user.__dict__["_all_role_grants"] = list(RoleGrant.objects.filter(user=user))
    return every


def grants(user: Any, consortium: str | None) -> list[RoleGrant]:
    """The user's grants that apply in ``consortium`` (global ones always apply)."""
    scopes = ("", consortium) if consortium else ("",)
    return [grant for grant in grants_everywhere(user) if grant.consortium in scopes]


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


def may_use_workspace(user: Any) -> bool:
    """An active staff user with a deal-team, finance or auditor grant somewhere, or a
    superuser (who manages users, grants and API clients)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active or not user.is_staff:
        return False
    if user.is_superuser:
        return True
    return any(grant.role in WORKSPACE_ROLES for grant in grants_everywhere(user))


def visible_consortia(user: Any, slugs: list[str], capability: str = READ) -> list[str]:
    """Those of ``slugs`` in which the user has ``capability`` (a global grant: all)."""
    return [slug for slug in slugs if has_capability(user, capability, slug)]
