"""Data migrations, run for real on the test database (back one step, then forward)."""

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("consortium", "0003_receipts_in_the_ledger")]
AFTER = [("consortium", "0004_receipt_scopes_name_clients_by_id")]


def _migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


@pytest.mark.django_db(transaction=True)
def test_receipts_recorded_under_a_clients_name_move_to_its_id_and_back() -> None:
    executor = _migrate(BEFORE)
    try:
        apps = executor.loader.project_state(BEFORE).apps
        user = apps.get_model("auth", "User").objects.create(username="erp")
        client = apps.get_model("consortium", "ApiClient").objects.create(
            name="Finance ERP — Zürich", user=user, key_prefix="csk_x", key_digest="d" * 64
        )
        receipt_model = apps.get_model("ledger", "Receipt")
        receipt_model.objects.create(
            scope=client.name,
            key="k-1",
            fingerprint="f" * 64,
            body={},
            stream="consortium-aip",
            first_position=1,
            last_position=1,
            version=1,
            recorded_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        )
        executor = _migrate(AFTER)
        apps = executor.loader.project_state(AFTER).apps
        scopes = list(apps.get_model("ledger", "Receipt").objects.values_list("scope", flat=True))
        assert scopes == [f"api-client:{client.pk}"]

        executor = _migrate(BEFORE)
        apps = executor.loader.project_state(BEFORE).apps
        scopes = list(apps.get_model("ledger", "Receipt").objects.values_list("scope", flat=True))
        assert scopes == ["Finance ERP — Zürich"]
    finally:  # back to the newest migrations, which later tests expect
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.mark.django_db
def test_the_facilities_table_asks_for_a_rebuild_that_the_sweep_resumes() -> None:
    """A ledger applied before the facilities table existed gets its rows by a rebuild
    that the migration requests (run here on the current models, as it would run)."""
    import importlib
    from io import StringIO

    from django.apps import apps
    from django.core.management import call_command

    from consortium.models import DebtFacilityRow
    from ledger.models import ProjectionState
    from ledger.projections import runner

    call_command("seed_demo", stdout=StringIO())
    runner.catch_up("consortium")
    DebtFacilityRow.objects.all().delete()  # as before the migration: no rows
    migration = importlib.import_module("consortium.migrations.0005_debt_facility_rows")
    migration.request_rebuild(apps, None)
    state = ProjectionState.objects.get(name="consortium")
    assert state.rebuild_generation == state.generation + 1
    assert "consortium" in runner.stale_rebuilds()
    runner.rebuild("consortium")
    assert runner.live_generation("consortium") == state.generation + 1
    assert list(DebtFacilityRow.live().values_list("facility_id", flat=True)) == [
        "aip-senior-term-loan"
    ]


@pytest.mark.django_db(transaction=True)
def test_the_notices_consumer_starts_at_the_head_of_a_ledger_that_has_events() -> None:
    """Given a ledger with a capital call issued before reports were installed, when the
    migration runs, then the notices consumer starts past it (nobody is e-mailed an old
    notice); on an empty ledger it starts at 0 (no state row is made)."""
    from django.core.management import call_command

    from consortium.reports.notices import NoticesProjection
    from ledger.models import ProjectionState
    from ledger.store import head

    before = [("consortium", "0007_delivery_body_html")]
    after = [("consortium", "0008_notices_start_at_the_head")]
    try:
        _migrate(before)
        _migrate(after)
        assert not ProjectionState.objects.filter(name=NoticesProjection.name).exists()
        _migrate(before)
        call_command("seed_demo", verbosity=0)
        ProjectionState.objects.filter(name=NoticesProjection.name).delete()
        _migrate(after)
        state = ProjectionState.objects.get(name=NoticesProjection.name)
        assert state.checkpoint == head() > 0
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
