"""Prepared, server-bound queries on Django's own connection, for the hot paths.

Django's PostgreSQL cursors bind parameters on the client (every query is re-rendered to
SQL text in Python) and never prepare. The few statements every request runs (the API
key's lookup, a stream's newest events, the append) go through ``fetch`` instead: on
PostgreSQL a psycopg server-binding cursor on the same connection (same transaction, same
autocommit), prepared after a few uses, so the server parses and plans it once per
connection. Errors are Django's (``connection.wrap_database_errors``), so a broken
connection is noticed and replaced at the end of the request as usual, and they are
recorded where Django records queries (DEBUG, a test's ``CaptureQueriesContext``). On
SQLite it is Django's cursor.

A psycopg cursor opened on the raw connection skips what Django does before its own
cursors: the health check (``CONN_HEALTH_CHECKS``), which finds a pooled connection that
PostgreSQL dropped while it was idle (a restart, a failover, ``pg_terminate_backend``)
and opens a new one instead of failing the request's first statement. Every raw use
therefore takes the connection from ``connected``, which runs Django's check first, once
per request or task (``close_old_connections`` re-arms it at a request's start, and
``ledger.connections`` at a Celery task's).
"""

import time
from collections.abc import Sequence
from typing import Any

import psycopg
from django.db import connection

from ledger import speed

# Prepare a statement after this many executions on one connection (psycopg's default).
PREPARE_THRESHOLD = 5


def connected(wrapper: Any = connection) -> Any:
    """Django's live driver connection (of ``wrapper``, by default the default
    database's), health-checked as Django's own cursors are: one found dead is closed and
    a new one opened (outside a transaction; inside one Django refuses to reconnect, as
    for its own cursors)."""
    wrapper.close_if_health_check_failed()
    wrapper.ensure_connection()
    return wrapper.connection


def raw_postgres(wrapper: Any = connection) -> psycopg.Connection[Any]:
    """Django's live psycopg connection (``connected``), set to prepare repeated
    statements."""
    raw = connected(wrapper)
    if raw.prepare_threshold is None:  # Django disables preparing; these cursors prepare
        raw.prepare_threshold = PREPARE_THRESHOLD
    return raw  # type: ignore[no-any-return]


def fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Every row of ``sql`` (``%s`` placeholders), prepared and server-bound on PostgreSQL."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())
    started = time.monotonic()
    with connection.wrap_database_errors:
        raw = raw_postgres()
        with psycopg.Cursor(raw) as cursor:
            cursor.execute(sql, params, prepare=speed.enabled("prepared-statements"))
            rows = cursor.fetchall()
    logged(sql, params, started)
    return rows


def logged(sql: str, params: Sequence[Any], started: float, wrapper: Any = connection) -> None:
    """Record a statement run past Django's cursors where Django records its own (DEBUG,
    or a test capturing queries), so what a request asked of the database stays visible."""
    if wrapper.queries_logged:
        took = time.monotonic() - started
        wrapper.queries_log.append({"sql": f"{sql} -- {params!r}", "time": f"{took:.3f}"})
