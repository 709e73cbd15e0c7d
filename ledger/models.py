"""The ledger's tables: events (append-only), the head row that serialises appends, and
the receipts of appends made under an idempotency key.

Rows are written only by ``ledger.store.append``. The database refuses UPDATE, DELETE
and TRUNCATE on events (triggers, see migration 0002); the model and its manager refuse
too, so a mistake in Python fails before it reaches the database.
"""

import uuid
from typing import Any, NoReturn

from django.db import models


class AppendOnlyError(Exception):
    """An attempt to change or delete a ledger event."""

    def __init__(self) -> None:
        super().__init__(
            "Ledger events are append-only: correct a mistake by appending a new event "
            "(an amendment or a reversal), never by changing or deleting one."
        )


class EventQuerySet(models.QuerySet["Event"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError

    def delete(self) -> NoReturn:
        raise AppendOnlyError

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError

    def update_or_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError


class Event(models.Model):
    """One immutable fact, at a gap-free global ``position``."""

    position = models.BigIntegerField(primary_key=True)
    stream = models.CharField(max_length=200)
    version = models.PositiveIntegerField()
    type = models.CharField(max_length=100)
    schema_version = models.PositiveSmallIntegerField(default=1)
    data = models.JSONField()
    metadata = models.JSONField(default=dict)
    effective_on = models.DateField(null=True, blank=True)
    recorded_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = EventQuerySet.as_manager()

    class Meta:
        db_table = "ledger_event"
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["stream", "version"], name="ledger_event_stream_version"
            ),
            models.CheckConstraint(
                condition=models.Q(position__gte=1), name="ledger_event_position_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="ledger_event_version_positive"
            ),
        ]
        indexes = [models.Index(fields=["type", "position"], name="ledger_event_type_pos")]

    def __str__(self) -> str:
        return f"#{self.position} {self.stream} v{self.version} {self.type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        raise AppendOnlyError

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError


class Head(models.Model):
    """The last position and hash of one ledger partition; appends lock this row.

    There is one partition, ``default``, today. One head per partition (a consortium, say)
    is the path past the single-ledger throughput ceiling. ``identity`` is new whenever
    the head row is created (a fresh or emptied ledger), so a process that cached what
    another ledger held notices it was replaced (``ledger.caches.observe_ledger``).
    """

    partition = models.CharField(max_length=100, primary_key=True)
    position = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)
    recorded_at = models.DateTimeField(null=True)
    identity = models.UUIDField(default=uuid.uuid4)

    class Meta:
        db_table = "ledger_head"

    def __str__(self) -> str:
        return f"{self.partition} @ {self.position}"


class Receipt(models.Model):
    """A receipt for an append made under an idempotency key: the request's key and
    fingerprint, the answer it was given (``body``) and what the append produced. Written
    by the append's own statement, so a receipt exists exactly when its events do.
    ``scope`` names who chose the key (an API client, a user, ``ledger`` for the global
    keys of before migration 0009); keys are unique within it. Never changed or deleted.
    """

    scope = models.CharField(max_length=150)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    body = models.JSONField()
    stream = models.CharField(max_length=200)
    first_position = models.BigIntegerField()
    last_position = models.BigIntegerField()
    version = models.PositiveIntegerField()
    recorded_at = models.DateTimeField()

    class Meta:
        db_table = "ledger_receipt"
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="one_receipt_per_scope_key")
        ]

    def __str__(self) -> str:
        return f"{self.scope}: {self.key}"


class Snapshot(models.Model):
    """A folded state of one stream at one version, for one version of the folding code.

    A cache, never the truth: it is used only when its last event's hash still matches
    the ledger, its signature checks out and the folding code is unchanged; otherwise the
    state is folded again from the ledger and the snapshot rewritten.
    """

    stream = models.CharField(max_length=200)
    code_version = models.CharField(max_length=100)
    version = models.PositiveIntegerField()
    last_hash = models.CharField(max_length=64)
    state = models.BinaryField()
    signature = models.CharField(max_length=64)
    taken_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "ledger_snapshot"
        constraints = [
            models.UniqueConstraint(fields=["stream", "code_version"], name="ledger_snapshot_key")
        ]

    def __str__(self) -> str:
        return f"{self.stream} v{self.version} ({self.code_version})"


class ProjectionState(models.Model):
    """Where one projection stands: its checkpoint, live generation, last error, rebuild."""

    name = models.CharField(max_length=100, primary_key=True)
    checkpoint = models.BigIntegerField(default=0)
    generation = models.PositiveIntegerField(default=1)
    last_error = models.TextField(blank=True)
    error_position = models.BigIntegerField(null=True, blank=True)
    error_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    rebuild_generation = models.PositiveIntegerField(null=True, blank=True)
    rebuild_checkpoint = models.BigIntegerField(default=0)
    rebuild_started_at = models.DateTimeField(null=True, blank=True)
    rebuild_heartbeat = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "ledger_projection_state"

    def __str__(self) -> str:
        return f"{self.name} @ {self.checkpoint} (generation {self.generation})"
