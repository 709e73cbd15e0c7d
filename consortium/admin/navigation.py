"""The workspace's sidebar: each room's pages, shown when its URL exists and the user's
roles allow it (``UNFOLD["SIDEBAR"]["navigation"]`` names ``sidebar``)."""

from typing import Any

from django.http import HttpRequest
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse

# (group, [(title, material-symbols icon, URL name, who sees it)]); "workspace" is any
# workspace user, "superuser" only superusers.
ROOMS: list[tuple[str, list[tuple[str, str, str, str]]]] = [
    (
        "Deals",
        [
            ("Consortia", "dashboard", "admin:index", "workspace"),
            ("Approvals", "approval", "admin:workspace-approvals", "workspace"),
            ("History", "history", "admin:workspace-journal", "workspace"),
            ("Recipients and payment", "contact_mail", "admin:workspace-recipients", "workspace"),
        ],
    ),
    (
        "Reports",
        [
            ("Stored reports", "description", "admin:workspace-reports", "workspace"),
            (
                "Report schedules",
                "schedule_send",
                "admin:consortium_reportschedule_changelist",
                "workspace",
            ),
            ("Report runs", "event_repeat", "admin:consortium_reportrun_changelist", "workspace"),
            ("Deliveries", "outgoing_mail", "admin:consortium_delivery_changelist", "workspace"),
        ],
    ),
    (
        "Operations",
        [
            ("Projections", "sync", "admin:workspace-projections", "workspace"),
            ("Users", "person", "admin:auth_user_changelist", "superuser"),
            ("Role grants", "badge", "admin:consortium_rolegrant_changelist", "superuser"),
            ("API clients", "key", "admin:consortium_apiclient_changelist", "superuser"),
        ],
    ),
]


def sidebar(request: HttpRequest) -> list[dict[str, Any]]:
    superuser = bool(getattr(request.user, "is_superuser", False))
    groups = []
    for title, rooms in ROOMS:
        items = []
        for label, icon, name, who in rooms:
            if who == "superuser" and not superuser:
                continue
            try:
                link = reverse(name)
            except NoReverseMatch:  # a room not built in this checkout
                continue
            item: dict[str, Any] = {"title": label, "icon": icon, "link": link}
            if name == "admin:workspace-approvals":
                _badge(item, request)
            if name == "admin:workspace-recipients":
                _instructions_badge(item, request)
            items.append(item)
        if items:
            groups.append({"title": title, "separator": True, "items": items})
    return groups


def _badge(item: dict[str, Any], request: HttpRequest) -> None:
    """The count of capital calls awaiting approval, when there are any. Unfold shows a
    ``badge`` that is no import path as it is."""
    from consortium.admin.approvals import awaiting_approval

    count = awaiting_approval(request.user)
    if count:
        item["badge"] = str(count)
        item["badge_variant"] = "warning"


def _instructions_badge(item: dict[str, Any], request: HttpRequest) -> None:
    """The count of payment instructions this user may approve or reject."""
    from consortium.admin.recipients import pending_for

    count = pending_for(request.user)
    if count:
        item["badge"] = str(count)
        item["badge_variant"] = "warning"


def styles(request: HttpRequest) -> str:
    """The workspace's own few rules beside the theme's (progress bars, overdue rows)."""
    return static("workspace/workspace.css")
