"""The contract between the projection machinery and a projection (domain-free)."""

import dataclasses
import datetime as dt
import decimal
import json
import operator
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, ClassVar, Self

import psycopg
from django.db import connection, models

from ledger import db
from ledger.projections.live import live_generation
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


@dataclasses.dataclass(frozen=True)
class Keys:
    """The rows of ``model`` whose ``fields`` (text keys, one or two) equal one of
    ``values``: what ``replace_rows`` deletes from a generation before inserting anew."""

    model: type[ProjectionRow]
    fields: tuple[str, ...]
    values: Sequence[tuple[str, ...]]


@dataclasses.dataclass(frozen=True)
class Replacement:
    """What ``replace_rows`` is to do for one group of tables: the keys whose rows go,
    and the rows that come in their place. Groups written in the same round are joined
    (``+``) so that they travel in one pipeline."""

    deletions: tuple[Keys, ...] = ()
    creations: tuple[tuple[type[ProjectionRow], Sequence[dict[str, Any]]], ...] = ()

    def __add__(self, other: "Replacement") -> "Replacement":
        return Replacement(self.deletions + other.deletions, self.creations + other.creations)


# Up to this many rows a replacement goes through one pipeline of plain statements (one
# round trip for the lot); above it, rows go in by COPY (a catch-up round writes tens of
# rows, a rebuild batch thousands).
PIPELINE_ROWS = 500


def replace_rows(
    generation: int,
    deletions: Iterable[Keys],
    creations: Iterable[tuple[type[ProjectionRow], Sequence[dict[str, Any]]]],
) -> None:
    """Delete the keys' rows of ``generation``, then insert the new rows.

    On PostgreSQL a small replacement (a catch-up round) is one pipeline: every DELETE
    and INSERT is sent before any result is awaited, so the round trips of a dozen
    statements collapse into one. Larger ones use ``COPY`` (``insert_rows``).
    """
    deletions = [keys for keys in deletions if keys.values]
    creations = [(model, rows) for model, rows in creations if rows]
    if not deletions and not creations:
        return
    if connection.vendor != "postgresql":
        for keys in deletions:
            keys.model._default_manager.filter(_matching(keys), generation=generation).delete()
        for model, rows in creations:
            insert_rows(model, rows)
        return
    raw: Any = db.connected()  # health-checked, as Django's cursors are
    if sum(len(rows) for _, rows in creations) > PIPELINE_ROWS:
        with psycopg.Cursor(raw) as cursor:
            for keys in deletions:
                cursor.execute(*_delete_statement(keys, generation))
        for model, rows in creations:
            insert_rows(model, rows)
        return
    with raw.pipeline(), psycopg.Cursor(raw) as cursor:
        for keys in deletions:
            cursor.execute(*_delete_statement(keys, generation))
        for model, rows in creations:
            columns = _columns(model)
            # One statement per table whatever the row count, its rows one JSON document
            # (executemany would run an INSERT per row; an array per column costs the
            # client a typed dump of every value).
            cursor.execute(columns.insert, [_json_rows(columns, rows)])


def _matching(keys: Keys) -> models.Q:
    if len(keys.fields) == 1:
        return models.Q(**{f"{keys.fields[0]}__in": [value[0] for value in keys.values]})
    found = models.Q(pk__in=[])
    for value in keys.values:
        found |= models.Q(**dict(zip(keys.fields, value, strict=True)))
    return found


def _column(model: type[ProjectionRow], name: str) -> str:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or not field.column:
        raise TypeError(f"{model.__name__}.{name} is not a concrete column.")
    return field.column


def _delete_statement(keys: Keys, generation: int) -> tuple[str, list[Any]]:
    """``DELETE`` of the keys' rows, written so the (generation, first key) index serves
    it: ``first = ANY(...)``, or per value of the first column ``first = v AND second =
    ANY(...)`` (a join against ``unnest`` of all the key columns scanned whole tables)."""
    table = connection.ops.quote_name(keys.model._meta.db_table)
    names = [connection.ops.quote_name(_column(keys.model, name)) for name in keys.fields]
    if len(names) == 1:
        return (
            f"DELETE FROM {table} WHERE generation = %s AND {names[0]} = ANY(%s::text[])",  # noqa: S608
            [generation, [value[0] for value in keys.values]],
        )
    if len(names) != 2:
        raise ValueError("Keys of one or two columns are supported.")
    grouped: dict[str, list[str]] = {}
    for first, second in keys.values:
        grouped.setdefault(first, []).append(second)
    condition = " OR ".join([f"({names[0]} = %s AND {names[1]} = ANY(%s::text[]))"] * len(grouped))
    params: list[Any] = [generation]
    for first, seconds in grouped.items():
        params += [first, seconds]
    return (
        f"DELETE FROM {table} WHERE generation = %s AND ({condition})",  # noqa: S608
        params,
    )


@dataclasses.dataclass(frozen=True)
class _Columns:
    names: tuple[str, ...]  # field names, in column order
    fields: tuple[models.Field[Any, Any], ...]
    copy: str
    insert: str


_COLUMNS: dict[type[models.Model], _Columns] = {}


def _columns(model: type[ProjectionRow]) -> _Columns:
    """The model's insertable columns (all but an auto primary key), and statements."""
    found = _COLUMNS.get(model)
    if found is None:
        fields = [
            field
            for field in model._meta.concrete_fields
            if not (field.primary_key and isinstance(field, models.AutoField))
        ]
        quoted = ", ".join(connection.ops.quote_name(field.column) for field in fields)
        table = connection.ops.quote_name(model._meta.db_table)
        found = _COLUMNS[model] = _Columns(
            names=tuple(field.name for field in fields),
            fields=tuple(fields),
            copy=f"COPY {table} ({quoted}) FROM STDIN",
            insert=f"INSERT INTO {table} ({quoted}) SELECT {quoted} "  # noqa: S608
            f"FROM json_populate_recordset(NULL::{table}, %s::json)",
        )
    return found


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
    columns = _columns(model)
    with connection.cursor() as cursor:
        raw: Any = cursor.cursor  # the psycopg cursor beneath Django's wrapper
        with raw.copy(columns.copy) as copy:
            for values in _values(columns, rows):
                copy.write_row(values)


def _json_rows(columns: _Columns, rows: Sequence[dict[str, Any]]) -> str:
    """The rows as one JSON array of objects keyed by column; a missing field takes its
    default. Decimals, dates and times go as their text, which PostgreSQL reads exactly
    (a decimal never passes through a float)."""
    defaults = {field.name: field.get_default() for field in columns.fields}
    keyed = [
        {
            field.column: row[name] if name in row else defaults[name]
            for name, field in zip(columns.names, columns.fields, strict=True)
        }
        for row in rows
    ]
    return json.dumps(keyed, separators=(",", ":"), default=_json_text)


def _json_text(value: Any) -> str:
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise ValueError(f"A projection row holds a non-finite decimal: {value}.")
        return str(value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    raise TypeError(f"A projection row holds a {type(value).__name__}, not a plain value.")


def _values(columns: _Columns, rows: Sequence[dict[str, Any]]) -> Iterator[Sequence[Any]]:
    """Each row's values in column order; a missing field takes its default.

    A row that has every field (the usual case) is read by one ``itemgetter`` call, in C.
    """
    defaults = {field.name: field.get_default() for field in columns.fields}
    names = columns.names
    every = operator.itemgetter(*names) if len(names) > 1 else None
    for row in rows:
        try:
            values: Sequence[Any] = every(row) if every is not None else ()
        except KeyError:  # a field left to its default
            values = ()
        if len(values) != len(names):
            values = [row[name] if name in row else defaults[name] for name in names]
        yield values
