"""What the consortium projections share: rows <-> model instances, and the stream loop."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any, ClassVar, TypeVar

from consortium.domain.events import (
    ASSET_EVENTS,
    ASSET_STREAM_PREFIX,
    CONSORTIUM_EVENTS,
    CONSORTIUM_STREAM_PREFIX,
)
from consortium.projections.cache import Entry, StreamStates, Tracker
from ledger.projections.base import Projection, ProjectionRow
from ledger.store import RecordedEvent

CONSORTIUM_TYPES = frozenset(cls.TYPE for cls in CONSORTIUM_EVENTS)
ASSET_TYPES = frozenset(cls.TYPE for cls in ASSET_EVENTS)

R = TypeVar("R")
T = TypeVar("T", bound=Tracker)


_FIELD_NAMES: dict[type[Any], tuple[str, ...]] = {}


def field_names(row_type: type[Any]) -> tuple[str, ...]:
    """The field names of a dataclass row type (cached)."""
    names = _FIELD_NAMES.get(row_type)
    if names is None:
        names = _FIELD_NAMES[row_type] = tuple(f.name for f in fields(row_type))
    return names


def row_values(row: object, **extra: Any) -> dict[str, Any]:
    """The column values of a table row: every field of the dataclass ``row``, plus
    ``extra`` (generation, position, keys). Plain dicts: ``COPY`` needs no model instance."""
    values = {name: getattr(row, name) for name in field_names(type(row))}
    values.update(extra)
    return values


def from_values(row_type: type[R], values: dict[str, Any]) -> R:
    """A dataclass row from a ``.values()`` dict (bookkeeping columns ignored)."""
    return row_type(**{name: values[name] for name in field_names(row_type)})


def read_rows(
    model: type[ProjectionRow], row_type: type[R], generation: int, **where: Any
) -> list[tuple[R, dict[str, Any]]]:
    """The rows of one generation matching ``where`` (lookups such as ``status__in``
    allowed), with their raw values (the columns ``where`` names included)."""
    names = field_names(row_type)
    query = model._default_manager.filter(generation=generation, **where)
    columns = dict.fromkeys(lookup.split("__")[0] for lookup in where)
    keys = [column for column in columns if column not in names]
    return [(from_values(row_type, v), v) for v in query.values(*names, "position", *keys)]


def slug_of(stream: str) -> str:
    return stream.removeprefix(CONSORTIUM_STREAM_PREFIX)


def asset_of(stream: str) -> str:
    return stream.removeprefix(ASSET_STREAM_PREFIX)


class ConsortiumStreamProjection(Projection):
    """A projection fed every consortium event: fold per stream, rewrite touched keys.

    Subclasses set ``tracker`` and implement ``write(touched, generation, after)``.
    """

    event_types: ClassVar[frozenset[str] | None] = CONSORTIUM_TYPES
    tracker: ClassVar[Callable[[], Tracker]]

    def __init__(self) -> None:
        self.states: StreamStates[Any] = StreamStates(
            type(self).tracker, CONSORTIUM_TYPES, contiguous=True
        )

    def forget(self) -> None:
        self.states.clear()

    def apply(self, events: Sequence[RecordedEvent], *, generation: int, after: int) -> None:
        states = self.states
        states.begin(generation, after)
        touched: dict[str, Entry[Any]] = {}
        for event in events:
            touched[event.stream] = states.apply(event)
        if events:
            states.end(events[-1].position)
        self.write(touched, generation, after)

    def write(self, touched: dict[str, Entry[Any]], generation: int, after: int) -> None:
        """Rewrite the rows of the touched streams (events above ``after``)."""
        raise NotImplementedError
