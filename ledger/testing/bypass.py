"""Suspend the ledger's append-only triggers, for tests only.

PostgreSQL: ``session_replication_role = replica`` makes ordinary triggers not fire; only
a superuser may set it (the test database user is one; the application role never is).
SQLite cannot disable a trigger, so the triggers are dropped and re-created exactly as
they were (read back from ``sqlite_master``) inside one transaction: no other connection
ever sees the table without them.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from ledger.canonical import GENESIS_HASH
from ledger.store import DEFAULT_PARTITION


@contextmanager
def immutability_bypassed(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Within this block, UPDATE, DELETE (and TRUNCATE) on ledger events are allowed."""
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
            try:
                yield
            finally:
                cursor.execute("SET session_replication_role = origin")
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'ledger_event'"
            )
            triggers = cursor.fetchall()
            for name, _ in triggers:
                cursor.execute(f'DROP TRIGGER "{name}"')
            try:
                yield
            finally:
                for _, sql in triggers:
                    cursor.execute(sql)


def purge_ledger(using: str = DEFAULT_DB_ALIAS) -> None:
    """Empty the ledger (events and receipts) and reset its head, under a new identity:
    for tests that need positions from 1."""
    with immutability_bypassed(using), connections[using].cursor() as cursor:
        cursor.execute("DELETE FROM ledger_receipt")
        cursor.execute("DELETE FROM ledger_event")
        reset_head(using)


def reset_head(using: str = DEFAULT_DB_ALIAS) -> None:
    """Make sure the head row exists and points at an empty ledger with a new identity
    (so process caches of the ledger it replaces empty themselves)."""
    connection = connections[using]
    identity = uuid.uuid4()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM ledger_head WHERE partition = %s", [DEFAULT_PARTITION])
        cursor.execute(
            "INSERT INTO ledger_head (partition, position, hash, recorded_at, identity) "
            "VALUES (%s, 0, %s, NULL, %s)",
            [
                DEFAULT_PARTITION,
                GENESIS_HASH,
                identity if connection.vendor == "postgresql" else identity.hex,
            ],
        )
