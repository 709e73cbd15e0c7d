"""Liveness, readiness and the trivial authenticated endpoint (a benchmark baseline).

``healthz`` and ``readyz`` need no authentication: a load balancer or an orchestrator
calls them. ``readyz`` is 503 (a problem) when the database does not answer, the broker
does not answer (only when ``CELERY_BROKER_URL`` is set), or a projection lags by more
than ``READYZ_MAX_LAG_SECONDS`` (default 300 s).
"""

import os
from typing import Any

from django.conf import settings
from django.db import connection
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consortium.api import read_serializers as rs
from consortium.api.access import PARTNER_READ, READ
from consortium.api.errors import PROBLEM, problem

BROKER_TIMEOUT = 0.5


class WhoAmI(APIView):
    """Who the request authenticated as: the cheapest authenticated endpoint."""

    capability = {"GET": PARTNER_READ}

    @extend_schema(
        responses=inline_serializer("WhoAmI", {"username": serializers.CharField()}),
        operation_id="whoami",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response({"username": request.user.get_username()})


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
            limit = float(getattr(settings, "READYZ_MAX_LAG_SECONDS", 300))
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
