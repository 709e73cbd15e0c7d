"""Racing retries of one idempotency key (issue 12): threads of one process sending the
same command under the same key append once, and every one of them gets the first
result, whether the waiting twins find the command now refused (a duplicate) or their
expected version overtaken; a different request under the key is ``IdempotencyConflict``
however it is refused."""

import datetime as dt
import multiprocessing
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections

from consortium import services as s
from ledger import caches
from ledger.store import IdempotencyConflict, read_stream
from tests.consortium.conftest import usd

THREADS = 8
STREAM = "consortium-aip"


def race(threads: int, call: Callable[[int], Any]) -> list[Any]:
    """``call(n)`` in ``threads`` real threads released together by a barrier; each
    thread's outcome (a result, or the exception it raised)."""
    barrier = threading.Barrier(threads)
    outcomes: list[Any] = [None] * threads

    def twin(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[n] = call(n)
        except Exception as error:
            outcomes[n] = error
        finally:
            connection.close()

    started = [threading.Thread(target=twin, args=(n,)) for n in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in started)
    return outcomes


def record(actor: s.Actor, amount: str = "5.00") -> s.CommandResult:
    return s.commitment_record(
        actor=actor,
        slug="aip",
        commitment_id="aip-eq-new",
        organisation_id="mgx",
        instrument="equity",
        amount=usd(amount),
        stage="indicated",
        effective_on=dt.date(2025, 2, 1),
    )


def assert_one_result(outcomes: list[Any], before: int) -> None:
    errors = [o for o in outcomes if not isinstance(o, s.CommandResult)]
    assert errors == [], errors
    assert {(o.stream, o.version, o.positions) for o in outcomes} == {
        (STREAM, before + 1, o.positions) for o in outcomes[:1]
    }
    assert sum(not o.replayed for o in outcomes) == 1  # the one that appended
    events = read_stream(STREAM)
    assert len(events) == before + 1, "appended more than once"
    assert events[-1].type == "CommitmentRecorded"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("if_match", [False, True], ids=["any_version", "expected_version"])
def test_threads_racing_one_key_each_get_the_first_result(postgres_only, formed, if_match):
    """Given eight threads of one process sending one command under one key (with and
    without an expected version, as the API's If-Match), when a barrier lets them go
    together, then one appends and every other gets its result: none is told the
    commitment already exists, or that the stream moved past its version."""
    formed()
    caches.clear()  # the threads' process starts cold, as a fresh web process does
    user = get_user_model().objects.get(username="alice")
    before = len(read_stream(STREAM))
    expected = before if if_match else None

    outcomes = race(
        THREADS, lambda n: record(s.Actor.keyed(user, "retry-1", expected_version=expected))
    )

    assert_one_result(outcomes, before)


@pytest.mark.django_db(transaction=True)
def test_threads_racing_one_key_with_two_requests(postgres_only, formed):
    """Half the threads send another amount under the same key: one request wins, its
    twins get its result, and every thread of the other request is a conflict."""
    formed()
    user = get_user_model().objects.get(username="alice")
    before = len(read_stream(STREAM))
    amounts = ["5.00", "6.00"] * (THREADS // 2)

    outcomes = race(
        THREADS,
        lambda n: record(s.Actor.keyed(user, "retry-2", expected_version=before), amounts[n]),
    )

    won = [o for o in outcomes if isinstance(o, s.CommandResult)]
    assert {(o.version, o.positions) for o in won} == {(before + 1, won[0].positions)}
    winner = amounts[outcomes.index(won[0])]
    for amount, outcome in zip(amounts, outcomes, strict=True):
        if amount == winner:
            assert isinstance(outcome, s.CommandResult), outcome
        else:
            assert isinstance(outcome, IdempotencyConflict), outcome
    assert len(read_stream(STREAM)) == before + 1


def test_a_refused_other_request_under_a_used_key_is_a_conflict(formed, alice):
    """A key chosen in Python (no fingerprint of its own): a later, different request
    under it that the rules refuse (the id is taken) is a conflict, not the first result;
    and so is a stale one; the very same request, refused or stale, gets the first."""
    formed()
    actor = s.Actor.keyed(alice.user, "retry-3")
    first = record(actor)
    assert not first.replayed

    with pytest.raises(IdempotencyConflict):
        record(actor, "6.00")  # refused as a duplicate id, and another request
    stale = s.Actor.keyed(alice.user, "retry-3", expected_version=first.version - 1)
    with pytest.raises(IdempotencyConflict):
        record(stale, "6.00")
    again = record(stale)
    assert (again.replayed, again.version, again.positions) == (
        True,
        first.version,
        first.positions,
    )
    assert len(read_stream(STREAM)) == first.version


def _process_twin(
    key: str, version: int, results: "multiprocessing.Queue[tuple[str, Any]]"
) -> None:
    connections.close_all()
    caches.clear()
    user = get_user_model().objects.get(username="alice")
    try:
        outcomes = race(
            THREADS // 2, lambda n: record(s.Actor.keyed(user, key, expected_version=version))
        )
        results.put(
            (
                "ok",
                [
                    (o.version, o.positions, o.replayed)
                    if isinstance(o, s.CommandResult)
                    else repr(o)
                    for o in outcomes
                ],
            )
        )
    except Exception as error:  # reported, and fails the test
        results.put(("error", repr(error)))
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_processes_of_threads_racing_one_key(postgres_only, formed):
    """Two processes, four threads each, one key: one append, eight first results."""
    formed()
    before = len(read_stream(STREAM))
    connections.close_all()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [
        context.Process(target=_process_twin, args=("retry-4", before, results)) for _ in range(2)
    ]
    for process in processes:
        process.start()
    reports = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    outcomes = [o for label, each in reports for o in (each if label == "ok" else [each])]
    assert all(isinstance(o, tuple) for o in outcomes), outcomes
    assert {(version, positions) for version, positions, _ in outcomes} == {
        (before + 1, outcomes[0][1])
    }
    assert sum(not replayed for _, _, replayed in outcomes) == 1
    assert len(read_stream(STREAM)) == before + 1
