"""The API's ``Idempotency-Key`` records move into the ledger as receipts.

``ledger_receipt`` is written by the append's own statement (ledger 0006). Existing
records are copied over (their bodies already carry ``stream``, ``version`` and
``positions``), so a retry of a request made before this migration still replays.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def copy_records(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    record_model = apps.get_model("consortium", "IdempotencyRecord")
    receipt_model = apps.get_model("ledger", "Receipt")
    receipts = []
    for record in record_model.objects.all().iterator():
        body = dict(record.body)
        positions = body.get("positions") or [0]
        receipts.append(
            receipt_model(
                scope=record.client,
                key=record.key,
                fingerprint=record.fingerprint,
                body=body,
                stream=body.get("stream", ""),
                first_position=min(positions),
                last_position=max(positions),
                version=body.get("version", 0),
                recorded_at=record.created_at,
            )
        )
    receipt_model.objects.bulk_create(receipts, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("consortium", "0002_api_access"),
        ("ledger", "0006_receipts"),
    ]

    operations = [
        migrations.RunPython(copy_records, migrations.RunPython.noop),
        migrations.DeleteModel(name="IdempotencyRecord"),
    ]
