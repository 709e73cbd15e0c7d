"""Connections PostgreSQL drops while they sit idle (issue 12): after every other backend
of the test database is terminated (``pg_terminate_backend``, as a restart or failover
would), the next command in every web thread and the next task in a worker thread
succeed, each on a new connection.

The web threads are long-lived, as gunicorn's are, and each serves requests through
Django's WSGI handler itself (request signals and all: the test client would switch off
the connection handling this is about), keeping its own connection between requests
(``CONN_MAX_AGE``). The worker thread runs the catch-up task through Celery's tracer as a
worker's pool does (``task_prerun`` and all), keeping its connection between tasks.
"""

import functools
import io
import json
import queue
import threading
from collections.abc import Callable
from typing import Any

import pytest
from celery import states as task_states
from celery.app.trace import trace_task
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test.client import RequestFactory

from config.celery import app as celery_app
from ledger import store, tasks

WEB_THREADS = 3


class Lane:
    """A long-lived thread that runs each job it is handed on its own connection."""

    def __init__(self, name: str) -> None:
        self.jobs: queue.Queue[Callable[[], Any] | None] = queue.Queue()
        self.done: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            while (job := self.jobs.get()) is not None:
                try:
                    self.done.put(("ok", job()))
                except Exception as error:
                    self.done.put(("error", repr(error)))
        finally:
            connection.close()

    def run(self, job: Callable[[], Any]) -> tuple[str, Any]:
        self.jobs.put(job)
        return self.done.get(timeout=60)

    def stop(self) -> None:
        self.jobs.put(None)
        self.thread.join(timeout=30)


def backend_pid() -> int:
    connection.ensure_connection()
    return int(connection.connection.info.backend_pid)


def terminate_every_other_backend() -> list[int]:
    """Terminate every backend of this test's database but the caller's own."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        pids = [pid for pid, _ in cursor.fetchall()]
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [pids]
        )  # pg_terminate_backend only signals: wait until they are gone
        for _ in range(500):
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [pids])
            if cursor.fetchone()[0] == 0:
                break
            threading.Event().wait(0.01)
    return pids


def post_command(key: str, commitment_id: str) -> tuple[int, Any]:
    """One command through the WSGI handler, as a web thread serves it."""
    body = json.dumps(
        {
            "commitment_id": commitment_id,
            "organisation_id": "mgx",
            "instrument": "equity",
            "amount": "1.00",
            "stage": "indicated",
            "effective_on": "2025-02-01",
        }
    ).encode()
    environ = (
        RequestFactory()
        .generic(
            "POST",
            "/api/v1/consortia/aip/commitments/",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {key}",
        )
        .environ
    )
    environ["wsgi.input"] = io.BytesIO(body)
    status: list[str] = []

    def start_response(line: str, headers: Any, exc_info: Any = None) -> Any:
        status.append(line)
        return lambda data: None

    response = WSGIHandler()(environ, start_response)
    try:
        content = b"".join(response)
    finally:
        response.close()  # request_finished, as a server sends it
    return int(status[0].split()[0]), content[:300]


def catch_up_task() -> str:
    """The catch-up task as a worker's pool runs it (not eager)."""
    task = tasks.catch_up_projections
    _, info, *_ = trace_task(
        task, "task-id", (), {}, request={"id": "task-id"}, eager=False, app=celery_app
    )
    return task_states.SUCCESS if info is None else f"{info.state}: {info.retval!r}"


@pytest.mark.django_db(transaction=True)
def test_every_web_and_worker_thread_survives_its_connection_being_dropped(
    postgres_only, formed, api_client_for, settings
):
    settings.PROJECTION_CATCH_UP_MIN_INTERVAL_MS = 0
    formed()
    key = api_client_for("deal_team").key
    web = [Lane(f"web-{n}") for n in range(WEB_THREADS)]
    worker = Lane("worker")
    try:
        # Each thread opens its connection and keeps it (CONN_MAX_AGE).
        for n, lane in enumerate(web):
            assert lane.run(functools.partial(post_command, key, f"before-{n}"))[1][0] == 201
        assert worker.run(catch_up_task) == ("ok", task_states.SUCCESS)
        pids = {lane.run(backend_pid)[1] for lane in [*web, worker]}
        assert len(pids) == WEB_THREADS + 1  # one connection per thread

        terminated = terminate_every_other_backend()
        assert pids <= set(terminated)

        # The next command in every web thread, the next task in the worker: all succeed.
        outcomes = [
            lane.run(functools.partial(post_command, key, f"after-{n}"))
            for n, lane in enumerate(web)
        ]
        assert outcomes == [("ok", (201, outcome[1][1])) for outcome in outcomes], outcomes
        assert worker.run(catch_up_task) == ("ok", task_states.SUCCESS)
        after = {lane.run(backend_pid)[1] for lane in [*web, worker]}
        assert not after & pids  # each on a new connection
    finally:
        for lane in [*web, worker]:
            lane.stop()
    recorded = {e.data.get("commitment_id") for e in store.read_stream("consortium-aip")}
    assert {f"after-{n}" for n in range(WEB_THREADS)} <= recorded
