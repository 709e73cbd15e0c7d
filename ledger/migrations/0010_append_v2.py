"""The append, version 2 (``ledger/sql/append_v2.sql``), applied as it is.

PostgreSQL only; the guarantees and the answers are version 1's, with less work per append:

- The stream's newest event is read once, under the stream's lock that every append takes
  first: it decides the refusal of a stale version (still before queueing for the ledger
  head) and the version the new events follow. ``ledger_stale`` goes. A request under a
  receipt key that finds the stream moved looks for its twin's receipt before refusing,
  so racing twins still append once.
- ``ledger_canonical_event`` and ``ledger_chain_hash`` are declared STABLE, which their
  bodies are, so PostgreSQL inlines them into the append instead of planning each anew.
- The read-back (``ledger_stream_after``) runs only when asked for, and plans its query
  once per session.
- ``ledger_append`` answers through OUT parameters (no query to build its row), takes the
  events' data as a ``text[]`` of canonical texts, and the ledger identity comes as text.
  ``ledger_answer_receipt`` looks the receipt up itself.

Going back drops the functions whose signature changed and applies
``ledger/sql/append_v1.sql`` as it is again.
"""

from pathlib import Path

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

SQL_FILE = Path(__file__).resolve().parent.parent / "sql" / "append_v2.sql"
PREVIOUS_SQL_FILE = Path(__file__).resolve().parent.parent / "sql" / "append_v1.sql"

DROP_V1 = (
    "DROP FUNCTION IF EXISTS ledger_append(text, text, integer, text, text[], integer[], "
    "text, date[], text, integer, text, text, text, text, boolean);"
    "DROP FUNCTION IF EXISTS ledger_answer_receipt(text, text, text, integer, text, text, "
    "text, bigint, bigint, integer, timestamptz);"
    "DROP FUNCTION IF EXISTS ledger_stale(text, integer, text);"
)
DROP_V2 = (
    "DROP FUNCTION IF EXISTS ledger_append(text, text, integer, text, text[], integer[], "
    "text[], date[], text, integer, text, text, text, text, boolean);"
    "DROP FUNCTION IF EXISTS ledger_answer_receipt(text, text, text, text, text, integer);"
)


def install_v2(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_V1, None)
        schema_editor.execute(SQL_FILE.read_text(encoding="utf-8"), None)


def restore_v1(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_V2, None)
        schema_editor.execute(PREVIOUS_SQL_FILE.read_text(encoding="utf-8"), None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0009_one_append_one_receipt_a_ledger_identity")]
    operations = [migrations.RunPython(install_v2, restore_v1)]
