"""Rate limiting per API client (or per session user)."""

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
