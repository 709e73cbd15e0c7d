"""Rate limiting per API client (or per session user): a sliding-window counter.

DRF's ``SimpleRateThrottle`` keeps every request's timestamp of the last window in one
cache entry and rewrites it on each request, so its cost grows with the rate it allows
(at 6,000 a minute, thousands of floats pickled per request). This keeps two counters
instead, the current fixed window's and the previous one's, and estimates the sliding
window as ``previous x (part of it still inside) + current`` (the approach of Cloudflare's
and nginx's limiters): constant work per request, within a few percent of exact.

Counters live in Django's default cache: per process with the default local-memory cache
(so a deployment's limit is the rate times its web processes), shared when ``CACHES``
points at Redis.
"""

import math
from typing import TYPE_CHECKING

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from consortium.api.access import client_id

if TYPE_CHECKING:  # rest_framework.views imports the authentication classes
    from rest_framework.views import APIView


class ClientRateThrottle(SimpleRateThrottle):
    scope = "client"

    def get_cache_key(self, request: Request, view: "APIView") -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None  # unauthenticated requests are refused before this matters
        return self.cache_format % {"scope": self.scope, "ident": client_id(request)}

    def allow_request(self, request: Request, view: "APIView") -> bool:
        limit, duration = self.parse_rate(self.rate)
        if limit is None or duration is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = self.timer()
        window, into = divmod(now, duration)
        current_key, previous_key = f"{key}:{int(window)}", f"{key}:{int(window) - 1}"
        counts = self.cache.get_many([current_key, previous_key])
        current, previous = counts.get(current_key, 0), counts.get(previous_key, 0)
        elapsed = into / duration
        if previous * (1 - elapsed) + current >= limit:
            self._retry_after = self._seconds_until_allowed(
                current, previous, limit, elapsed, duration
            )
            return False
        if not self.cache.add(current_key, 1, timeout=2 * duration):
            try:
                self.cache.incr(current_key)
            except ValueError:  # expired between add and incr: start it again
                self.cache.add(current_key, 1, timeout=2 * duration)
        return True

    @staticmethod
    def _seconds_until_allowed(
        current: int, previous: int, limit: int, elapsed: float, duration: int
    ) -> float:
        if current >= limit or previous == 0:
            return (1 - elapsed) * duration  # not before this window ends
        # previous x (1 - elapsed') + current < limit, with elapsed' = elapsed + t / duration
        return max(0.0, (1 - (limit - current) / previous - elapsed) * duration)

    def wait(self) -> float | None:
        return float(max(1, math.ceil(getattr(self, "_retry_after", 1.0))))
