"""Liveness, readiness and the trivial authenticated endpoint (a benchmark baseline).

``healthz`` and ``readyz`` need no authentication: a load balancer or an orchestrator
calls them. ``readyz`` is 503 (a problem) when the database does not answer, the broker
does not answer (only when ``CELERY_BROKER_URL`` is set), or a projection lags by more
than ``READYZ_MAX_LAG_SECONDS`` (from the environment; see ``config.settings.base``).
Either way it reports each projection's lag, in events and in seconds.
"""

import os
from typing import Any

from django.conf import settings
from django.db import connection
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consortium.api import read_serializers as rs
from consortium.api.errors import PROBLEM, problem
from consortium.models import ApiClient
from consortium.roles import CAPABILITIES, READ, grants_everywhere

BROKER_TIMEOUT = 0.5


class WhoAmI(APIView):
    """Who the key is and what it may do: every valid key may ask (no role needed).

    Its grants were loaded with the key, so this is the cheapest authenticated endpoint.
    """

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        responses={(200, "application/json"): rs.WhoAmISerializer},
        operation_id="whoami",
        description="The key's user and client, and each of its roles with where it applies "
        "(`consortium` null: everywhere) and what it allows. A key with no role may call "
        "only this.",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        client = request.auth if isinstance(request.auth, ApiClient) else None
        roles = [
            {
                "role": grant.role,
                "consortium": grant.consortium or None,
                "organisation_id": grant.organisation_id or None,
                "capabilities": sorted(
                    c for c, roles in CAPABILITIES.items() if grant.role in roles
                ),
            }
            for grant in grants_everywhere(request.user)
        ]
        body = {
            "username": request.user.get_username(),
            "client": client.name if client is not None else None,
            "roles": roles,
        }
        return Response(body)


class Healthz(APIView):
    """The process is alive (no database access)."""

    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]
    throttle_classes: list[Any] = []

    @extend_schema(
        operation_id="healthz",
        auth=[],
        responses={(200, "application/json"): rs.HealthSerializer},
    )
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return f"unreachable: {error.__class__.__name__}"
    return "ok"


def _broker() -> str:
    url = os.environ.get("CELERY_BROKER_URL", "").strip()
    if not url:
        return "not configured"
    try:
        import redis

        client = redis.Redis.from_url(
            url, socket_connect_timeout=BROKER_TIMEOUT, socket_timeout=BROKER_TIMEOUT
        )
        try:
            client.ping()
        finally:
            client.close()
    except Exception as error:
        return f"unreachable: {error.__class__.__name__}"
    return "ok"


class Readyz(APIView):
    """Ready to serve: database and broker reachable, projections not far behind."""

    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]
    throttle_classes: list[Any] = []

    @extend_schema(
        operation_id="readyz",
        auth=[],
        responses={
            (200, "application/json"): rs.ReadinessSerializer,
            (503, PROBLEM): OpenApiResponse(
                rs.ProblemSerializer,
                "Not ready: `errors` names the database, the broker or a lagging projection.",
            ),
        },
    )
    def get(self, request: Request) -> Response:
        from ledger.projections import runner

        errors: dict[str, list[str]] = {}
        database = _database()
        if database != "ok":
            errors["database"] = [database]
        broker = _broker()
        if broker.startswith("unreachable"):
            errors["broker"] = [broker]
        projections: list[dict[str, Any]] = []
        if database == "ok":
            limit = float(settings.READYZ_MAX_LAG_SECONDS)
            for s in runner.status():
                projections.append(
                    {
                        "name": s.name,
                        "checkpoint": s.checkpoint,
                        "head": s.head,
                        "lag_events": s.lag_events,
                        "lag_seconds": s.lag_seconds,
                        "last_error": s.last_error,
                    }
                )
                if s.lag_seconds > limit:
                    errors[f"projections.{s.name}"] = [
                        f"{s.lag_events} events behind for {s.lag_seconds:.0f} s."
                    ]
        if errors:
            summary = "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items())
            response = problem(503, "Not ready", summary, kind="not-ready", errors=errors)
            response["Retry-After"] = "5"
            return response
        body = {"status": "ready", "database": database, "broker": broker}
        return Response({**body, "projections": projections})


__all__ = ["READ", "Healthz", "Readyz", "WhoAmI"]
