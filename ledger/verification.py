"""Recompute the ledger's hash chain and say where, if anywhere, it breaks."""

import dataclasses
from collections.abc import Callable

from ledger import canonical, store


@dataclasses.dataclass(frozen=True)
class Anchor:
    """A published (position, hash) pair the ledger must still extend."""

    position: int
    hash: str

    @classmethod
    def parse(cls, text: str) -> "Anchor":
        position, _, digest = text.partition(":")
        if not position.isdigit() or int(position) < 1 or len(digest) != 64:
            raise ValueError(
                f"{text!r} is not an anchor: write POSITION:HASH, e.g. 1200:9f86d0…(64 hex digits)."
            )
        return cls(int(position), digest.lower())


@dataclasses.dataclass(frozen=True)
class Report:
    """The outcome: events checked, the head, and the first failure (if any)."""

    checked: int
    head_position: int
    head_hash: str
    failed_at: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.failed_at is None


def verify(
    *, expect: list[Anchor] | None = None, progress: Callable[[int], None] | None = None
) -> Report:
    """Walk every stored event in order, recomputing positions, links and hashes."""
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
    encoded = canonical.event_bytes(
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
    if canonical.chain_hash(prev_hash, encoded) != event.hash:
        return "has a hash that does not match its contents (changed after it was written)"
    if last_recorded is not None and event.recorded_at < last_recorded:  # type: ignore[operator]
        return "was recorded earlier than the event before it"
    if event.position in anchors and anchors[event.position] != event.hash:
        return f"has hash {event.hash}, not the anchored {anchors[event.position]}"
    return ""
