"""Rendered JSON kept per process, keyed by exactly what determines it.

Reads are most of the API's traffic and most of a read's cost is Python building and
encoding the answer, not the database. Two things are cheap to know and settle whether an
answer can be reused:

- **Events never change.** An event's JSON is rendered once per process and kept by ledger
  position; a feed page whose positions are all at or below the head it read is made of
  kept fragments and touches no event rows (EventStoreDB's Atom feed treats full pages as
  cacheable forever for the same reason).
- **A live projection read is determined by the projection's checkpoint and generation**
  (``ledger.projections.runner.live_state``) and the request's key (a slug). The answer
  rendered at that pair is kept under it; the next event applied moves the checkpoint and
  so retires it. An answer is kept only if the pair read after building it equals the
  pair read before, so a catch-up committing in between cannot pin newer rows under an
  older position.

Both caches are bounded LRUs (``API_RENDER_CACHE_ENTRIES`` answers and
``API_EVENT_CACHE_EVENTS`` events per process). Access control runs before either: a
cached answer is only reused for a request that was allowed to see it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from rest_framework.renderers import JSONRenderer

from ledger import caches, speed

_RENDERER = JSONRenderer()
JSON = "application/json"


def render(data: Any) -> bytes:
    """``data`` as DRF's JSON renderer writes it (compact, UTF-8)."""
    content: bytes = _RENDERER.render(data)
    return content


def json_response(content: bytes, status: int = 200) -> HttpResponse:
    """An already rendered JSON body (DRF passes plain responses through unchanged)."""
    return HttpResponse(content, status=status, content_type=JSON)


class Cache:
    """A thread-safe LRU of rendered bytes, bounded by entry count."""

    def __init__(self, size: Callable[[], int]) -> None:
        self._size = size
        self._data: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def get_many(self, keys: range) -> list[bytes] | None:
        """Every key's value in order, or None if any is missing."""
        data = self._data
        with self._lock:
            found = [data.get(key) for key in keys]
            if None in found:
                return None
            for key in keys:
                data.move_to_end(key)
        return found  # type: ignore[return-value]

    def put(self, key: Hashable, value: bytes) -> None:
        limit = self._size()
        if limit <= 0 or not speed.enabled("rendered-answers"):
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > limit:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


answers = Cache(lambda: int(settings.API_RENDER_CACHE_ENTRIES))
events = Cache(lambda: int(settings.API_EVENT_CACHE_EVENTS))
caches.register(
    "rendered-answers",
    holds="rendered JSON of live projection reads, by request key and projection state",
    bound="API_RENDER_CACHE_ENTRIES answers, least recently used dropped",
    moves="bench/api.py: reads per second",
    clear=answers.clear,
    size=answers.__len__,
)
caches.register(
    "rendered-events",
    holds="rendered JSON of ledger events for the event feed, by position",
    bound="API_EVENT_CACHE_EVENTS events, least recently used dropped",
    moves="bench/api.py: event feed pages per second",
    clear=events.clear,
    size=events.__len__,
)


def clear() -> None:
    """Forget everything (tests that rewrite projection rows behind the runner's back)."""
    answers.clear()
    events.clear()
