"""Validation of ids, slugs, free text, people and vocabulary words given to commands."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Final, TypeVar

from consortium.domain.errors import InvalidDate, InvalidInput, NotAPerson

_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?")
_IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")
# Actor strings that name a machine, not a person (rule 7: approvals need named people).
NON_PERSON_PREFIXES: Final[tuple[str, ...]] = ("system:", "key:", "apikey:", "api-key:", "token:")
NON_PERSON_NAMES: Final[frozenset[str]] = frozenset({"system", "anonymous", "api", "admin-key"})

W = TypeVar("W", bound=str)


def check_slug(value: object, *, field: str, what: str) -> str:
    """A lowercase slug such as `aip` or `mgx`: letters, digits, `-` and `_`, at most 64."""
    if not isinstance(value, str) or not _SLUG.fullmatch(value):
        raise InvalidInput(
            f"{what} must be a lowercase slug of letters, digits, '-' or '_' "
            f"(at most 64 characters, such as 'mgx'); got {value!r}.",
            field=field,
        )
    return value


def check_identifier(value: object, *, field: str, what: str) -> str:
    """An id such as `call-2025-01` or a UUID: at most 100 characters, no spaces."""
    if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
        raise InvalidInput(
            f"{what} must be 1 to 100 letters, digits, '.', '_', ':' or '-', starting with a "
            f"letter or digit; got {value!r}.",
            field=field,
        )
    return value


def check_text(value: object, *, field: str, what: str, max_length: int = 500) -> str:
    """Non-blank text of at most `max_length` characters; returned stripped."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{what} must not be blank.", field=field)
    text = value.strip()
    if len(text) > max_length:
        raise InvalidInput(f"{what} is longer than {max_length} characters.", field=field)
    return text


def check_person(value: object, *, field: str, what: str) -> str:
    """A named person (a username), never blank and never a system or API key."""
    if not isinstance(value, str) or not value.strip():
        raise NotAPerson(f"{what} must be a named person; none was given.", field=field)
    person = value.strip()
    lowered = person.lower()
    if lowered in NON_PERSON_NAMES or lowered.startswith(NON_PERSON_PREFIXES):
        raise NotAPerson(
            f"{what} must be a named person, not the system account {person!r}.", field=field
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
    raise InvalidInput(f"{what} must be one of {allowed}; got {value!r}.", field=field)


def check_date(value: object, *, field: str, what: str) -> date:
    """A calendar date, not a datetime (effective dates are business days)."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidDate(f"{what} must be a calendar date; got {value!r}.", field=field)
    return value
