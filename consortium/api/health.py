"""Liveness, readiness and the trivial authenticated endpoint (a benchmark baseline)."""

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from consortium.api.access import PARTNER_READ, READ


class WhoAmI(APIView):
    """Who the request authenticated as: the cheapest authenticated endpoint."""

    capability = {"GET": PARTNER_READ}

    @extend_schema(
        responses=inline_serializer("WhoAmI", {"username": serializers.CharField()}),
        operation_id="whoami",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response({"username": request.user.get_username()})


__all__ = ["READ", "WhoAmI"]
