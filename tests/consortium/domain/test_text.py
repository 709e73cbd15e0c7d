"""The free-text rule itself (``identifiers.Text``): the pattern the schema publishes and
the domain's check agree on every character, and a refusal never quotes a megabyte."""

import re

import pytest

from consortium.domain.errors import InvalidInput
from consortium.domain.identifiers import (
    NAME,
    PURPOSE,
    SLUG_PATTERN,
    Text,
    check_slug,
    shown,
    unstorable,
)

SURROGATES = range(0xD800, 0xE000)


@pytest.mark.parametrize("kind", [NAME, PURPOSE], ids=["one line", "several lines"])
def test_the_published_pattern_admits_exactly_the_characters_the_domain_admits(kind: Text):
    pattern = re.compile(kind.pattern)
    for code in [*range(0x0, 0x250), 0x2028, 0x200D, 0xFEFF, 0x10FFFF]:
        character = chr(code)
        admitted = unstorable(character, multiline=kind.multiline) is None
        # fullmatch: ECMA-262's ``$`` is the end of the text; Python's ``search`` would
        # also let it match before a final line break.
        assert bool(pattern.fullmatch(f"a{character}b")) == admitted, hex(code)


def test_a_lone_surrogate_is_refused_though_no_pattern_can_name_it():
    for code in (SURROGATES.start, 0xDBFF, 0xDC00, SURROGATES.stop - 1):
        with pytest.raises(InvalidInput, match="lone surrogate"):
            NAME.check(f"a{chr(code)}b", field="name", what="The name")


def test_a_refusal_quotes_a_megabyte_of_input_cut_short():
    with pytest.raises(InvalidInput) as refusal:
        check_slug("a" * 1_000_000, field="slug", what="The slug")
    assert len(refusal.value.message) < 300
    assert "1,000,000 characters" in refusal.value.message
    assert shown("mgx") == "'mgx'"


def test_the_slug_pattern_refuses_a_trailing_line_break():
    assert re.fullmatch(SLUG_PATTERN, "mgx")
    with pytest.raises(InvalidInput):
        check_slug("mgx\n", field="slug", what="The slug")
