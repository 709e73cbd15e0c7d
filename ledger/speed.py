"""The service's speed mechanisms, each with an off switch read in one place.

Each mechanism makes something faster without changing what any answer says. Each is
listed here once, with what it does and the benchmark figure it moves (README.md, "How
it is fast"); each asks ``enabled(name)`` where it is decided, so it can be turned off
for a measurement (or to rule it out while chasing a bug) by naming it in the environment
variable ``CONSORTIUM_SPEED_OFF`` (a comma list, read into ``settings.SPEED_OFF``).
A name that is not listed here is a configuration error at start-up (``check``).
"""

from __future__ import annotations

import dataclasses

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@dataclasses.dataclass(frozen=True)
class Mechanism:
    """One speed mechanism: its switch name, what it does, where, and what it moves."""

    name: str
    does: str
    where: str
    moves: str


MECHANISMS: dict[str, Mechanism] = {
    m.name: m
    for m in (
        Mechanism(
            "state-copies",
            "Commands decide on the process's copy of their stream's state, brought forward "
            "by each append's read-back; off, each command folds the stream from its stored "
            "snapshot and the ledger.",
            "ledger.states, ledger.commands",
            "bench/api.py (3) POST commitments/: writes per second; bench/commands.py",
        ),
        Mechanism(
            "prepared-statements",
            "The hot statements (API key lookup, a stream's newest events, the append) are "
            "prepared and server-bound on PostgreSQL; off, plain execution.",
            "ledger.db.fetch",
            "bench/api.py (1) GET bench/trivial/ (the key lookup); bench/ledger.py (b) appends",
        ),
        Mechanism(
            "stream-lock",
            "A process's commands on one stream take turns under an in-process lock, so "
            "two threads never race each other to the append; off, they race and the "
            "stream's version settles it.",
            "ledger.commands.stream_lock",
            "bench/api.py (3) POST commitments/: writes per second",
        ),
        Mechanism(
            "rendered-answers",
            "The API keeps each rendered projection answer and event fragment per process; "
            "off, every read is rendered again.",
            "consortium.api.rendered",
            "bench/api.py (4) GET consortia/aip/progress/: reads per second",
        ),
        Mechanism(
            "gc-freeze",
            "A web process freezes its start-up objects out of the garbage collector's "
            "walks and keeps few decoded events; off, the collector walks everything.",
            "config.wsgi",
            "bench/api.py (6) POST commitments/ at 100/s: write p99",
        ),
        Mechanism(
            "debounced-triggers",
            "Appends within a few milliseconds share one queued projection catch-up (one "
            "outbox entry, sent by its thread); off, each append queues its own catch-up.",
            "ledger.projections.triggers, ledger.queueing",
            "bench/api.py (3) POST commitments/: writes per second",
        ),
        Mechanism(
            "rebuild-gc-pause",
            "A projection rebuild runs with the garbage collector paused (reference "
            "counting still frees what it drops); off, the collector walks the rebuild's "
            "whole folded state again and again as its batches allocate.",
            "ledger.projections.runner.rebuild_many",
            "bench/projections.py (b) rebuild: events per second",
        ),
    )
}


def enabled(name: str) -> bool:
    """Whether the mechanism ``name`` is on (every one is, unless ``SPEED_OFF`` names it)."""
    if name not in MECHANISMS:
        raise KeyError(f"No speed mechanism is named {name!r} (known: {', '.join(MECHANISMS)}).")
    return name not in settings.SPEED_OFF


def check() -> None:
    """Refuse to start with an unknown name in ``CONSORTIUM_SPEED_OFF``."""
    unknown = [name for name in settings.SPEED_OFF if name not in MECHANISMS]
    if unknown:
        raise ImproperlyConfigured(
            f"CONSORTIUM_SPEED_OFF names {', '.join(map(repr, unknown))}, which are not speed "
            f"mechanisms; the known ones are {', '.join(MECHANISMS)}."
        )
