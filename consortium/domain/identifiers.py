"""Validation of ids, slugs, free text, people and vocabulary words given to commands.

Every string a command carries into the ledger passes one of these checks in the domain,
so a direct service call, an admin form and the API are refused alike, naming the field,
before the ledger's own encoding checks (which stay as the last line) could be reached.

**Free text** (names, purposes, reasons, references) follows one rule, ``Text``; each kind
of text is one instance below (``NAME``, ``PURPOSE``...), and the API's serializers take
their ``max_length`` from it, so the published schema states the limit the domain keeps:

- Characters: never NUL, a lone surrogate (text that is not Unicode, such as a JSON
  ``"\\ud800"`` escape) or another control character (C0, DEL and C1: U+0001-U+001F,
  U+007F-U+009F). Tab, line feed and carriage return are allowed only in multi-line
  text (purposes and reasons); names and references are one line. Formatting characters
  (U+200D, say) are letters' business, and allowed.
- Whitespace: surrounding whitespace is trimmed, never refused, and what is recorded is
  the trimmed text; characters are checked before trimming, so a control character is
  refused wherever it stands.
- Length: at most ``max_length`` characters (Unicode code points, as JSON Schema's
  ``maxLength`` counts them) after trimming; required text must not be blank.

Ids and slugs are patterns (``SLUG_PATTERN``, ``IDENTIFIER_PATTERN``), which admit no
control character and bound the length by themselves. A refusal quotes what was given
cut to ``SHOWN_CHARACTERS``, so a megabyte of input never becomes a megabyte of message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final, TypeVar

from consortium.domain.errors import InvalidDate, InvalidInput, NotAPerson

SLUG_MAX_LENGTH: Final = 64
IDENTIFIER_MAX_LENGTH: Final = 100
# Anchored, and written so that Python's ``re`` and ECMA-262 (OpenAPI) read them alike.
SLUG_PATTERN: Final = r"^[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?$"
IDENTIFIER_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$"
_SLUG = re.compile(SLUG_PATTERN)
_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)
# Actor strings that name a machine, not a person (rule 7: approvals need named people).
NON_PERSON_PREFIXES: Final[tuple[str, ...]] = ("system:", "key:", "apikey:", "api-key:", "token:")
NON_PERSON_NAMES: Final[frozenset[str]] = frozenset({"system", "anonymous", "api", "admin-key"})
SHOWN_CHARACTERS: Final = 40

# What free text may not contain: one line, or several (tab, LF and CR allowed).
ONE_LINE_PATTERN: Final = r"^[^\u0000-\u001f\u007f-\u009f]*$"
MULTI_LINE_PATTERN: Final = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"
_NEVER_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_NEVER_MULTI_LINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

W = TypeVar("W", bound=str)


def shown(value: object) -> str:
    """``value`` quoted for a message, cut to ``SHOWN_CHARACTERS`` (its length said)."""
    if isinstance(value, str) and len(value) > SHOWN_CHARACTERS:
        return f"{value[:SHOWN_CHARACTERS]!r}... ({len(value):,} characters)"
    text = repr(value)
    return text if len(text) <= 2 * SHOWN_CHARACTERS else f"{text[: 2 * SHOWN_CHARACTERS]}..."


def unstorable(text: str, *, multiline: bool = True) -> str | None:
    """Why ``text`` holds a character no text may hold, or None: a NUL, a lone surrogate,
    a control character (tab, LF and CR only in multi-line text)."""
    found = (_NEVER_MULTI_LINE if multiline else _NEVER_ONE_LINE).search(text)
    if found is None:
        return None
    character = found.group()
    at = f"(U+{ord(character):04X}, character {found.start() + 1})"
    if character == "\x00":
        return f"contains a NUL character {at}"
    if "\ud800" <= character <= "\udfff":
        return f"contains a lone surrogate {at}, which is not text"
    if character in "\t\n\r":
        return f"must be one line; it contains a tab or line break {at}"
    return f"contains a control character {at}"


@dataclass(frozen=True, slots=True)
class Text:
    """A kind of free text a command takes: its limit, and whether it may span lines."""

    max_length: int
    multiline: bool = False
    required: bool = True

    @property
    def pattern(self) -> str:
        """The characters it may hold, as a regular expression (the schema's ``pattern``;
        a lone surrogate, which no pattern can name, is refused all the same)."""
        return MULTI_LINE_PATTERN if self.multiline else ONE_LINE_PATTERN

    def check(self, value: object, *, field: str, what: str) -> str:
        """The text, trimmed; else ``InvalidInput`` naming ``field`` (see the module)."""
        if not isinstance(value, str):
            raise InvalidInput(f"{what} must be text; got {shown(value)}.", field=field)
        fault = unstorable(value, multiline=self.multiline)
        if fault is not None:
            raise InvalidInput(f"{what} {fault}; remove it.", field=field)
        text = value.strip()
        if not text and self.required:
            raise InvalidInput(f"{what} must not be blank.", field=field)
        if len(text) > self.max_length:
            raise InvalidInput(
                f"{what} is {len(text):,} characters long; at most {self.max_length:,} "
                "are allowed.",
                field=field,
            )
        return text


NAME: Final = Text(200)  # a consortium's, a partner's, an asset's
LOCATION: Final = Text(200)
BANK_REFERENCE: Final = Text(200)
PURPOSE: Final = Text(1000, multiline=True)
REASON: Final = Text(1000, multiline=True)
OPTIONAL_REASON: Final = Text(1000, multiline=True, required=False)
PERSON: Final = Text(150)  # a username (Django's own limit)


def check_slug(value: object, *, field: str, what: str) -> str:
    """A lowercase slug such as `aip` or `mgx`: letters, digits, `-` and `_`, at most 64."""
    if not isinstance(value, str) or not _SLUG.fullmatch(value):
        raise InvalidInput(
            f"{what} must be a lowercase slug of letters, digits, '-' or '_' "
            f"(at most {SLUG_MAX_LENGTH} characters, such as 'mgx'); got {shown(value)}.",
            field=field,
        )
    return value


def check_identifier(value: object, *, field: str, what: str) -> str:
    """An id such as `call-2025-01` or a UUID: at most 100 characters, no spaces."""
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
        raise InvalidInput(
            f"{what} must be 1 to {IDENTIFIER_MAX_LENGTH} letters, digits, '.', '_', ':' or '-', "
            f"starting with a letter or digit; got {shown(value)}.",
            field=field,
        )
    return value


def check_text(value: object, *, field: str, what: str, kind: Text = NAME) -> str:
    """Free text of ``kind`` (see ``Text``), returned trimmed."""
    return kind.check(value, field=field, what=what)


def check_person(value: object, *, field: str, what: str) -> str:
    """A named person (a username), never blank and never a system or API key."""
    if not isinstance(value, str) or not value.strip():
        raise NotAPerson(f"{what} must be a named person; none was given.", field=field)
    person = PERSON.check(value, field=field, what=what)
    lowered = person.lower()
    if lowered in NON_PERSON_NAMES or lowered.startswith(NON_PERSON_PREFIXES):
        raise NotAPerson(
            f"{what} must be a named person, not the system account {shown(person)}.",
            field=field,
        )
    return person


def same_person(first: str, second: str) -> bool:
    """Usernames compare without case or surrounding spaces."""
    return first.strip().casefold() == second.strip().casefold()


def check_choice(value: object, choices: Sequence[W], *, field: str, what: str) -> W:
    """One of the vocabulary words in `choices`, returned typed as that vocabulary."""
    for choice in choices:
        if value == choice:
            return choice
    allowed = ", ".join(choices)
    raise InvalidInput(f"{what} must be one of {allowed}; got {shown(value)}.", field=field)


def check_date(value: object, *, field: str, what: str) -> date:
    """A calendar date, not a datetime (effective dates are business days)."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidDate(f"{what} must be a calendar date; got {shown(value)}.", field=field)
    return value
