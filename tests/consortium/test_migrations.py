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
