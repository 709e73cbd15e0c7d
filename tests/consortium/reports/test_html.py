"""The HTML renderer: one self-contained, inline-styled document, every text escaped."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from consortium.reports.rendering import render
from tests.consortium.reports import documents


class Page(HTMLParser):
    """The tags, attributes and text of a page."""

    def __init__(self, content: bytes) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.text: list[str] = []
        self.feed(content.decode("utf-8"))
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += attrs

    def handle_data(self, data):
        self.text.append(data)

    @property
    def words(self) -> str:
        return " ".join(" ".join(self.text).split())


def page(kind: str) -> Page:
    return Page(render(documents.every()[kind], "html").content)


@pytest.mark.parametrize("kind", ["statement", "progress", "notice"])
def test_self_contained_with_inline_styles_only(kind):
    html = page(kind)
    assert not {"style", "link", "script", "img", "iframe", "object"} & set(html.tags)
    links = [value for name, value in html.attributes if name in ("src", "href")]
    assert links == []  # nothing to fetch, nowhere to go
    assert "style" in dict(html.attributes)


def test_every_text_is_escaped():
    raw = render(documents.notice(), "html").content.decode()
    assert "<script>" not in raw
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in raw
    assert "&lt;a&gt;" in raw
    html = page("notice")
    assert "script" not in html.tags
    assert " ".join(documents.MARKUP.split()) in html.words  # and it reads as written


def test_money_percentages_dates_and_the_anchor_read_well():
    words = page("notice").words
    assert "Commitment USD 2,250,000,000.00" in words
    assert "Pro-rata share 7.50 %" in words
    assert "Due date 30 Apr 2026" in words
    assert f"Ledger anchor 50001:{documents.HASH[::-1]}" in words
    assert "Figures as of 1 Apr 2026, computed at ledger position 50,001" in words


def test_a_table_names_its_currency_in_the_heading_and_a_chart_is_inline_svg():
    html = page("progress")
    assert "Signed (USD)" in html.words
    assert "30,000,000,000.00" in html.words
    assert "JPY 150,000,000,000" in html.words  # a column of mixed currencies: each its own
    assert html.tags.count("svg") == 2
    assert "polyline" in html.tags
    assert (
        "Société Générale &amp; Co &lt;ltd&gt;"
        in render(documents.progress(), "html").content.decode()
    )
