"""Helpers: run the consortium projections, dump their tables, rebuild into a fresh one."""

from typing import Any

import pytest

from consortium.projections import NAMES
from ledger.projections import registry, runner
from ledger.store import MAX_READ_LIMIT, RecordedEvent, read_all


def catch_up(batch: int = 1000) -> None:
    """Catch every consortium projection up with the ledger, through the runner."""
    for name in NAMES:
        runner.catch_up(name, batch=batch)


def table(name: str, generation: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the projection's tables in ``generation`` (all columns but the id)."""
    dump = {}
    for model in registry.get(name).models:
        columns = [
            f.attname for f in model._meta.concrete_fields if f.attname not in ("id", "generation")
        ]
        rows = model._default_manager.filter(generation=generation).values_list(*columns)
        dump[model.__name__] = sorted(rows, key=repr)
    return dump


def live_table(name: str) -> dict[str, list[tuple[Any, ...]]]:
    return table(name, runner.live_generation(name))


def events_for(name: str) -> list[RecordedEvent]:
    """Every event of the projection's types, in position order."""
    types = registry.get(name).event_types
    events: list[RecordedEvent] = []
    while True:
        page = read_all(
            after=events[-1].position if events else 0, limit=MAX_READ_LIMIT, types=types
        )
        events.extend(page)
        if len(page) < MAX_READ_LIMIT:
            return events


def fresh_rebuild(name: str, generation: int = 900) -> dict[str, list[tuple[Any, ...]]]:
    """Apply every event in ONE batch, with a fresh instance, into a scratch generation."""
    projection = type(registry.get(name))()
    projection.reset(generation)
    events = events_for(name)
    if events:
        projection.apply(events, generation=generation, after=0)
    dump = table(name, generation)
    projection.reset(generation)
    return dump


class Helpers:
    catch_up = staticmethod(catch_up)
    table = staticmethod(table)
    live_table = staticmethod(live_table)
    events_for = staticmethod(events_for)
    fresh_rebuild = staticmethod(fresh_rebuild)


@pytest.fixture
def helpers() -> type[Helpers]:
    """The helpers above, for test modules (which cannot import a conftest)."""
    return Helpers
