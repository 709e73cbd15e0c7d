"""Load a consortium's or an asset's state from the ledger, through the process's copies.

The folding code's version is part of the snapshot key: bump ``STATE_CODE_VERSION`` in
``consortium.domain.state`` whenever folding changes, and every stored snapshot is
ignored and rebuilt from the ledger.
"""

from collections.abc import Collection
from datetime import date

from django.db.models import Max

from consortium.domain.events import (
    ASSET_STREAM_PREFIX,
    CONSORTIUM_STREAM_PREFIX,
    AssetRegistered,
    ConsortiumFormed,
    DatedEvent,
    asset_stream_id,
    consortium_stream_id,
    event_from_stored,
)
from consortium.domain.state import STATE_CODE_VERSION, AssetState, ConsortiumState
from ledger import caches, states
from ledger.models import Event as StoredEvent
from ledger.store import RecordedEvent, read_stream

CODE_VERSION = f"consortium-state-{STATE_CODE_VERSION}"


# Decoded events by position, checked by hash: the projections of one rebuild batch (and
# of one catch-up) see the same events, and decoding is the costliest step of a fold. A
# worker's batch is up to 10,000 events; a web process folds each new event into a few
# copies of a state within moments, so it keeps far fewer (``config.wsgi``): every cached
# event is objects the garbage collector walks, holding the interpreter, on each full
# collection.
DECODED_EVENTS_CACHED = 50_000
_decoded: dict[int, tuple[str, DatedEvent]] = {}


def cache_decoded_events(limit: int) -> None:
    """Keep at most ``limit`` decoded events (the cache is emptied when it fills)."""
    global DECODED_EVENTS_CACHED
    DECODED_EVENTS_CACHED = max(1, limit)
    _decoded.clear()


caches.register(
    "decoded-events",
    holds="ledger events decoded into domain events, by position (checked by hash)",
    bound="DECODED_EVENTS_CACHED events (fewer in a web process: config.wsgi); emptied when full",
    moves="bench/projections.py: rebuild and catch-up events per second",
    clear=_decoded.clear,
    size=lambda: len(_decoded),
)


def to_dated(recorded: RecordedEvent) -> DatedEvent:
    """A ledger event as the domain folds it (decoded once, however many fold it)."""
    cached = _decoded.get(recorded.position)
    if cached is not None and cached[0] == recorded.hash:
        return cached[1]
    if recorded.effective_on is None:
        raise ValueError(f"Event {recorded.position} has no effective date.")
    dated = DatedEvent(
        event=event_from_stored(recorded.type, recorded.data),
        effective_on=recorded.effective_on,
        recorded_at=recorded.recorded_at,
        version=recorded.version,
    )
    if len(_decoded) >= DECODED_EVENTS_CACHED:
        _decoded.clear()
    _decoded[recorded.position] = (recorded.hash, dated)
    return dated


def _apply_consortium(state: ConsortiumState, recorded: RecordedEvent) -> None:
    state.apply(to_dated(recorded))


def _apply_asset(state: AssetState, recorded: RecordedEvent) -> None:
    state.apply(to_dated(recorded))


states.register(
    states.Loader(CONSORTIUM_STREAM_PREFIX, CODE_VERSION, ConsortiumState, _apply_consortium)
)
states.register(states.Loader(ASSET_STREAM_PREFIX, CODE_VERSION, AssetState, _apply_asset))


def load_consortium(slug: str) -> states.Loaded[ConsortiumState]:
    """The consortium's current state and stream version (0 and empty if not formed)."""
    return states.load(
        consortium_stream_id(slug),
        code_version=CODE_VERSION,
        initial=ConsortiumState,
        apply=_apply_consortium,
    )


def load_asset(asset_id: str) -> states.Loaded[AssetState]:
    """The asset's current state and stream version (0 and empty if not registered)."""
    return states.load(
        asset_stream_id(asset_id),
        code_version=CODE_VERSION,
        initial=AssetState,
        apply=_apply_asset,
    )


def consortium_history(slug: str, *, upto_position: int | None = None) -> list[DatedEvent]:
    """Every event of the consortium's stream (at or below ``upto_position``, if given), in
    order (for as-of folds and tests)."""
    stream = consortium_stream_id(slug)
    return [to_dated(event) for event in read_stream(stream, upto_position=upto_position)]


def asset_history(asset_id: str, *, upto_position: int | None = None) -> list[DatedEvent]:
    """Every event of the asset's stream (at or below ``upto_position``), in order."""
    stream = asset_stream_id(asset_id)
    return [to_dated(event) for event in read_stream(stream, upto_position=upto_position)]


def latest_effective_on(stream: str) -> date | None:
    """The latest effective date of any event of ``stream`` (None while it has none)."""
    found = StoredEvent.objects.filter(stream=stream).aggregate(latest=Max("effective_on"))
    latest: date | None = found["latest"]
    return latest


def has_events_after(stream: str, position: int) -> bool:
    """Whether ``stream`` has an event above ledger ``position``."""
    return bool(read_stream(stream, after_position=position, limit=1))


# --- what the ledger holds, by registration --------------------------------------------


def formed_consortia() -> dict[str, str]:
    """Every consortium formed in the ledger, slug -> name, in the order formed (read
    through the ledger's ``(type, position)`` index, so current even when projections lag)."""
    formed = StoredEvent.objects.filter(type=ConsortiumFormed.TYPE).order_by("position")
    return {data["slug"]: data["name"] for data in formed.values_list("data", flat=True)}


def registered_assets(
    sponsors: Collection[str] | None = None, *, upto_position: int | None = None
) -> dict[str, str]:
    """Every asset registered in the ledger (those ``sponsors`` sponsor, if given; at or
    below ``upto_position``, if given), asset id -> name, in the order registered."""
    registered = StoredEvent.objects.filter(type=AssetRegistered.TYPE).order_by("position")
    if upto_position is not None:
        registered = registered.filter(position__lte=upto_position)
    if sponsors is not None:
        registered = registered.filter(data__sponsor__in=list(sponsors))
    return {data["asset_id"]: data["name"] for data in registered.values_list("data", flat=True)}
