"""Receipts: a client's record of an append, written by the append's own statement.

``ledger_append_with_receipt`` takes the head lock (which ``ledger_append`` then takes
again: a row lock is re-entrant within a transaction), answers ``receipt_exists`` when
the scope already holds the key, appends through ``ledger_append`` and, when that
appended, inserts the receipt. In autocommit it is one statement and one transaction, so
no client code runs while the head is locked: a receipt written in Python after the
append held the lock across a round trip and the interpreter's scheduling, which
serialised concurrent writers.
"""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

FUNCTION = r"""
CREATE OR REPLACE FUNCTION ledger_append_with_receipt(
    p_partition text,
    p_stream text,
    p_expected integer,
    p_types text[],
    p_schema_versions integer[],
    p_data text,
    p_effective_on date[],
    p_metadata text,
    p_key text,
    p_fingerprint text,
    p_receipt_scope text,
    p_receipt_key text,
    p_receipt_fingerprint text,
    p_receipt_body text
) RETURNS TABLE (status text, first_position bigint, last_position bigint, version integer)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    appended record;
BEGIN
    PERFORM 1 FROM ledger_head h WHERE h.partition = p_partition FOR UPDATE;
    PERFORM 1 FROM ledger_receipt r WHERE r.scope = p_receipt_scope AND r.key = p_receipt_key;
    IF FOUND THEN
        RETURN QUERY SELECT 'receipt_exists'::text, 0::bigint, 0::bigint, 0;
        RETURN;
    END IF;
    SELECT * INTO appended FROM ledger_append(p_partition, p_stream, p_expected, p_types,
        p_schema_versions, p_data, p_effective_on, p_metadata, p_key, p_fingerprint) a;
    IF appended.status = 'appended' THEN
        INSERT INTO ledger_receipt (scope, key, fingerprint, body, stream, first_position,
                                    last_position, version, recorded_at)
        SELECT p_receipt_scope, p_receipt_key, p_receipt_fingerprint, p_receipt_body::jsonb,
               p_stream, appended.first_position, appended.last_position, appended.version,
               h.recorded_at
        FROM ledger_head h WHERE h.partition = p_partition;
    END IF;
    RETURN QUERY SELECT appended.status, appended.first_position, appended.last_position,
        appended.version;
END;
$$;
"""

DROP = (
    "DROP FUNCTION IF EXISTS ledger_append_with_receipt(text, text, integer, text[], "
    "integer[], text, date[], text, text, text, text, text, text, text);"
)


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION, None)


def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, None)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0005_projection_state"),
    ]

    operations = [
        migrations.CreateModel(
            name="Receipt",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("scope", models.CharField(max_length=150)),
                ("key", models.CharField(max_length=255)),
                ("fingerprint", models.CharField(max_length=64)),
                ("body", models.JSONField()),
                ("stream", models.CharField(max_length=200)),
                ("first_position", models.BigIntegerField()),
                ("last_position", models.BigIntegerField()),
                ("version", models.PositiveIntegerField()),
                ("recorded_at", models.DateTimeField()),
            ],
            options={
                "db_table": "ledger_receipt",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("scope", "key"), name="one_receipt_per_scope_key"
                    )
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
