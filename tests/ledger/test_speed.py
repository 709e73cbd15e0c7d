"""Each speed mechanism (``ledger.speed``) turns off by its switch, and only by a known name."""

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from ledger import commands, db, queueing, speed, states, store
from ledger.projections import triggers
from ledger.store import NewEvent, RecordedEvent

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


class Counter:
    def __init__(self) -> None:
        self.total = 0


def fold(state: Counter, event: RecordedEvent) -> None:
    state.total += event.data["n"]


@pytest.fixture
def toy():
    states.register(states.Loader("toy-", "v1", Counter, fold))
    yield
    states.unregister("toy-")


def command(stream: str, n: int) -> commands.Recorded[int]:
    """A command on a toy stream: add ``n`` unless the total would pass 100."""

    def decide(state: Counter) -> list[int]:
        if state.total + n > 100:
            raise ValueError("too much")
        return [n]

    def append(decided, basis, hold):
        return store.append(
            stream,
            [NewEvent("Added", {"n": value}) for value in decided],
            expected_version=basis.version,
            expected_hash=basis.last_hash or None,
            read_after=max(basis.version - 1, 0),
            hold=hold,
        )

    return commands.run(
        stream, decide=decide, append=append, expected_version=None, refusal=ValueError
    )


def reads_of_a_second_command(monkeypatch) -> int:
    command("toy-a", 1)
    reads: list[object] = []
    original = store.read_stream

    def counting(*args, **kwargs):
        reads.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(states, "read_stream", counting)
    command("toy-a", 2)
    monkeypatch.undo()
    assert states.load("toy-a", code_version="v1", initial=Counter, apply=fold).state.total == 3
    return len(reads)


def test_with_state_copies_a_command_decides_on_the_process_copy(toy, monkeypatch):
    assert reads_of_a_second_command(monkeypatch) == 0


def test_with_state_copies_off_each_command_folds_from_the_ledger(toy, settings, monkeypatch):
    settings.SPEED_OFF = ["state-copies"]
    assert states.cached_for_command("toy-a") is None
    assert reads_of_a_second_command(monkeypatch) >= 1


def test_the_stream_lock_holds_back_another_thread_and_off_it_does_not(settings):
    def taken_elsewhere() -> bool:
        taken: list[bool] = []

        def other() -> None:
            lock = commands.stream_lock("toy-a")
            taken.append(lock.acquire(blocking=False))
            if taken[-1]:
                lock.release()

        thread = threading.Thread(target=other)
        with commands.stream_lock("toy-a"):
            thread.start()
            thread.join()
        return taken[0]

    assert not taken_elsewhere()
    settings.SPEED_OFF = ["stream-lock"]
    assert taken_elsewhere()


@pytest.mark.parametrize("off", [False, True])
def test_prepared_statements_switch(postgres_only, settings, off):
    if off:
        settings.SPEED_OFF = ["prepared-statements"]
    sql = "SELECT %s::integer + 1 AS speed_switch_probe"
    for n in range(3):
        assert db.fetch(sql, [n]) == [(n + 1,)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%speed_switch_probe%"],
        )
        (prepared,) = cursor.fetchone()
    assert prepared == (0 if off else 1)


@pytest.fixture
def redis_broker(settings):
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("needs Redis: runs when CELERY_BROKER_URL is a redis:// URL")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    queueing.broker().delete(triggers.PENDING_KEY)
    yield queueing.broker()
    assert triggers.drain()
    queueing.broker().delete(triggers.PENDING_KEY)


def catch_ups_queued_by_three_appends(broker) -> int:
    before = int(broker.llen("celery"))
    for _ in range(3):
        triggers.on_events_appended(None)
    assert triggers.drain()
    return int(broker.llen("celery")) - before


def test_debounced_triggers_queue_one_catch_up_for_a_burst(redis_broker):
    assert catch_ups_queued_by_three_appends(redis_broker) == 1


def test_with_debounced_triggers_off_each_append_queues_one(redis_broker, settings):
    settings.SPEED_OFF = ["debounced-triggers"]
    assert catch_ups_queued_by_three_appends(redis_broker) == 3


def test_every_mechanism_is_described_and_on_by_default():
    for name, mechanism in speed.MECHANISMS.items():
        assert mechanism.name == name and mechanism.does and mechanism.where and mechanism.moves
        assert speed.enabled(name)
    with pytest.raises(KeyError, match="No speed mechanism"):
        speed.enabled("warp-drive")


def test_an_unknown_name_in_the_variable_stops_start_up(settings):
    settings.SPEED_OFF = ["stream-lock", "warp-drive"]
    with pytest.raises(ImproperlyConfigured, match="'warp-drive'"):
        speed.check()
    env = {**os.environ, "CONSORTIUM_SPEED_OFF": "stream-lock,warp-drive", "DJANGO_DEBUG": "true"}
    started = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert started.returncode != 0
    assert "CONSORTIUM_SPEED_OFF names 'warp-drive'" in started.stderr


def test_known_names_in_the_variable_turn_those_mechanisms_off():
    env = {**os.environ, "CONSORTIUM_SPEED_OFF": "gc-freeze, stream-lock", "DJANGO_DEBUG": "true"}
    code = "from django.conf import settings; print(sorted(settings.SPEED_OFF))"
    started = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert started.stdout.strip().splitlines()[-1] == "['gc-freeze', 'stream-lock']"


def test_manage_caches_lists_every_cache_and_mechanism(settings):
    from io import StringIO

    from django.core.management import call_command

    from ledger import caches

    settings.SPEED_OFF = ["gc-freeze"]
    out = StringIO()
    call_command("caches", stdout=out)
    listed = out.getvalue()
    for cache in caches.registered():
        assert f"- {cache.name}: {cache.holds}" in listed
    assert "- rendered-answers:" in listed, "the web process's caches are listed too"
    for name in speed.MECHANISMS:
        assert f"- {name} [{'OFF' if name == 'gc-freeze' else 'on'}]" in listed
