"""An API client's receipts are scoped by its id (``api-client:<id>``), not its name.

Receipt scopes are visible ASCII (ledger 0009) and a client's name is free text, so
``consortium.api.access.client_id`` now names the client by its primary key. Receipts
recorded under a client's name move to its id-based scope, so a retry of a request made
before this migration still replays. Going back moves them to the name again.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def _rescope(apps: StateApps, *, to_id: bool) -> None:
    client_model = apps.get_model("consortium", "ApiClient")
    receipt_model = apps.get_model("ledger", "Receipt")
    for client in client_model.objects.all().iterator():
        by_name, by_id = client.name, f"api-client:{client.pk}"
        old, new = (by_name, by_id) if to_id else (by_id, by_name)
        receipt_model.objects.filter(scope=old).update(scope=new)


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _rescope(apps, to_id=True)


def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _rescope(apps, to_id=False)


class Migration(migrations.Migration):
    dependencies = [
        ("consortium", "0003_receipts_in_the_ledger"),
        ("ledger", "0009_one_append_one_receipt_a_ledger_identity"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
