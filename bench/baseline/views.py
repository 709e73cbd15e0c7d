"""The baselines' views: the API's authentication, role check and throttle, no ledger."""

from typing import Any

from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.baseline.models import PlainCommitment
from consortium.roles import PARTNER_READ, WRITE


class Trivial(APIView):
    """Who the request authenticated as, and nothing else."""

    capability = {"GET": PARTNER_READ}

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response({"username": request.user.get_username()})


class PlainCommitmentSerializer(serializers.ModelSerializer[PlainCommitment]):
    class Meta:
        model = PlainCommitment
        fields = [
            "commitment_id",
            "organisation_id",
            "instrument",
            "amount",
            "currency",
            "stage",
            "created_at",
        ]
        read_only_fields = ["created_at"]


class PlainCommitmentCreate(generics.CreateAPIView[PlainCommitment]):
    """Create one row from the same body the event-sourced commitment write takes."""

    capability = {"POST": WRITE}
    serializer_class = PlainCommitmentSerializer

    def perform_create(self, serializer: Any) -> None:
        serializer.save(consortium=self.kwargs["slug"])
