"""Read-only admin for the ledger: browse events by position, type and stream.

Who may read which events is the site's to say, when it knows: a site with an
``event_scope(request)`` method returning a ``Q`` filter on events (or None: nothing) rules
this admin instead of Django's model permissions, so the ledger needs to know nothing of
the domain's roles. Without that method, Django's view permission on ``Event`` applies.
"""

import json
from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from ledger.models import Event

EVENT_FIELDS = (
    "position",
    "stream",
    "version",
    "type",
    "schema_version",
    "effective_on",
    "recorded_at",
    "pretty_data",
    "pretty_metadata",
    "prev_hash",
    "hash",
)


@admin.register(Event)
class EventAdmin(admin.ModelAdmin[Event]):
    """Events are evidence: they can be read and searched, never added, changed or deleted."""

    list_display = ["position", "stream_link", "version", "type", "effective_on", "recorded_at"]
    list_filter = ["type"]
    search_fields = ["=stream", "stream"]
    ordering = ["position"]
    list_per_page = 100
    show_full_result_count = False
    fields = EVENT_FIELDS
    readonly_fields = EVENT_FIELDS

    @admin.display(description="stream", ordering="stream")
    def stream_link(self, event: Event) -> SafeString:
        """The stream name, linking to its full history (position order is version order)."""
        url = reverse("admin:ledger_event_changelist")
        return format_html('<a href="{}?stream={}">{}</a>', url, event.stream, event.stream)

    @admin.display(description="data")
    def pretty_data(self, event: Event) -> SafeString:
        return format_html("<pre>{}</pre>", json.dumps(event.data, indent=2, sort_keys=True))

    @admin.display(description="metadata")
    def pretty_metadata(self, event: Event) -> SafeString:
        return format_html("<pre>{}</pre>", json.dumps(event.metadata, indent=2, sort_keys=True))

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        return lookup == "stream" or super().lookup_allowed(lookup, value, request)

    def _scope(self, request: HttpRequest) -> Q | bool | None:
        """The site's filter for ``request`` (None: nothing), or False if it has no rule."""
        decide: Any = getattr(self.admin_site, "event_scope", None)
        return False if decide is None else decide(request)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Event]:
        events = super().get_queryset(request)
        scope = self._scope(request)
        if scope is False:
            return events
        return events.none() if scope is None else events.filter(scope)

    def has_view_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        scope = self._scope(request)
        if scope is False:
            return super().has_view_permission(request, obj)
        return scope is not None

    def has_module_permission(self, request: HttpRequest) -> bool:
        scope = self._scope(request)
        if scope is False:
            return super().has_module_permission(request)
        return scope is not None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        return False
