"""Cursor pagination of the list endpoints (stable under appends: no offsets)."""

from rest_framework.pagination import CursorPagination


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
