"""Upcasters turn stored event shapes into current ones as they are read.

Stored rows are never rewritten (the hash chain covers what is stored); instead a
function registered for ``(type, schema_version)`` returns a newer ``(type,
schema_version, data)``. Upcasters chain until none matches, so an event can be renamed
(a new type) as well as reshaped.
"""

from collections.abc import Callable
from typing import Any

Upcaster = Callable[[dict[str, Any]], tuple[str, int, dict[str, Any]]]

_registry: dict[tuple[str, int], Upcaster] = {}
_MAX_STEPS = 64


def register(event_type: str, schema_version: int) -> Callable[[Upcaster], Upcaster]:
    """Decorator: ``fn(data) -> (type, schema_version, data)`` upgrades that shape."""

    def decorate(fn: Upcaster) -> Upcaster:
        key = (event_type, schema_version)
        if key in _registry and _registry[key] is not fn:
            raise ValueError(f"An upcaster for {event_type} v{schema_version} already exists.")
        _registry[key] = fn
        return fn

    return decorate


def unregister(event_type: str, schema_version: int) -> None:
    """Remove an upcaster (for tests)."""
    _registry.pop((event_type, schema_version), None)


def upcast(
    event_type: str, schema_version: int, data: dict[str, Any]
) -> tuple[str, int, dict[str, Any]]:
    """Apply registered upcasters until the shape is current."""
    if not _registry:
        return event_type, schema_version, data
    for _ in range(_MAX_STEPS):
        fn = _registry.get((event_type, schema_version))
        if fn is None:
            return event_type, schema_version, data
        new_type, new_version, data = fn(data)
        if (new_type, new_version) == (event_type, schema_version):
            raise ValueError(
                f"The upcaster for {event_type} v{schema_version} does not advance it."
            )
        event_type, schema_version = new_type, new_version
    raise ValueError(f"Upcasting {event_type} did not settle after {_MAX_STEPS} steps (a cycle?).")
