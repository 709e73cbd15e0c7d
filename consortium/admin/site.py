"""The workspace's admin site: who may enter, and the rooms' pages beside the models'.

Entry needs an active staff user with a deal-team, finance or auditor grant somewhere, or
a superuser (``consortium.roles.may_use_workspace``); Django's model permissions are not
consulted for the workspace's own pages, which ask the roles for what they show and do. A
``partner:<org>`` user is never staff: it has the read-only partner view instead.
"""

from django.db.models import Q
from django.http import HttpRequest
from django.urls import URLPattern
from unfold.sites import UnfoldAdminSite

from consortium import roles


class Workspace(UnfoldAdminSite):
    site_header = "Consortium"
    site_title = "Consortium workspace"
    index_title = "Consortia"
    # The landing page (its context: UNFOLD["DASHBOARD_CALLBACK"], consortium.admin.dashboards).
    index_template = "workspace/dashboards/index.html"

    def has_permission(self, request: HttpRequest) -> bool:
        return roles.may_use_workspace(request.user)

    def event_scope(self, request: HttpRequest) -> Q | None:
        """The ledger events the user may read (None: none): the history's rule, which the
        ledger's own ``EventAdmin`` asks here instead of Django's model permissions."""
        from consortium.admin.journal import event_scope

        return event_scope(request.user)

    def extra_urls(self) -> list[URLPattern]:
        """Each room's pages, wrapped in ``admin_view`` (signed in, allowed in, no cache)."""
        from consortium.admin import (
            approvals,
            commands,
            dashboards,
            journal,
            operations,
            people,
            recipients,
            reports,
        )

        patterns: list[URLPattern] = []
        # commands first: its "consortia/new/" must win over the dashboard's "consortia/<slug>/".
        rooms = (commands, dashboards, approvals, journal, operations, people, recipients, reports)
        for room in rooms:
            for pattern in room.urls():
                pattern.callback = self.admin_view(pattern.callback)
                patterns.append(pattern)
        return patterns
