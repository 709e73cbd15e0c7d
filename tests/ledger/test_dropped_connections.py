"""``ledger.db.fetch`` on a connection PostgreSQL dropped while it was idle (issue 12):
its raw psycopg cursor runs Django's health check first, so the first statement of the
next request (re-armed by ``close_old_connections``, as at a request's start) reconnects
instead of failing."""

import threading
from typing import Any

import pytest
from django.db import close_old_connections, connection

from ledger import db


def _pid() -> int:
    return int(db.fetch("SELECT pg_backend_pid()", [])[0][0])


@pytest.mark.django_db(transaction=True)
def test_fetch_after_the_backend_was_terminated_reconnects(postgres_only):
    outcomes: dict[str, Any] = {}
    opened, terminated = threading.Event(), threading.Event()

    def request_thread() -> None:
        try:
            outcomes["before"] = _pid()  # opens this thread's kept connection
            opened.set()
            assert terminated.wait(30)
            close_old_connections()  # the next request starts
            outcomes["after"] = _pid()
        except Exception as error:
            outcomes["error"] = repr(error)
        finally:
            opened.set()
            connection.close()

    thread = threading.Thread(target=request_thread)
    thread.start()
    assert opened.wait(30)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND pid = %s",
            [outcomes["before"]],
        )
        assert cursor.fetchone() == (True,)
        for _ in range(500):  # it only signals: wait until the backend is gone
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [outcomes["before"]]
            )
            if cursor.fetchone()[0] == 0:
                break
            threading.Event().wait(0.01)
    terminated.set()
    thread.join(timeout=60)

    assert "error" not in outcomes, outcomes["error"]
    assert outcomes["after"] != outcomes["before"]
