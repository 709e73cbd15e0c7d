"""The append defined once (``ledger/sql/append_v1.sql``), one idempotency, a ledger identity.

- PostgreSQL: drops the two append functions of migrations 0004-0008 (``ledger_append``
  and ``ledger_append_with_receipt``) and applies ``ledger/sql/append_v1.sql`` as it is:
  the complete definition of every function the append path uses, with ONE
  ``ledger_append`` that also writes or replays a receipt and releases a stream hold.
  It reads the stream's newest event once, under the stream's lock that every append takes
  first (the stale refusal still comes before queueing for the ledger head); its encoding
  functions are STABLE, as their bodies are, so PostgreSQL inlines them; the read-back
  runs only when asked for; and it answers through OUT parameters.
  Going back restores the functions of migrations 0007 and 0008 from their modules.
  A later change to the append ships a new file (``append_v2.sql``) and a new migration
  that applies it; a released file is never edited.
- One idempotency: the rows of ``ledger_idempotent_append`` (global keys) become receipts
  in ``ledger_receipt`` under the scope ``ledger`` with an empty body, and the old table
  is dropped (both backends). Going back moves the ``ledger`` scope's receipts back.
- ``ledger_head.identity``: a UUID set when the head row is created (the test bypass
  creates a new one whenever it empties the ledger), so process caches notice a ledger
  that was replaced (``ledger.caches.observe_ledger``).
"""

import uuid
from importlib import import_module
from pathlib import Path

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

SQL_FILE = Path(__file__).resolve().parent.parent / "sql" / "append_v1.sql"

_0007 = import_module("ledger.migrations.0007_append_names_the_last_event")
_0008 = import_module("ledger.migrations.0008_appends_take_the_stream_lock")

DROP_PREVIOUS = (
    "DROP FUNCTION IF EXISTS ledger_append_with_receipt(text, text, integer, text[], "
    "integer[], text, date[], text, text, text, text, integer, text, text, text, text);"
    "DROP FUNCTION IF EXISTS ledger_append(text, text, integer, text[], integer[], text, "
    "date[], text, text, text, text, integer);"
    "DROP FUNCTION IF EXISTS ledger_stale(text, integer, text, integer);"
)
DROP_V1 = (
    "DROP FUNCTION IF EXISTS ledger_append(text, text, integer, text, text[], integer[], "
    "text[], date[], text, integer, text, text, text, text, boolean);"
    "DROP FUNCTION IF EXISTS ledger_answer_receipt(text, text, text, text, text, integer);"
    "DROP FUNCTION IF EXISTS ledger_chain_hash(text, text);"
    "DROP FUNCTION IF EXISTS ledger_canonical_event(bigint, text, integer, text, integer, "
    "text, text, date, timestamptz);"
)

KEYS_TO_RECEIPTS = (
    "INSERT INTO ledger_receipt (scope, key, fingerprint, body, stream, first_position, "
    "last_position, version, recorded_at) "
    "SELECT 'ledger', key, fingerprint, '{}', stream, first_position, last_position, "
    "version, recorded_at FROM ledger_idempotent_append"
)
RECEIPTS_TO_KEYS = (
    "INSERT INTO ledger_idempotent_append (key, stream, fingerprint, first_position, "
    "last_position, version, recorded_at) "
    "SELECT key, stream, fingerprint, first_position, last_position, version, recorded_at "
    "FROM ledger_receipt WHERE scope = 'ledger'",
    "DELETE FROM ledger_receipt WHERE scope = 'ledger'",
)


def install_functions(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_PREVIOUS, None)
        schema_editor.execute(SQL_FILE.read_text(encoding="utf-8"), None)


def restore_functions(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_V1, None)
        schema_editor.execute(_0007.STREAM_AFTER, None)
        schema_editor.execute(_0007.STALE, None)
        schema_editor.execute(_0008.LOCK, None)
        schema_editor.execute(_0008.APPEND, None)
        schema_editor.execute(_0008.APPEND_WITH_RECEIPT, None)


def keys_to_receipts(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    schema_editor.execute(KEYS_TO_RECEIPTS, None)


def receipts_to_keys(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for statement in RECEIPTS_TO_KEYS:
        schema_editor.execute(statement, None)


def new_identities(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Head = apps.get_model("ledger", "Head")
    for head in Head.objects.using(schema_editor.connection.alias).all():
        head.identity = uuid.uuid4()
        head.save(update_fields=["identity"])


class Migration(migrations.Migration):
    dependencies = [("ledger", "0008_appends_take_the_stream_lock")]
    operations = [
        migrations.AddField(
            model_name="head",
            name="identity",
            field=models.UUIDField(default=uuid.uuid4),
        ),
        migrations.RunPython(new_identities, migrations.RunPython.noop),
        migrations.RunPython(keys_to_receipts, receipts_to_keys),
        migrations.DeleteModel(name="IdempotentAppend"),
        migrations.RunPython(install_functions, restore_functions),
    ]
