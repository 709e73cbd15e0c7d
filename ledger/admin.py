"""Read-only admin for the ledger: browse events by position, type and stream."""

import json

from django.contrib import admin
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        return False
