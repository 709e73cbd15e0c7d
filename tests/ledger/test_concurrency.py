"""PostgreSQL under concurrent appends: positions stay gap-free, versions unique, and a
tailing reader sees every position exactly once, in order."""

import multiprocessing
import queue
import random
import threading
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, connections

from ledger.store import (
    IdempotencyConflict,
    InvalidAppend,
    NewEvent,
    NewReceipt,
    WrongExpectedVersion,
    append,
    find_receipt,
    head,
    lock_stream,
    read_all,
    read_stream,
)

WRITERS = 8
EVENTS_EACH = 250


def _writer(number: int, failures: "multiprocessing.Queue[str]") -> None:
    connections.close_all()  # never share the parent's socket
    try:
        rng = random.Random(number)
        for index in range(EVENTS_EACH):
            append(
                f"own-{number}",
                [NewEvent("Own", {"writer": number, "i": index})],
                expected_version=index,
            )
            for _attempt in range(1000):
                current = len(read_stream("shared")) if rng.random() < 0.05 else _version("shared")
                try:
                    append(
                        "shared",
                        [NewEvent("Shared", {"writer": number, "i": index})],
                        expected_version=current,
                    )
                    break
                except WrongExpectedVersion:
                    continue
            else:
                failures.put(f"writer {number} never got its shared append in")
    except Exception as error:  # reported to the parent, which fails the test
        failures.put(f"writer {number}: {error!r}")
    finally:
        connections.close_all()


def _version(stream: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(MAX(version), 0) FROM ledger_event WHERE stream = %s", [stream]
        )
        return int(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_concurrent_appends_with_a_tailing_reader(postgres_only):
    connections.close_all()
    context = multiprocessing.get_context("fork")
    failures = context.Queue()
    writers = [context.Process(target=_writer, args=(n, failures)) for n in range(WRITERS)]
    for process in writers:
        process.start()

    seen: list[int] = []
    total = WRITERS * EVENTS_EACH * 2
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        batch = read_all(after=seen[-1] if seen else 0, limit=500)
        seen.extend(event.position for event in batch)
        if len(seen) >= total and not any(p.is_alive() for p in writers):
            break
        if not batch:
            time.sleep(0.001)
    for process in writers:
        process.join(timeout=30)

    problems = []
    while not failures.empty():
        problems.append(failures.get())
    assert problems == []
    assert all(process.exitcode == 0 for process in writers)
    assert head() == total
    assert seen == list(range(1, total + 1)), "the tailing reader missed, repeated or reordered"
    events = read_all(limit=10_000)
    assert [e.position for e in events] == list(range(1, total + 1))
    by_stream: dict[str, list[int]] = {}
    for event in events:
        by_stream.setdefault(event.stream, []).append(event.version)
    assert set(by_stream) == {"shared", *(f"own-{n}" for n in range(WRITERS))}
    for stream, versions in by_stream.items():
        expected = WRITERS * EVENTS_EACH if stream == "shared" else EVENTS_EACH
        assert versions == list(range(1, expected + 1)), stream
    out = StringIO()
    call_command("verify_ledger", stdout=out)
    assert f"{total:,} events, hash chain intact" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_two_racing_retries_with_one_idempotency_key_append_once(postgres_only):
    """Retries under one key whose fingerprint the ledger computes: one appends, every
    other one is replayed the same positions."""
    connections.close_all()
    context = multiprocessing.get_context("fork")
    results = context.Queue()

    def retry(number: int) -> None:
        connections.close_all()
        result = append(
            "paid",
            [NewEvent("Paid", {"amount": "1.00"})],
            expected_version=None,
            receipt=NewReceipt("user:alice", "same-request", "", {}),
        )
        results.put((result.replayed, result.positions))
        connections.close_all()

    racers = [context.Process(target=retry, args=(n,)) for n in range(6)]
    for process in racers:
        process.start()
    for process in racers:
        process.join(timeout=60)
    outcomes = sorted(results.get(timeout=5) for _ in racers)
    assert outcomes == [(False, (1,))] + [(True, (1,))] * 5
    assert head() == 1


@pytest.mark.django_db(transaction=True)
def test_racing_twins_with_one_receipt_key_append_once(postgres_only):
    """Each twin checked before the other committed; the append's own statement finds the
    winner's receipt under the ledger lock, and every loser appends nothing and gets the
    winner's receipt back."""
    connections.close_all()
    context = multiprocessing.get_context("fork")
    results = context.Queue()

    def twin(number: int) -> None:
        connections.close_all()
        try:
            result = append(
                "paid",
                [NewEvent("Paid", {"amount": "1.00"})],
                expected_version=None,
                receipt=NewReceipt("client", "same-request", "f" * 64, {"n": number}),
            )
            if result.replayed:
                assert result.receipt is not None and result.receipt.body["n"] != number
                results.put("replayed")
            else:
                results.put("appended")
        except IdempotencyConflict:
            results.put("refused")
        connections.close_all()

    racers = [context.Process(target=twin, args=(n,)) for n in range(6)]
    for process in racers:
        process.start()
    for process in racers:
        process.join(timeout=60)
    outcomes = sorted(results.get(timeout=5) for _ in racers)
    assert outcomes == ["appended"] + ["replayed"] * 5
    assert head() == 1
    receipt = find_receipt("client", "same-request")
    assert receipt is not None and receipt.positions == (1,)


def _waiting_on_an_advisory_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT wait_event_type, wait_event FROM pg_stat_activity WHERE pid = %s", [pid]
        )
        row = cursor.fetchone()
    return bool(row == ("Lock", "advisory"))


def _other_connection_appends(results: "queue.Queue[tuple[str, object]]", receipt: bool) -> None:
    """Append to 'busy' at version 1 on this thread's own connection; report its pid first."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            results.put(("pid", cursor.fetchone()[0]))
        result = append(
            "busy",
            [NewEvent("Theirs", {})],
            expected_version=1,
            receipt=NewReceipt("client", "theirs", "", {}) if receipt else None,
        )
        results.put(("outcome", "replayed" if result.replayed else "appended"))
    except WrongExpectedVersion as error:
        results.put(("outcome", f"refused at version {error.actual}"))
    finally:
        connection.close()


def _started_and_waiting(results: "queue.Queue[tuple[str, object]]", receipt: bool):
    other = threading.Thread(target=_other_connection_appends, args=(results, receipt))
    other.start()
    label, pid = results.get(timeout=30)
    assert label == "pid"
    deadline = time.monotonic() + 30
    while not _waiting_on_an_advisory_lock(int(pid)):  # type: ignore[call-overload]
        assert other.is_alive() and time.monotonic() < deadline, "it did not wait"
        time.sleep(0.01)
    return other


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("receipt", [False, True], ids=["append", "append_with_receipt"])
def test_a_held_stream_holds_other_appends_until_the_holder_appends(postgres_only, receipt):
    """``lock_stream`` (migration 0008): an append to the held stream from another
    connection waits, then finds the stream moved on and refuses; another stream's append
    goes through meanwhile; the holder's append releases the hold."""
    append("busy", [NewEvent("Made", {})], expected_version=0)
    results: queue.Queue[tuple[str, object]] = queue.Queue()
    with lock_stream("busy", after_version=0) as hold:
        assert [event.type for event in hold.missed] == ["Made"]
        other = _started_and_waiting(results, receipt)
        append("elsewhere", [NewEvent("Free", {})], expected_version=0)
        append("busy", [NewEvent("Ours", {})], expected_version=1, hold=hold)
        assert hold.released
        assert results.get(timeout=30) == ("outcome", "refused at version 2")
    other.join(timeout=30)
    assert [event.type for event in read_stream("busy")] == ["Made", "Ours"]
    assert read_stream("elsewhere")[0].type == "Free"


@pytest.mark.django_db(transaction=True)
def test_a_twin_that_waited_for_the_stream_is_answered_from_the_receipt(postgres_only):
    """Twins under one key decided on the same version; one waits for the stream while the
    other appends. The waiter then finds the stream moved on, and the winner's receipt
    answers it (a replay), not a stale version."""
    append("busy", [NewEvent("Made", {})], expected_version=0)
    results: queue.Queue[tuple[str, object]] = queue.Queue()
    with lock_stream("busy", after_version=1) as hold:
        other = _started_and_waiting(results, True)
        ours = append(
            "busy",
            [NewEvent("Theirs", {})],
            expected_version=1,
            receipt=NewReceipt("client", "theirs", "", {}),
            hold=hold,
        )
        assert not ours.replayed
    assert results.get(timeout=30) == ("outcome", "replayed")
    other.join(timeout=30)
    assert [event.type for event in read_stream("busy")] == ["Made", "Theirs"]


@pytest.mark.django_db(transaction=True)
def test_a_hold_left_without_an_append_is_released(postgres_only):
    append("busy", [NewEvent("Made", {})], expected_version=0)
    results: queue.Queue[tuple[str, object]] = queue.Queue()
    with pytest.raises(LookupError), lock_stream("busy", after_version=1) as hold:
        assert hold.missed == []
        other = _started_and_waiting(results, False)
        raise LookupError("a command refused after taking the hold")
    assert results.get(timeout=30) == ("outcome", "appended")
    other.join(timeout=30)
    assert [event.type for event in read_stream("busy")] == ["Made", "Theirs"]


@pytest.mark.django_db
def test_a_hold_is_on_one_stream(postgres_only):
    with lock_stream("busy") as hold, pytest.raises(InvalidAppend, match="hold is on"):
        append("other", [NewEvent("Made", {})], expected_version=0, hold=hold)
