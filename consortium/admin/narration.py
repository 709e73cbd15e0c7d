"""Events in words, for the history, a form's "changed since" list and success messages.

``describe(recorded, names)`` is one sentence for a ledger event; ``names`` maps
organisation ids (and consortium slugs) to display names where the caller knows them.
"""

from collections.abc import Mapping

from ledger.store import RecordedEvent


def describe(recorded: RecordedEvent, names: Mapping[str, str] | None = None) -> str:
    """One sentence for the event (the journal's own wording replaces this generic one)."""
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in recorded.type).strip()
    return f"{words.capitalize()} ({recorded.stream}, version {recorded.version})"
