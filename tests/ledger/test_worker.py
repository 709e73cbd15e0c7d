"""The projection machinery against real Celery processes, a private Redis and PostgreSQL.

Each test starts its own ``redis-server`` on a free port (the shared one on 6379 is never
stopped or flushed) and its own ``celery worker`` (solo pool: the process we start is the
one that runs the task, so SIGKILL lands mid-task) and, where the sweep matters, a
``celery beat`` sweeping every second. The worker reads the pytest-django test database,
so the tests commit (``transaction=True``). PostgreSQL only: skipped on the SQLite run.
"""

import datetime as dt
import io
import json
import logging
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from ledger import queueing, tasks
from ledger.models import ProjectionState
from ledger.projections import runner, triggers
from ledger.store import NewEvent, append, head, iter_stored
from ledger.testing.models import Tally
from tests.ledger.worker_support import READY, Processes, RedisServer, private_broker, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
NAME = "test_tally"
CATCH_UP_RECEIVED = "Task ledger.tasks.catch_up_projections["
SWEEP_RECEIVED = "Task ledger.tasks.sweep_projections["
SWEEP_SECONDS = 1
STALE_REBUILD_SECONDS = 2


def add(stream: str, *numbers: int) -> None:
    """One committed append (autocommit): its on-commit trigger runs right away."""
    append(stream, [NewEvent("Added", {"n": n}) for n in numbers], expected_version=None)


def tallies() -> dict[str, tuple[int, int, int]]:
    return {row.stream: (row.count, row.total, row.position) for row in Tally.live()}


def expected_tallies() -> dict[str, tuple[int, int, int]]:
    """What a clean rebuild must produce, folded straight from the ledger."""
    result: dict[str, tuple[int, int, int]] = {}
    for event in iter_stored():
        if event.type == "Added":
            count, total, _ = result.get(event.stream, (0, 0, 0))
            result[event.stream] = (count + 1, total + int(event.data["n"]), event.position)
    return result


def state() -> ProjectionState:
    return ProjectionState.objects.get_or_create(name=NAME)[0]


@pytest.fixture
def broker(
    postgres_only: None,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RedisServer]:
    """A private redis-server, and this process's triggers and Celery app pointed at it."""
    with private_broker(settings, monkeypatch, tmp_path_factory.mktemp("worker-logs")) as server:
        yield server


@pytest.fixture
def celery(broker: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Processes]:
    processes = Processes(
        broker,
        tmp_path_factory,
        sweep_seconds=SWEEP_SECONDS,
        stale_rebuild_seconds=STALE_REBUILD_SECONDS,
    )
    with processes.running():
        yield processes


def test_appends_reach_the_projection_through_the_broker_coalesced(
    broker: RedisServer, celery: Processes
) -> None:
    # A burst of 300 committed appends while no worker consumes: the queue shows how many
    # catch-ups they asked for (one per expiry of the "queued" marker, not one per append).
    started = time.monotonic()
    for index in range(300):
        add(f"burst-{index % 7}", index)
    burst_seconds = time.monotonic() - started
    assert triggers.drain(), "the trigger thread never sent its request"
    queued = broker.queued()
    print(f"first burst: 300 appends in {burst_seconds:.2f} s queued {queued} catch-ups")
    assert 1 <= queued <= 2 + int(burst_seconds / triggers.PENDING_SECONDS), (
        f"300 appends in {burst_seconds:.1f} s queued {queued} catch-ups"
    )

    worker = celery.worker()
    assert runner.wait_for(head(), names=[NAME], timeout=15), "the queued catch-up never ran"
    assert tallies() == expected_tallies()

    # One append with the worker running reaches the projection by the broker alone.
    add("single", 42)
    assert runner.wait_for(head(), names=[NAME], timeout=10)
    assert tallies()["single"] == (1, 42, head())

    # A second burst with the worker running: a task clears the marker as it starts, so
    # at most one more is queued per catch-up run, far fewer than one per append.
    before = worker.count(CATCH_UP_RECEIVED)
    for index in range(300):
        add(f"live-{index % 7}", index)
    assert runner.wait_for(head(), names=[NAME], timeout=15)
    received = worker.count(CATCH_UP_RECEIVED) - before
    print(f"second burst: {received} catch-up tasks for 300 appends")
    # How many depends on how long a catch-up takes against the append rate (about a
    # dozen here); the bound leaves room for a loaded machine.
    assert 1 <= received < 75
    assert tallies() == expected_tallies()


def test_a_worker_killed_mid_rebuild_resumes_to_the_clean_rebuild(
    broker: RedisServer, celery: Processes
) -> None:
    # 10,000 events (four rebuild batches of 2,500) in a few large appends, with the live
    # generation caught up in-process: the rebuild is the only work the worker has.
    for chunk in range(10):
        numbers = range(chunk * 1000, (chunk + 1) * 1000)
        append(
            f"stream-{chunk % 5}",
            [NewEvent("Added", {"n": n}) for n in numbers],
            expected_version=None,
        )
    runner.catch_up(NAME)
    live_before, before = tallies(), state()
    assert before.checkpoint == head() == 10_000

    worker = celery.worker()
    tasks.rebuild_projection.delay(NAME)
    wait_until(
        lambda: ProjectionState.objects.filter(
            name=NAME, rebuild_generation__isnull=False, rebuild_checkpoint__gt=0
        ).exists(),
        timeout=30,
        interval=0.01,
        what="the rebuild's first committed batch",
    )
    worker.kill()

    # Its message is unacknowledged until the visibility timeout: the status says so.
    status = io.StringIO()
    call_command("projections_status", stdout=status)
    unacked = re.search(r"(\d+) unacknowledged \(visibility timeout (\d+) s", status.getvalue())
    assert unacked, status.getvalue()
    assert int(unacked[1]) >= 1 and int(unacked[2]) == 300
    assert "oldest unacknowledged: ledger.tasks.rebuild_projection" in status.getvalue()

    killed = state()
    assert killed.rebuild_generation == before.generation + 1, "still mid-rebuild"
    assert 0 < killed.rebuild_checkpoint < head()
    assert (killed.generation, killed.checkpoint) == (before.generation, before.checkpoint)
    assert tallies() == live_before, "the live generation is untouched"

    # Restarted with beat: the sweep finds the rebuild's heartbeat stale and resumes it.
    worker.start(READY)
    celery.beat()
    wait_until(
        lambda: ProjectionState.objects.filter(
            name=NAME, rebuild_generation__isnull=True, generation=before.generation + 1
        ).exists(),
        timeout=40,
        interval=0.1,
        what="the resumed rebuild to switch generations",
    )
    assert "Resuming the interrupted rebuild of test_tally" in worker.output()
    done = state()
    assert done.rebuild_started_at == killed.rebuild_started_at, "the same attempt, resumed"
    assert done.checkpoint == head()
    assert tallies() == expected_tallies() == live_before
    assert not Tally.objects.exclude(generation=done.generation).exists(), "old rows deleted"


def test_appends_succeed_with_the_broker_down_and_the_sweep_catches_up(
    broker: RedisServer, celery: Processes, caplog: pytest.LogCaptureFixture
) -> None:
    worker = celery.worker()
    celery.beat()
    add("before", 1)
    assert runner.wait_for(head(), names=[NAME], timeout=10)

    broker.stop()
    time.sleep(0.5)  # whatever the worker had already received is done by now
    before_outage = head()
    with caplog.at_level(logging.WARNING, logger="ledger.projections.triggers"):
        for index in range(20):
            add(f"outage-{index % 3}", index)
        # Every append landed, and the requests for a catch-up were given up, not retried.
        assert head() == before_outage + 20
        assert triggers.drain(timeout=10), "the trigger thread is still asking the broker"
    assert "Could not queue a projection catch-up" in caplog.text

    # Nothing can reach the worker: the projection lags.
    lagging = state().checkpoint
    assert lagging < head()
    time.sleep(1.5)
    assert state().checkpoint == lagging

    # Restarted on the same port, empty: the worker and beat reconnect on their own, and
    # only the sweep can catch up (no catch-up was queued for the appends above).
    catch_ups, sweeps = worker.count(CATCH_UP_RECEIVED), worker.count(SWEEP_RECEIVED)
    broker.start()
    assert runner.wait_for(head(), names=[NAME], timeout=20), "the sweep never caught up"
    assert worker.count(CATCH_UP_RECEIVED) == catch_ups
    assert worker.count(SWEEP_RECEIVED) > sweeps
    assert tallies() == expected_tallies()
    assert worker.process is not None and worker.process.poll() is None

    # And the trigger works again through the restarted broker.
    add("after", 7)
    assert runner.wait_for(head(), names=[NAME], timeout=10)
    assert tallies()["after"] == (1, 7, head())


def test_the_sweep_queues_a_stale_rebuild_once(broker: RedisServer, celery: Processes) -> None:
    # A rebuild whose runner stopped long ago (its worker died), and no worker running.
    add("s", 1, 2, 3)
    runner.catch_up(NAME)
    generation = state().generation
    ProjectionState.objects.filter(name=NAME).update(
        rebuild_generation=generation + 1,
        rebuild_checkpoint=0,
        rebuild_started_at=timezone.now() - dt.timedelta(hours=1),
        rebuild_heartbeat=timezone.now() - dt.timedelta(hours=1),
    )

    # Three sweeps while nothing consumes: the resumption is queued once, not three times.
    for _ in range(3):
        tasks.sweep_projections()
    assert queueing.drain(), "the outbox sends what the sweeps queued"  # sent by its thread
    messages = [json.loads(raw) for raw in broker.client().lrange("celery", 0, -1)]
    names = [message["headers"]["task"] for message in messages]
    assert names.count("ledger.tasks.rebuild_projection") == 1, names

    # A worker runs it; the rebuild switches, and later sweeps queue nothing more.
    celery.worker()
    wait_until(
        lambda: state().generation == generation + 1,
        timeout=30,
        what="the queued rebuild to switch generations",
    )
    assert tallies() == expected_tallies()
    tasks.sweep_projections()
    assert broker.queued() == 0
