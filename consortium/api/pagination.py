"""Cursor pagination of the list endpoints (stable under appends: no offsets)."""

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request


class SlugCursorPagination(CursorPagination):
    """Pages of consortia, in slug order."""

    ordering = "consortium"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class AssetCursorPagination(CursorPagination):
    """Pages of assets, in asset id order."""

    ordering = "asset_id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class ReportCursorPagination(CursorPagination):
    """Pages of stored reports, newest first. A cursor this API did not give is a bad
    query parameter (400), not a missing page."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError(
                {self.cursor_query_param: [self.invalid_cursor_message]}
            ) from None
