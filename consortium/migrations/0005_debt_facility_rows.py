"""The ``consortium`` projection gains a table, one row per debt facility, and indexes
that find a consortium's open capital calls and allocations without reading all of them.

A ledger that the projection has already applied has facilities with no rows yet, so the
migration asks for a rebuild of the projection: a new generation built beside the live
one (which keeps serving), picked up by the sweep as a stalled rebuild and resumed by it
(or by ``manage.py rebuild_projections consortium``), then switched to atomically.
"""

import datetime as dt

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

TABLES = (
    "FundraisingProgress",
    "FundraisingTranche",
    "FundraisingMonth",
    "PartnerPositionRow",
    "CapitalCallRow",
    "CapitalCallAllocationRow",
    "DebtFacilityRow",
)


def request_rebuild(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    state_model = apps.get_model("ledger", "ProjectionState")
    state = state_model.objects.filter(name="consortium").first()
    if state is None or state.checkpoint == 0 or state.rebuild_generation is not None:
        return  # nothing applied yet, or a rebuild already under way (it fills the table)
    generation = state.generation + 1
    for table in TABLES:  # no leftovers in the generation the rebuild fills
        apps.get_model("consortium", table).objects.filter(generation=generation).delete()
    state.rebuild_generation = generation
    state.rebuild_checkpoint = 0
    state.rebuild_started_at = dt.datetime.now(dt.UTC)
    # Long past: the sweep resumes a rebuild whose heartbeat is stale.
    state.rebuild_heartbeat = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    state.save()


class Migration(migrations.Migration):
    dependencies = [
        ("consortium", "0004_receipt_scopes_name_clients_by_id"),
        ("ledger", "0010_the_append_runs_as_the_owner"),
    ]

    operations = [
        migrations.CreateModel(
            name="DebtFacilityRow",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("generation", models.PositiveIntegerField(db_index=True)),
                ("position", models.BigIntegerField()),
                ("consortium", models.CharField(max_length=100)),
                ("facility_id", models.CharField(max_length=200)),
                ("lender", models.CharField(max_length=100)),
                ("currency", models.CharField(max_length=3)),
                ("amount_minor", models.BigIntegerField()),
                ("drawn_minor", models.BigIntegerField()),
                ("repaid_minor", models.BigIntegerField()),
                ("outstanding_minor", models.BigIntegerField()),
                ("available_minor", models.BigIntegerField()),
                ("maturity_on", models.DateField()),
                ("revolving", models.BooleanField()),
                ("arranged_on", models.DateField()),
                ("base_currency", models.CharField(max_length=3)),
                ("amount_base_minor", models.BigIntegerField()),
                ("drawn_base_minor", models.BigIntegerField()),
            ],
            options={
                "indexes": [models.Index(fields=["generation", "consortium"], name="facility_key")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("generation", "consortium", "facility_id"), name="facility_unique"
                    )
                ],
            },
        ),
        migrations.AddIndex(
            model_name="capitalcallrow",
            index=models.Index(fields=["generation", "consortium", "status"], name="call_status"),
        ),
        migrations.AddIndex(
            model_name="capitalcallallocationrow",
            index=models.Index(fields=["generation", "consortium", "status"], name="alloc_status"),
        ),
        migrations.RunPython(request_rebuild, migrations.RunPython.noop),
    ]
