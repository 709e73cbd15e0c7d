"""Which generation of a projection readers see, and how far it has applied the ledger."""

from ledger import db


def live_state(name: str) -> tuple[int, int]:
    """The projection's checkpoint and live generation, in one query ((0, 1) if unknown).

    Together they determine everything the live tables say: a reader may key a cache of
    what it rendered from them on this pair.
    """
    rows = db.fetch(
        "SELECT checkpoint, generation FROM ledger_projection_state WHERE name = %s", [name]
    )
    return (int(rows[0][0]), int(rows[0][1])) if rows else (0, 1)


def live_generation(name: str) -> int:
    """The generation readers should see."""
    return live_state(name)[1] or 1
