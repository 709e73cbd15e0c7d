"""Recompute the ledger's hash chain and say where, if anywhere, it breaks; anchors.

The chain alone proves only that the stored events agree with each other. Someone able to
write the tables (a superuser, the owner, a restored backup) can change an event and
recompute every later hash and the head row, and ``verify`` without anchors passes. What
catches that is an **anchor**: a (position, hash) pair published outside the database
(``current_anchor``, printed by ``manage.py ledger_anchor`` and by ``verify_ledger``) and
checked later (``verify(expect=...)``, ``verify_ledger --expect POSITION:HASH``): a
rewrite at or below an anchored position changes that position's hash.

**Verification hooks**: checks a domain adds on top of the chain, registered by name
(``register_hook``) and run by ``verify()`` (hence ``manage.py verify_ledger``) once the
chain is intact. A hook takes no argument and yields a line per thing it checked (a
``str``) and a ``Problem`` per thing that no longer matches; any problem fails the
verification. The ledger knows nothing of what a hook checks (``consortium`` registers
the check of its sealed periods).
"""

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterable

from django.db import connection

from ledger import canonical, store

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclasses.dataclass(frozen=True)
class Anchor:
    """A published (position, hash) pair the ledger must still extend."""

    position: int
    hash: str

    @classmethod
    def parse(cls, text: str) -> "Anchor":
        position, _, digest = text.strip().partition(":")
        if not position.isdigit() or not _HEX64.match(digest.lower()):
            raise ValueError(
                f"{text!r} is not an anchor: write POSITION:HASH, e.g. 1200:9f86d0…(64 hex digits)."
            )
        return cls(int(position), digest.lower())

    def __str__(self) -> str:
        return f"{self.position}:{self.hash}"


@dataclasses.dataclass(frozen=True)
class CurrentAnchor:
    """The ledger's head as an anchor to publish, with the time its last event was recorded
    (None for an empty ledger, whose anchor is position 0 and the genesis hash)."""

    anchor: Anchor
    recorded_at: dt.datetime | None


class HeadMismatch(Exception):
    """The head row names a position whose stored event has another hash, or none."""


def current_anchor() -> CurrentAnchor:
    """The head's position and hash, read with the event at that position in one statement
    and refused (``HeadMismatch``) unless that event carries the same hash. Checks nothing
    below the head: that is ``verify``'s work."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT h.position, h.hash, e.hash, e.recorded_at FROM ledger_head h "
            "LEFT JOIN ledger_event e ON e.position = h.position WHERE h.partition = %s",
            [store.DEFAULT_PARTITION],
        )
        row = cursor.fetchone()
    if row is None:
        raise HeadMismatch("The ledger has no head row: run `manage.py migrate`.")
    position, head_hash, event_hash, recorded_at = int(row[0]), str(row[1]), row[2], row[3]
    if position == 0 and head_hash == canonical.GENESIS_HASH:
        return CurrentAnchor(Anchor(0, head_hash), None)
    if event_hash != head_hash:
        raise HeadMismatch(
            f"The head row says {position}:{head_hash}, but the event at position {position} "
            f"{'has hash ' + str(event_hash) if event_hash else 'is missing'}: "
            "run `manage.py verify_ledger`."
        )
    if isinstance(recorded_at, str):  # SQLite
        recorded_at = dt.datetime.fromisoformat(recorded_at)
    if recorded_at is not None and recorded_at.tzinfo is None:
        recorded_at = recorded_at.replace(tzinfo=dt.UTC)
    return CurrentAnchor(Anchor(position, head_hash), recorded_at)


# --- verification hooks ---


@dataclasses.dataclass(frozen=True)
class Problem:
    """Something a verification hook found no longer matching, at a position (if any)."""

    position: int | None
    text: str


Hook = Callable[[], Iterable["Problem | str"]]
_HOOKS: dict[str, Hook] = {}


def register_hook(name: str, hook: Hook) -> None:
    """Register ``hook`` under ``name`` (registering a name again replaces its hook)."""
    _HOOKS[name] = hook


def registered_hooks() -> dict[str, Hook]:
    """The hooks by name, in the order they were first registered."""
    return dict(_HOOKS)


@dataclasses.dataclass(frozen=True)
class HookReport:
    """What one hook checked (a line each) and the problems it found."""

    name: str
    lines: tuple[str, ...]
    problems: tuple[Problem, ...]


def run_hooks(names: Iterable[str] | None = None) -> list[HookReport]:
    """Run the registered hooks (or those named), each to the end."""
    chosen = registered_hooks() if names is None else {n: _HOOKS[n] for n in names}
    reports = []
    for name, hook in chosen.items():
        lines: list[str] = []
        problems: list[Problem] = []
        for item in hook():
            if isinstance(item, Problem):
                problems.append(item)
                lines.append(f"PROBLEM: {item.text}")
            else:
                lines.append(item)
        reports.append(HookReport(name, tuple(lines), tuple(problems)))
    return reports


@dataclasses.dataclass(frozen=True)
class Report:
    """The outcome: events checked, the head, the first failure of the chain (if any),
    and what each verification hook found (run only on an intact chain)."""

    checked: int
    head_position: int
    head_hash: str
    failed_at: int | None = None
    problem: str = ""
    hooks: tuple[HookReport, ...] = ()

    @property
    def chain_ok(self) -> bool:
        return self.failed_at is None

    @property
    def hook_problems(self) -> list[tuple[str, Problem]]:
        return [(hook.name, problem) for hook in self.hooks for problem in hook.problems]

    @property
    def ok(self) -> bool:
        return self.chain_ok and not self.hook_problems


def verify(
    *,
    expect: list[Anchor] | None = None,
    progress: Callable[[int], None] | None = None,
    hooks: bool = True,
) -> Report:
    """Walk every stored event in order, recomputing positions, links and hashes; then,
    with ``hooks`` and an intact chain, run every verification hook."""
    report = _verify_chain(expect, progress)
    if not hooks or not report.chain_ok:
        return report
    return dataclasses.replace(report, hooks=tuple(run_hooks()))


def _verify_chain(expect: list[Anchor] | None, progress: Callable[[int], None] | None) -> Report:
    anchors = {anchor.position: anchor.hash for anchor in expect or []}
    prev_hash, expected_position, last_recorded = canonical.GENESIS_HASH, 1, None
    head_position, head_hash = store.head_state()
    for event in store.iter_stored():
        problem = _check(event, expected_position, prev_hash, last_recorded, anchors)
        if problem:
            return Report(event.position - 1, head_position, head_hash, event.position, problem)
        prev_hash, last_recorded = event.hash, event.recorded_at
        expected_position += 1
        if progress and event.position % 100_000 == 0:
            progress(event.position)
    checked = expected_position - 1
    if anchors.get(0, canonical.GENESIS_HASH) != canonical.GENESIS_HASH:
        return Report(
            checked,
            head_position,
            head_hash,
            0,
            f"is where every chain starts: its hash is {canonical.GENESIS_HASH}, not the "
            f"anchored {anchors[0]}",
        )
    missing = [position for position in anchors if position > checked]
    if missing:
        return Report(
            checked, head_position, head_hash, min(missing), "is anchored but not in the ledger"
        )
    if (checked, prev_hash) != (head_position, head_hash):
        return Report(
            checked,
            head_position,
            head_hash,
            head_position if head_position > checked else checked,
            f"is missing or differs: the head row says {head_position}:{head_hash} but the "
            f"events end at {checked}:{prev_hash}",
        )
    return Report(checked, head_position, head_hash)


def stored_bytes(event: store.RecordedEvent) -> bytes:
    """The canonical bytes of a stored event, as its hash was computed over them."""
    return canonical.event_bytes(
        position=event.position,
        stream=event.stream,
        version=event.version,
        type=event.type,
        schema_version=event.schema_version,
        data=event.data,
        metadata=event.metadata,
        effective_on=event.effective_on,
        recorded_at=event.recorded_at,
    )


def _check(
    event: store.RecordedEvent,
    expected_position: int,
    prev_hash: str,
    last_recorded: object,
    anchors: dict[int, str],
) -> str:
    if event.position != expected_position:
        return (
            f"follows position {expected_position - 1}: positions {expected_position}.. are missing"
        )
    if event.prev_hash != prev_hash:
        return "does not link to the previous event's hash"
    if canonical.chain_hash(prev_hash, stored_bytes(event)) != event.hash:
        return "has a hash that does not match its contents (changed after it was written)"
    if last_recorded is not None and event.recorded_at < last_recorded:  # type: ignore[operator]
        return "was recorded earlier than the event before it"
    if event.position in anchors and anchors[event.position] != event.hash:
        return f"has hash {event.hash}, not the anchored {anchors[event.position]}"
    return ""
