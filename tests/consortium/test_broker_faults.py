"""Commands with the broker hung or gone: none waits on it, nothing is lost, all catches up.

Real parts only: a private ``redis-server`` this test starts on a free port (the shared
one on 6379 is never stopped), a real Celery worker and beat on it, PostgreSQL, and ten
threads sending commands through the services. "Hung" is SIGSTOP: the kernel still
accepts connections and takes the bytes, and nothing ever answers, which is what a
frozen or partitioned broker looks like to a client. "Down" is the server killed and
restarted empty on the same port.

The snapshot interval is lowered (``ledger.states.SAVE_EVERY``) so that the 50 commands
cross each stream's save boundary several times while the broker does not answer: the
save is the publish that used to hang a command (and, through the stream's lock, every
command queued behind it). pytest-timeout is the only bound: a command that waits on
the broker fails the test by hanging it.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from consortium import services as s
from consortium.domain.events import consortium_stream_id
from consortium.domain.money import Money
from consortium.projections import asof, selectors
from ledger import queueing, states
from ledger.models import Snapshot
from ledger.projections import runner, triggers
from ledger.store import head, read_stream
from tests.ledger.worker_support import Processes, RedisServer, publishing_to, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

FORMED = dt.date(2025, 1, 6)
STREAMS = 5
THREADS_PER_STREAM = 2
COMMANDS_PER_THREAD = 5  # 5 streams x 2 threads x 5 = 50 commands
SAVE_EVERY = 4  # each stream crosses a save boundary twice or more during the fault


@pytest.fixture
def broker(
    postgres_only: None,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RedisServer]:
    """A private redis-server; this process's settings, Celery app and outbox use it."""
    server = RedisServer(tmp_path_factory.mktemp("broker-faults") / "redis.log")
    server.start()
    monkeypatch.setattr(states, "SAVE_EVERY", SAVE_EVERY)
    try:
        with publishing_to(server, settings, monkeypatch):
            try:
                yield server
            finally:
                if server.process is not None:  # a stopped one ignores SIGTERM
                    os.kill(server.process.pid, signal.SIGCONT)
                triggers.drain(timeout=15)  # nothing of this test left for the next broker
    finally:
        server.stop()


@pytest.fixture
def celery(broker: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Processes]:
    processes = Processes(broker, tmp_path_factory, sweep_seconds=1, stale_rebuild_seconds=2)
    with processes.running():
        yield processes


def usd(amount: str) -> Money:
    return Money.of(Decimal(amount), "USD")


def form(actor: s.Actor, slug: str) -> None:
    s.consortium_form(
        actor=actor, slug=slug, name=slug.upper(), base_currency="USD", formed_on=FORMED
    )
    s.partner_admit(
        actor=actor,
        slug=slug,
        organisation_id="mgx",
        name="MGX",
        role="member",
        effective_on=FORMED,
    )


def commands(actor: s.Actor, slug: str, thread: int, done: list[s.CommandResult]) -> None:
    """One thread's commands on one stream (its own database connection)."""
    try:
        for index in range(COMMANDS_PER_THREAD):
            done.append(
                s.commitment_record(
                    actor=actor,
                    slug=slug,
                    commitment_id=f"{slug}-{thread}-{index}",
                    organisation_id="mgx",
                    instrument="equity",
                    amount=usd("10.00"),
                    stage="signed",
                    effective_on=FORMED,
                )
            )
    finally:
        connection.close()


def run_fifty_commands(actor: s.Actor, slugs: list[str]) -> list[s.CommandResult]:
    """Ten threads, two per stream, five commands each; returns when all are done."""
    done: list[s.CommandResult] = []
    errors: list[BaseException] = []

    def work(slug: str, thread: int) -> None:
        try:
            commands(actor, slug, thread, done)
        except BaseException as error:
            errors.append(error)

    threads = [
        threading.Thread(target=work, args=(slug, thread), daemon=True)
        for slug in slugs
        for thread in range(THREADS_PER_STREAM)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()  # no timeout of its own: pytest-timeout fails a hung command
    assert not errors, errors
    return done


def is_stopped(server: RedisServer) -> bool:
    assert server.process is not None
    with open(f"/proc/{server.process.pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] == "T"


def snapshot_versions(slugs: list[str]) -> dict[str, int]:
    streams = {consortium_stream_id(slug): slug for slug in slugs}
    rows = Snapshot.objects.filter(stream__in=streams).values_list("stream", "version")
    return {streams[stream]: version for stream, version in rows}


def projections_match_the_ledger(slugs: list[str]) -> None:
    for slug in slugs:
        live = selectors.progress(slug)
        assert live is not None
        assert live == asof.progress_as_of(slug), slug
        signed = live.instrument("equity").signed_minor
        assert signed == 1000 * THREADS_PER_STREAM * COMMANDS_PER_THREAD, slug


@pytest.mark.timeout(90)
@pytest.mark.parametrize("fault", ["hung", "down"])
def test_commands_never_wait_on_a_hung_or_dead_broker(
    fault: str, broker: RedisServer, celery: Processes
) -> None:
    # Given five consortia, formed while the broker answers, caught up by a real worker.
    actor = s.Actor(get_user_model().objects.create_user("alice", "alice@example.com"))
    slugs = [f"{fault}-{index}" for index in range(STREAMS)]
    for slug in slugs:
        form(actor, slug)
    celery.worker()
    celery.beat()
    assert runner.wait_for(head(), timeout=20), "caught up before the fault"
    assert triggers.drain(timeout=10)
    before = {slug: len(read_stream(consortium_stream_id(slug))) for slug in slugs}
    assert snapshot_versions(slugs) == {}, "no stream is past its first save boundary yet"
    position = head()

    # When the broker hangs (SIGSTOP) or dies, and 50 commands run from ten threads.
    assert broker.process is not None
    if fault == "hung":
        os.kill(broker.process.pid, signal.SIGSTOP)
        wait_until(lambda: is_stopped(broker), timeout=10, what="redis-server to stop")
    else:
        broker.stop()
    done = run_fifty_commands(actor, slugs)

    # Then every command completed with the broker still not answering, and every event
    # is in the ledger.
    if fault == "hung":
        assert is_stopped(broker), "the broker was hung throughout"
    else:
        assert broker.process is None, "the broker was down throughout"
    assert len(done) == 50 and all(len(result.positions) == 1 for result in done)
    assert head() == position + 50
    for slug in slugs:
        events = read_stream(consortium_stream_id(slug))
        assert len(events) == before[slug] + THREADS_PER_STREAM * COMMANDS_PER_THREAD
    assert queueing.pending() >= 1, "the due saves wait in the outbox"
    assert snapshot_versions(slugs) == {}, "no request pickled a state"

    # When the broker is back (woken, or restarted empty on the same port).
    if fault == "hung":
        os.kill(broker.process.pid, signal.SIGCONT)
    else:
        broker.start()

    # Then the projections catch up (beat's sweep), and every stream's due save reaches
    # the worker (kept in the outbox), which stores the stream as it now stands.
    assert runner.wait_for(head(), timeout=30), "the projections never caught up"
    projections_match_the_ledger(slugs)
    final = {slug: len(read_stream(consortium_stream_id(slug))) for slug in slugs}
    wait_until(
        lambda: snapshot_versions(slugs) == final,
        timeout=30,
        interval=0.1,
        what="every stream's snapshot at its last version",
    )
    assert queueing.drain(timeout=10), "the outbox emptied"
