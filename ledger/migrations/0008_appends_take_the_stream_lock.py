"""Appends take their stream's lock, and a command that was overtaken holds it to decide.

A command decides on its process's copy of a stream and appends with the version it
decided on (migration 0007); when another process wrote first, the append refuses and
reads back what was missed, and the command decides again. On a busy stream written from
several processes the second decision was overtaken as well about half the time, so a
command could be refused twice and answered 409 (bench/api.py: 4-5 % of writes at 20
clients, a few per thousand at 100 writes/s), and every refused append was work thrown
away.

So each stream has a lock (an advisory lock on the stream's name, in a key space of the
ledger's own). ``ledger_append`` and ``ledger_append_with_receipt`` take it for their
transaction, before the ledger head. A command's one retry holds it while it decides:
``ledger_hold_stream_after`` takes it for the session and reads the events the command
missed, and the append that follows releases it in its own statement
(``ledger_release_stream``; ``ledger.store.lock_stream``): two round trips, and nothing
can overtake the retry. An append to the same stream waits meanwhile, then finds the
stream moved and refuses as before; appends to other streams go on. The append's own
transaction lock keeps the stream until it commits.
Locks are always taken stream first, head second, so no two appends wait on each other in
a cycle.
"""

from importlib import import_module

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

previous = import_module("ledger.migrations.0007_append_names_the_last_event")

# The first key of the ledger's advisory locks ('ledg'); the second is the stream's hash.
# Two streams sharing a hash only take turns.
LOCK_SPACE = 0x6C656467

LOCK = rf"""
CREATE OR REPLACE FUNCTION ledger_lock_stream(p_stream text) RETURNS void
LANGUAGE sql VOLATILE AS $$
    SELECT pg_advisory_xact_lock({LOCK_SPACE}, hashtext(p_stream))
$$;

CREATE OR REPLACE FUNCTION ledger_hold_stream_after(p_stream text, p_after integer)
RETURNS json LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    -- Lock first, then read: every event appended before the lock was granted is seen.
    PERFORM pg_advisory_lock({LOCK_SPACE}, hashtext(p_stream));
    RETURN ledger_stream_after(p_stream, p_after);
END;
$$;

CREATE OR REPLACE FUNCTION ledger_release_stream(p_stream text) RETURNS boolean
LANGUAGE sql VOLATILE AS $$
    SELECT pg_advisory_unlock({LOCK_SPACE}, hashtext(p_stream))
$$;
"""

HEAD_LOCK = "FROM ledger_head h WHERE h.partition = p_partition FOR UPDATE;\n"


def _stream_lock_first(function: str, head_lock: str) -> str:
    """``function`` taking the stream's lock just before the head's."""
    if function.count(head_lock) != 1:
        raise ValueError(f"Expected the head lock once in:\n{function}")
    return function.replace(head_lock, "    PERFORM ledger_lock_stream(p_stream);\n" + head_lock)


APPEND = _stream_lock_first(
    previous.APPEND, "    SELECT h.position, h.hash, h.recorded_at INTO head_row\n    " + HEAD_LOCK
)
APPEND_WITH_RECEIPT = _stream_lock_first(previous.APPEND_WITH_RECEIPT, "    PERFORM 1 " + HEAD_LOCK)

DROP = (
    "DROP FUNCTION IF EXISTS ledger_release_stream(text);"
    "DROP FUNCTION IF EXISTS ledger_hold_stream_after(text, integer);"
    "DROP FUNCTION IF EXISTS ledger_lock_stream(text);"
)


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(LOCK, None)
        schema_editor.execute(APPEND, None)
        schema_editor.execute(APPEND_WITH_RECEIPT, None)


def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(previous.APPEND, None)
        schema_editor.execute(previous.APPEND_WITH_RECEIPT, None)
        schema_editor.execute(DROP, None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0007_append_names_the_last_event")]
    operations = [migrations.RunPython(forwards, backwards)]
