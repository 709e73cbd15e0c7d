"""Process caches notice by themselves a ledger that was emptied, replaced or restored.

The head row carries the ledger's identity; every append and head read tells
``ledger.caches`` the identity and head position it saw, and a registered cache is
emptied when they are not the ledger it mirrored. Only what is committed is told: inside
a caller's transaction, at its commit. Tested through a cache of the test's own,
registered like any other and judged by what it still holds; the tests commit
(``transaction=True``), as appends at the top level do.
"""

from collections.abc import Iterator

import pytest
from django.db import connection, transaction

from ledger import caches
from ledger.store import NewEvent, WrongExpectedVersion, append, head, read_head
from ledger.testing.bypass import immutability_bypassed, purge_ledger

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def remembered() -> Iterator[dict[str, int]]:
    """A process cache registered for the test, holding one value from a ledger seen."""
    values: dict[str, int] = {}
    caches.register(
        "tests.remembered",
        holds="a value derived from the ledger",
        bound="one entry",
        moves="nothing (a test's cache)",
        clear=values.clear,
    )
    caches.clear()
    append("s-1", [NewEvent("Added", {"n": 1})], expected_version=0)
    values["derived"] = 1
    yield values
    values.clear()


def test_appends_and_reads_of_the_same_ledger_keep_the_caches(remembered):
    result = append("s-1", [NewEvent("Added", {"n": 2})], expected_version=1)
    assert head() == 2
    assert remembered == {"derived": 1}
    state = read_head()
    assert (result.ledger_identity, result.head) == (state.identity, state.position)


def test_a_ledger_emptied_through_the_bypass_has_a_new_identity(remembered):
    before = read_head().identity
    purge_ledger()
    assert read_head().identity != before


def test_the_next_append_after_emptying_the_ledger_empties_the_caches(remembered):
    purge_ledger()
    append("s-1", [NewEvent("Added", {"n": 1})], expected_version=0)
    assert remembered == {}


def test_the_next_head_read_after_emptying_the_ledger_empties_the_caches(remembered):
    purge_ledger()
    assert head() == 0
    assert remembered == {}


def test_a_refused_append_still_tells_the_caches(remembered):
    purge_ledger()
    with pytest.raises(WrongExpectedVersion):
        append("s-1", [NewEvent("Added", {"n": 2})], expected_version=1)
    assert remembered == {}


def test_a_restored_backup_empties_the_caches(remembered):
    """A backup holds the same identity and fewer events: the head went back."""
    backup = read_head()
    append("s-1", [NewEvent("Added", {"n": 2}), NewEvent("Added", {"n": 3})], expected_version=1)
    assert head() == 3 and remembered == {"derived": 1}
    with immutability_bypassed(), connection.cursor() as cursor:  # the restore
        cursor.execute("DELETE FROM ledger_event WHERE position > %s", [backup.position])
        cursor.execute(
            "UPDATE ledger_head SET position = %s, hash = %s", [backup.position, backup.hash]
        )
    assert head() == backup.position
    assert remembered == {}


def test_the_stores_metadata_cache_is_registered():
    assert "ledger.store.metadata" in {entry.name for entry in caches.registered()}


def test_a_rolled_back_append_is_not_taken_for_the_ledger(remembered):
    """A caller's transaction appends and rolls back: the shorter head that follows is the
    same ledger, not a restore."""
    with pytest.raises(RuntimeError), transaction.atomic():
        append(
            "s-1", [NewEvent("Added", {"n": 2}), NewEvent("Added", {"n": 3})], expected_version=1
        )
        assert head() == 3
        raise RuntimeError("the caller gives up")
    append("s-1", [NewEvent("Added", {"n": 2})], expected_version=1)
    assert head() == 2
    assert remembered == {"derived": 1}


def test_inside_a_callers_transaction_the_caches_learn_at_its_commit(remembered):
    purge_ledger()
    with transaction.atomic():
        append("s-1", [NewEvent("Added", {"n": 1})], expected_version=0)
        assert remembered == {"derived": 1}
    assert remembered == {}
