"""The outbox against a real, hung Redis: bounded, coalesced, never blocking, and what it
keeps is delivered once the broker answers again.

A private ``redis-server`` on a free port (the shared one is never paused), SIGSTOPped:
it accepts connections and never answers. Runs on the Redis run (CI's PostgreSQL run).
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator
from typing import Any

import pytest

from config.celery import app as celery_app
from ledger import queueing
from tests.ledger.worker_support import RedisServer, wait_until

FAKE_TASK = "tests.no_such_task"  # nothing consumes the private server's queue


def is_stopped(server: RedisServer) -> bool:
    assert server.process is not None
    with open(f"/proc/{server.process.pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] == "T"


@pytest.fixture
def hung_broker(
    settings: Any, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RedisServer]:
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("needs Redis: runs when CELERY_BROKER_URL is a redis:// URL")
    assert queueing.drain(timeout=10), "an earlier test left the outbox busy"
    server = RedisServer(tmp_path_factory.mktemp("outbox") / "redis.log")
    server.start()
    saved = celery_app.conf.get("broker_url")
    monkeypatch.setenv("CELERY_BROKER_URL", server.url)  # Celery prefers it to its conf
    settings.CELERY_BROKER_URL = server.url
    celery_app.conf.update(broker_url=server.url)
    assert server.process is not None
    os.kill(server.process.pid, signal.SIGSTOP)
    wait_until(lambda: is_stopped(server), timeout=10, what="redis-server to stop")
    try:
        yield server
    finally:
        try:
            os.kill(server.process.pid, signal.SIGCONT)
            queueing.drain(timeout=15)
            celery_app.conf.update(broker_url=saved)
        finally:
            server.stop()


@pytest.mark.timeout(60)
def test_a_full_outbox_drops_new_messages_and_delivers_what_it_kept(
    hung_broker: RedisServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(queueing, "MAX_PENDING", 5)

    def publish(n: int) -> bool:
        return queueing.publish(FAKE_TASK, n, what=f"message {n}", key=("test", n), keep=True)

    # Given a hung broker, messages are accepted until the outbox holds MAX_PENDING (one
    # more may be in the thread's hands, waiting for its timeout), then refused at once.
    with caplog.at_level(logging.WARNING, logger="ledger.queueing"):
        accepted = 0
        while publish(accepted):
            accepted += 1
            assert accepted <= 6, "the outbox took more than MAX_PENDING + the one in flight"
    assert accepted in (5, 6)
    assert "already wait for the broker" in caplog.text
    # A message under a key already waiting shares its entry: accepted, nothing added.
    assert publish(accepted - 1)
    assert queueing.pending() <= 6  # MAX_PENDING, and the one in flight put back
    assert is_stopped(hung_broker), "still hung"

    # When the broker wakes, every accepted message is delivered, exactly as published.
    assert hung_broker.process is not None
    os.kill(hung_broker.process.pid, signal.SIGCONT)
    assert queueing.drain(timeout=30), "the kept messages were never sent"
    client = hung_broker.client()
    bodies = [client.lindex("celery", i) for i in range(client.llen("celery"))]
    tasks = [body for body in bodies if body and FAKE_TASK.encode() in body]
    # A publish that timed out may still land when Redis wakes: at least once each.
    assert accepted <= len(tasks) <= accepted + 2
