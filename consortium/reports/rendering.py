"""Render a ``Document`` in one format: bytes, a content type and a file name.

The renderers (``consortium.reports.renderers``, one module per format) lay out what the
document holds and do no arithmetic; the same document gives the same bytes every time
(nothing reads the clock, the machine's fonts or its locale).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from consortium.reports.document import FORMATS, Document, Format
from consortium.reports.renderers.cells import plain
from consortium.reports.renderers.csv import render_csv
from consortium.reports.renderers.html import render_html
from consortium.reports.renderers.pdf import render_pdf
from consortium.reports.renderers.xlsx import render_xlsx

__all__ = ["CONTENT_TYPES", "Rendered", "UnknownFormat", "plain", "render"]


@dataclass(frozen=True, slots=True)
class Rendered:
    content: bytes
    content_type: str
    filename: str


class UnknownFormat(ValueError):
    pass


CONTENT_TYPES: dict[str, str] = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}

_RENDERERS: dict[str, Callable[[Document], bytes]] = {
    "xlsx": render_xlsx,
    "csv": render_csv,
    "html": render_html,
    "pdf": render_pdf,
}
assert tuple(_RENDERERS) == FORMATS, "a renderer for each format, in the contract's order"


def render(document: Document, fmt: Format | str) -> Rendered:
    """The document in ``fmt`` (one of ``document.FORMATS``); another raises UnknownFormat."""
    renderer = _RENDERERS.get(fmt) if isinstance(fmt, str) else None
    if renderer is None:
        raise UnknownFormat(
            f"Reports come as {', '.join(FORMATS)}; {fmt!r} is not one of them."
        ) from None
    return Rendered(renderer(document), CONTENT_TYPES[fmt], f"{document.name}.{fmt}")
