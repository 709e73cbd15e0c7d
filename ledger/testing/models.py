"""A toy projection for testing the projection machinery without any domain."""

from collections.abc import Sequence

from django.db import models

from ledger.projections.base import Projection, ProjectionRow
from ledger.store import RecordedEvent


class Tally(ProjectionRow):
    """Per stream: how many ``Added`` events, and the sum of their ``n``."""

    projection_name = "test_tally"

    stream = models.CharField(max_length=200)
    count = models.IntegerField(default=0)
    total = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["generation", "stream"], name="tally_one_per_stream")
        ]

    def __str__(self) -> str:
        return f"{self.stream}: {self.count}"


class TallyProjection(Projection):
    """Counts ``Added`` events; an ``Exploded`` event fails to apply (for error tests)."""

    name = "test_tally"
    event_types = frozenset({"Added", "Exploded"})
    models = (Tally,)

    def apply(self, events: Sequence[RecordedEvent], *, generation: int, after: int) -> None:
        for event in events:
            if event.type == "Exploded":
                raise ValueError(f"cannot apply position {event.position}")
            row, _ = Tally.objects.get_or_create(
                generation=generation, stream=event.stream, defaults={"position": event.position}
            )
            row.count += 1
            row.total += int(event.data["n"])
            row.position = event.position
            row.save()
