"""The ledger is append-only, enforced by the database and by the ORM, on both backends."""

import pytest
from django.db import DatabaseError, connection, transaction

from ledger.models import AppendOnlyError, Event
from ledger.store import NewEvent, append, read_all
from ledger.testing.bypass import immutability_bypassed, purge_ledger

pytestmark = pytest.mark.django_db


def _trigger_names() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'ledger_event'::regclass "
                "AND NOT tgisinternal"
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master "
                "WHERE type = 'trigger' AND tbl_name = 'ledger_event'"
            )
        return {row[0] for row in cursor.fetchall()}


def test_triggers_exist_after_all_migrations():
    expected = (
        {"ledger_event_no_update_delete", "ledger_event_no_truncate"}
        if connection.vendor == "postgresql"
        else {"ledger_event_no_update", "ledger_event_no_delete"}
    )
    assert _trigger_names() == expected


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_event SET data = '{}' WHERE position = 1",
        "UPDATE ledger_event SET stream = 'elsewhere'",
        "DELETE FROM ledger_event WHERE position = 1",
        "DELETE FROM ledger_event",
    ],
)
def test_the_database_refuses_changes_and_deletes(statement):
    append("s", [NewEvent("T", {"a": 1})], expected_version=0)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert [e.data for e in read_all()] == [{"a": 1}]


def test_postgres_refuses_truncate(postgres_only):
    append("s", [NewEvent("T", {})], expected_version=0)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("TRUNCATE ledger_event")
    assert len(read_all()) == 1


def test_the_orm_refuses_too():
    append("s", [NewEvent("T", {})], expected_version=0)
    event = Event.objects.get(position=1)
    event.type = "Changed"
    with pytest.raises(AppendOnlyError, match="append-only"):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        Event.objects.filter(position=1).update(type="Changed")
    with pytest.raises(AppendOnlyError):
        Event.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        Event(position=2, stream="s", version=2, type="T", data={}).save()
    assert Event.objects.get(position=1).type == "T"


def test_the_test_only_bypass_restores_the_triggers():
    append("s", [NewEvent("T", {})], expected_version=0)
    before = _trigger_names()
    purge_ledger()
    assert read_all() == [] and _trigger_names() == before
    with immutability_bypassed():
        pass
    append("s", [NewEvent("T", {})], expected_version=0)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM ledger_event")
