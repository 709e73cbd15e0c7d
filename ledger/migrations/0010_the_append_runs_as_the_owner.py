"""The append runs as the schema owner (``ledger/sql/append_v2.sql``, applied as it is).

The application's database role could write the ledger's bookkeeping directly: UPDATE
``ledger_head`` (move the head past, or back over, events), INSERT into ``ledger_event``
outside the chain, INSERT into ``ledger_receipt``. Nothing of the application needs that:
on PostgreSQL every write to those three tables is one call of ``ledger_append``. So
``ledger_append`` becomes ``SECURITY DEFINER`` (owned by the role that runs this
migration, the schema owner) with a fixed ``search_path`` (pg_catalog, the schema it is
installed in, pg_temp last), EXECUTE on it is revoked from PUBLIC, and
``deploy/scripts/grant_app_role.py`` leaves the application role SELECT on the three
tables and EXECUTE on the function. ``append_v2.sql`` is the complete definition of the
append path, as ``append_v1.sql`` (migration 0009) was; that file is now history.

SQLite has no roles; nothing changes there. Going back applies ``append_v1.sql`` as it is
(CREATE OR REPLACE drops the definer and the search path) and gives EXECUTE back to PUBLIC.
"""

from pathlib import Path

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

SQL_FILE = Path(__file__).resolve().parent.parent / "sql" / "append_v2.sql"
PREVIOUS_SQL_FILE = Path(__file__).resolve().parent.parent / "sql" / "append_v1.sql"

APPEND_SIGNATURE = (
    "ledger_append(text, text, integer, text, text[], integer[], text[], date[], text, "
    "integer, text, text, text, text, boolean)"
)


def install(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SQL_FILE.read_text(encoding="utf-8"), None)


def restore(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PREVIOUS_SQL_FILE.read_text(encoding="utf-8"), None)
        schema_editor.execute(f"GRANT EXECUTE ON FUNCTION {APPEND_SIGNATURE} TO PUBLIC", None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0009_one_append_one_receipt_a_ledger_identity")]
    operations = [migrations.RunPython(install, restore)]
