"""Stream states (``ledger.states``) and their stored snapshots (``ledger.snapshots``): a
stream's state loads by folding only recent events, and is never trusted over the ledger."""

import pytest
from django.db import connection

from ledger import caches, queueing, snapshots, states
from ledger.models import Snapshot
from ledger.store import NewEvent, RecordedEvent, append
from ledger.testing.bypass import immutability_bypassed

pytestmark = pytest.mark.django_db


class Counter:
    """A toy state: the sum of ``n`` over the stream, and how many events it folded."""

    def __init__(self) -> None:
        self.total = 0
        self.folded = 0


def fold(state: Counter, event: RecordedEvent) -> None:
    state.total += event.data["n"]
    state.folded += 1


def load(stream: str = "s", code: str = "v1", every: int = 10) -> states.Loaded[Counter]:
    return states.load(stream, code_version=code, initial=Counter, apply=fold, save_every=every)


def add(n: int, stream: str = "s") -> None:
    append(stream, [NewEvent("Added", {"n": n})], expected_version=None)


def test_state_equals_a_full_fold_and_reports_the_version():
    for n in range(1, 26):
        add(n)
    loaded = load()
    assert loaded.state.total == sum(range(1, 26))
    assert loaded.version == 25


def test_only_new_events_are_folded_after_the_first_load():
    for n in range(30):
        add(n)
    first = load()
    add(100)
    second = load()
    assert second.state.total == sum(range(30)) + 100
    assert second.state.folded == 31  # the same live state, advanced by one event
    assert first.state is second.state


def test_a_new_process_starts_from_the_stored_snapshot():
    for n in range(25):
        add(n)
    load()
    assert Snapshot.objects.get(stream="s").version == 25
    caches.clear()  # as if a fresh process
    add(1000)

    loaded = load()
    assert loaded.state.total == sum(range(25)) + 1000
    assert loaded.state.folded == 26  # unpickled at 25, then one event


def test_a_change_of_folding_code_ignores_old_snapshots():
    for n in range(20):
        add(n)
    load(code="v1")
    caches.clear()
    fresh = load(code="v2")
    assert fresh.state.total == sum(range(20))
    assert fresh.state.folded == 20


def test_a_tampered_snapshot_is_not_trusted():
    for n in range(20):
        add(n)
    load()
    caches.clear()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_snapshot SET signature = %s", ["0" * 64])
    assert load().state.total == sum(range(20))


def test_a_snapshot_that_no_longer_matches_the_ledger_is_refolded():
    for n in range(20):
        add(n)
    load()
    # The stream's history changes under the snapshot (only possible by bypassing the
    # ledger's protections, e.g. a restored backup): the cache must notice.
    with immutability_bypassed(), connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_event SET hash = %s WHERE version = 20", ["f" * 64])
    with immutability_bypassed(), connection.cursor() as cursor:
        cursor.execute("""UPDATE ledger_event SET data = '{"n": 500}' WHERE version = 20""")
    loaded = load()
    assert loaded.state.total == sum(range(19)) + 500
    assert loaded.state.folded == 20


def test_streams_do_not_share_state():
    add(1, "a")
    add(2, "b")
    assert (load("a").state.total, load("b").state.total) == (1, 2)


def settings_broker() -> str:
    from django.conf import settings

    return str(settings.CELERY_BROKER_URL)


@pytest.fixture
def registered():
    loader = states.register(states.Loader("reg-", "v1", Counter, fold))
    yield loader
    states.unregister("reg-")


def test_a_worker_saves_a_registered_streams_snapshot(registered):
    for n in range(7):
        add(n, "reg-a")
    assert states.save_now("reg-a") == 7
    assert Snapshot.objects.get(stream="reg-a").version == 7
    caches.clear()
    assert load("reg-a").state.total == sum(range(7))
    assert states.save_now("unregistered") == 0


def test_a_command_only_queues_the_save_when_workers_exist(registered, settings, monkeypatch):
    queued = []
    monkeypatch.setattr(queueing, "send", lambda task, *args: queued.append((task, *args)))
    queueing.release("ledger:snapshot-queued:v1:reg-b")  # an earlier run's marker, if any
    settings.CELERY_TASK_ALWAYS_EAGER = False
    for n in range(12):
        add(n, "reg-b")
    load("reg-b", every=10)
    assert queueing.drain()
    assert queued == [(queueing.SAVE_SNAPSHOT, "reg-b")]
    assert not Snapshot.objects.filter(stream="reg-b").exists(), "not pickled in the request"
    add(1, "reg-b")
    load("reg-b", every=10)
    assert queueing.drain()
    assert queued == [(queueing.SAVE_SNAPSHOT, "reg-b")], "queued once per save_every events"


@pytest.mark.skipif(
    not settings_broker().startswith("redis://"),
    reason="needs Redis: runs when CELERY_BROKER_URL is a redis:// URL (CI's PostgreSQL run)",
)
def test_a_stream_due_in_several_processes_is_saved_once(registered, settings, monkeypatch):
    """Each process's copy (and each reader thread's) crosses the boundary at about the
    same moment; the Redis marker lets the first queue the save and the rest stand down."""
    queued = []
    monkeypatch.setattr(queueing, "send", lambda task, *args: queued.append((task, *args)))
    queueing.release("ledger:snapshot-queued:v1:reg-b")  # an earlier run's marker, if any
    settings.CELERY_TASK_ALWAYS_EAGER = False
    marker = "ledger:snapshot-queued:v1:reg-c"
    queueing.broker().delete(marker)
    try:
        for n in range(12):
            add(n, "reg-c")
        load("reg-c", every=10)  # this thread's cache
        caches.clear()
        load("reg-c", every=10)  # as if another process
        assert queueing.drain()
        assert queued == [(queueing.SAVE_SNAPSHOT, "reg-c")]
        assert 0 < queueing.broker().ttl(marker) <= snapshots.SAVE_QUEUED_SECONDS
        queueing.broker().delete(marker)  # the window has passed
        caches.clear()
        load("reg-c", every=10)
        assert queueing.drain()
        assert queued == [(queueing.SAVE_SNAPSHOT, "reg-c")] * 2
    finally:
        queueing.broker().delete(marker)
