"""The notices consumer starts where the ledger stands when it is installed.

Without this, its first catch-up on an installation that already has issued capital calls
would make and e-mail the notices of every call issued before reports existed. A ledger
that is empty (a new installation, the tests) is left alone: the consumer starts at 0 and
sees every call from the first.
"""

from typing import Any

from django.db import migrations


def start_at_the_head(apps: Any, schema_editor: Any) -> None:
    head = apps.get_model("ledger", "Head").objects.filter(partition="default").first()
    if head is None or head.position == 0:
        return
    state = apps.get_model("ledger", "ProjectionState")
    state.objects.get_or_create(name="notices", defaults={"checkpoint": head.position})


class Migration(migrations.Migration):
    dependencies = [
        ("consortium", "0007_delivery_body_html"),
        ("ledger", "0010_the_append_runs_as_the_owner"),
    ]

    operations = [migrations.RunPython(start_at_the_head, migrations.RunPython.noop)]
