"""The contract between the projection machinery and a projection (domain-free)."""

from collections.abc import Sequence
from typing import Any, ClassVar, Self

from django.db import connection, models

from ledger.store import RecordedEvent


class ProjectionRow(models.Model):
    """Base of every projection table: which generation a row is in, what it reflects.

    ``position`` is the ledger position the row reflects (the last event that changed
    it), so a reader can ask for read-your-writes and see the lag. Readers see only the
    live generation: ``Model.live()``.
    """

    projection_name: ClassVar[str]

    generation = models.PositiveIntegerField(db_index=True)
    position = models.BigIntegerField()

    class Meta:
        abstract = True

    @classmethod
    def live(cls) -> "models.QuerySet[Self]":
        """Rows of the projection's live generation."""
        from ledger.projections.runner import live_generation

        return cls._default_manager.filter(generation=live_generation(cls.projection_name))


class Projection:
    """Subclass and register (``ledger.projections.registry.register``) one instance.

    - ``name``: stable, unique; it keys the checkpoint.
    - ``event_types``: the types ``apply`` receives (``None``: all). The checkpoint
      advances over other events too.
    - ``models``: the tables it owns (subclasses of ``ProjectionRow``).

    ``apply`` runs inside the runner's transaction, which also advances the checkpoint;
    when it raises, the transaction rolls back, the error is recorded against the first
    event's position, the projection stops there (it never skips), and ``forget`` is
    called so no in-memory cache is left ahead of the checkpoint.
    """

    name: ClassVar[str]
    event_types: ClassVar[frozenset[str] | None] = None
    models: ClassVar[tuple[type[ProjectionRow], ...]] = ()

    def apply(self, events: Sequence[RecordedEvent], *, generation: int, after: int) -> None:
        """Write the effect of ``events`` (positions above ``after``) into ``generation``."""
        raise NotImplementedError

    def forget(self) -> None:
        """Drop in-memory caches (after a rollback, or before a rebuild)."""

    def reset(self, generation: int) -> None:
        """Delete every row of ``generation`` (a rebuild starts from an empty one)."""
        for model in self.models:
            model._default_manager.filter(generation=generation).delete()


def insert_rows(model: type[ProjectionRow], rows: Sequence[dict[str, Any]]) -> None:
    """Insert projection rows (column values by field name) fast: PostgreSQL ``COPY``,
    elsewhere ``bulk_create``.

    Rebuilds write hundreds of thousands of rows; building model instances and the ORM's
    per-value preparation would cost more than everything else. Values go to ``COPY`` as
    they are (numbers, text, dates, decimals, booleans, None), so models written this way
    keep to such plain fields; a field missing from a row takes its default, and the auto
    primary key is left to its sequence.
    """
    if not rows:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create([model(**row) for row in rows], batch_size=2000)
        return
    columns = [
        field
        for field in model._meta.concrete_fields
        if not (field.primary_key and isinstance(field, models.AutoField))
    ]
    names = ", ".join(connection.ops.quote_name(field.column) for field in columns)
    table = connection.ops.quote_name(model._meta.db_table)
    defaults = {field.name: field.get_default() for field in columns}
    with connection.cursor() as cursor:
        raw: Any = cursor.cursor  # the psycopg cursor beneath Django's wrapper
        with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row.get(name, defaults[name]) for name in defaults])
