"""Two processes generating under one key on PostgreSQL: the second waits on the first's
uncommitted rows, finds the key taken when the first commits, and returns the first's
reports; one set is stored."""

import multiprocessing
import multiprocessing.synchronize
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction

from consortium.models import StoredReport
from consortium.reports.services import generate_reports

KEY = "progress:aip:race"


def generate() -> list[StoredReport]:
    return generate_reports(
        kind="progress",
        parameters={"consortium": "aip"},
        formats=["csv", "html"],
        requested_by="race",
        key=KEY,
    )


def _second(
    media: str, go: "multiprocessing.synchronize.Event", results: "multiprocessing.Queue[Any]"
) -> None:
    from django.conf import settings

    settings.MEDIA_ROOT = media
    go.wait(60)
    try:
        results.put([r.pk for r in generate()])
    except Exception as error:  # reported, and fails the test
        results.put(repr(error))
    connections.close_all()


def _waiting_on_a_lock() -> bool:
    """Whether another session of this database waits on a lock (read afresh: a
    transaction otherwise sees the statistics as they were when it first read them)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT 1 FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
            "AND wait_event_type = 'Lock' AND datname = current_database()"
        )
        return cursor.fetchone() is not None


@pytest.mark.django_db(transaction=True)
def test_a_key_taken_meanwhile_returns_the_reports_stored_under_it(
    postgres_only, settings, tmp_path: Path
):
    settings.MEDIA_ROOT = str(tmp_path)
    call_command("seed_demo", verbosity=0)
    connections.close_all()  # the child opens its own (forked sockets are not shared)
    context = multiprocessing.get_context("fork")
    results, go = context.Queue(), context.Event()
    process = context.Process(target=_second, args=(str(tmp_path), go, results))
    process.start()
    with transaction.atomic():
        first = [r.pk for r in generate()]
        go.set()
        # Commit only once the second process waits on our uncommitted key (or is done).
        deadline = time.monotonic() + 60
        while process.is_alive() and not _waiting_on_a_lock():
            assert time.monotonic() < deadline, "the second process never reached the key"
            time.sleep(0.05)
    second = results.get(timeout=60)
    process.join(timeout=60)
    assert second == first
    assert sorted(str(k) for k in StoredReport.objects.values_list("key", flat=True)) == [
        f"{KEY}:-:csv",
        f"{KEY}:-:html",
    ]
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 2
