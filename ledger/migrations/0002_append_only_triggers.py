"""Make the events table append-only in the database itself, and create the head row.

PostgreSQL: row triggers refuse UPDATE and DELETE, a statement trigger refuses TRUNCATE.
SQLite: triggers refuse UPDATE and DELETE (SQLite has no TRUNCATE).
``tests/ledger/test_immutability.py`` checks they exist after all migrations, because a
SQLite table rebuild (an ALTER in a later migration) drops triggers silently.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

MESSAGE = "ledger events are append-only; append a correcting event instead"

POSTGRES_UP = [
    f"""
    CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE} (% on %)', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END;
    $$;
    """,
    """
    CREATE TRIGGER ledger_event_no_update_delete
        BEFORE UPDATE OR DELETE ON ledger_event
        FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
    """,
    """
    CREATE TRIGGER ledger_event_no_truncate
        BEFORE TRUNCATE ON ledger_event
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
    """,
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS ledger_event_no_truncate ON ledger_event;",
    "DROP TRIGGER IF EXISTS ledger_event_no_update_delete ON ledger_event;",
    "DROP FUNCTION IF EXISTS ledger_refuse_change();",
]
SQLITE_UP = [
    f"""
    CREATE TRIGGER ledger_event_no_update BEFORE UPDATE ON ledger_event
    BEGIN SELECT RAISE(ABORT, '{MESSAGE} (UPDATE on ledger_event)'); END;
    """,
    f"""
    CREATE TRIGGER ledger_event_no_delete BEFORE DELETE ON ledger_event
    BEGIN SELECT RAISE(ABORT, '{MESSAGE} (DELETE on ledger_event)'); END;
    """,
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS ledger_event_no_update;",
    "DROP TRIGGER IF EXISTS ledger_event_no_delete;",
]


def _run(schema_editor: BaseDatabaseSchemaEditor, statements: dict[str, list[str]]) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in statements:
        raise NotImplementedError(f"The ledger supports PostgreSQL and SQLite, not {vendor}.")
    for statement in statements[vendor]:
        schema_editor.execute(statement, None)


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run(schema_editor, {"postgresql": POSTGRES_UP, "sqlite": SQLITE_UP})
    Head = apps.get_model("ledger", "Head")
    Head.objects.using(schema_editor.connection.alias).get_or_create(
        partition="default", defaults={"position": 0, "hash": "0" * 64}
    )


def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run(schema_editor, {"postgresql": POSTGRES_DOWN, "sqlite": SQLITE_DOWN})


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
