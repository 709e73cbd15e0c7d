"""Several catch-up runners at once on PostgreSQL: one runner per projection for its whole
run, the others told it is busy and returning at once, nothing applied twice, and no
append left behind by a runner that was busy (the lost wake-up).

Real threads, each with its own database connection (Django gives each thread one), on
the committed test database (``transaction=True``). A runner is held mid-run by a gate in
the toy projection's ``apply``, so the tests decide what happens while it runs instead of
hoping for a timing. PostgreSQL only: session advisory locks are what is under test.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection

from ledger.models import ProjectionState
from ledger.projections import registry, runner
from ledger.store import NewEvent, append, head, iter_stored
from ledger.testing.models import Tally, TallyProjection

pytestmark = [pytest.mark.django_db(transaction=True)]
NAME = "test_tally"
JOIN_SECONDS = 60  # a bound for a thread that should be long done; never a timing claim


def add(stream: str, *numbers: int) -> None:
    append(stream, [NewEvent("Added", {"n": n}) for n in numbers], expected_version=None)


def tallies() -> dict[str, tuple[int, int, int]]:
    return {row.stream: (row.count, row.total, row.position) for row in Tally.live()}


def expected_tallies() -> dict[str, tuple[int, int, int]]:
    """What applying every ``Added`` event exactly once gives, folded from the ledger."""
    result: dict[str, tuple[int, int, int]] = {}
    for event in iter_stored():
        if event.type == "Added":
            count, total, _ = result.get(event.stream, (0, 0, 0))
            result[event.stream] = (count + 1, total + int(event.data["n"]), event.position)
    return result


def added() -> int:
    return sum(1 for event in iter_stored() if event.type == "Added")


STARTED: list[threading.Thread] = []  # joined after each test, before the database flush


class Runner(threading.Thread):
    """``runner.catch_up_all`` in a thread of its own (its own connection, closed after)."""

    def __init__(self, name: str, **kwargs: Any) -> None:
        super().__init__(name=name, daemon=True)
        STARTED.append(self)
        self.kwargs = kwargs
        self.result: runner.CatchUp | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = runner.catch_up_all(**self.kwargs)
        except BaseException as error:  # shown by the test that joins it
            self.error = error
        finally:
            connection.close()

    def finish(self) -> runner.CatchUp:
        self.join(JOIN_SECONDS)
        assert not self.is_alive(), f"{self.name} is still running"
        assert self.error is None, f"{self.name} failed: {self.error!r}"
        assert self.result is not None
        return self.result


class Gate:
    """Holds the first ``apply`` of the tally made by thread ``holder`` until opened."""

    def __init__(self, holder: str) -> None:
        self.holder = holder
        self.inside = threading.Event()
        self.open = threading.Event()
        self.used = False

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real = TallyProjection.apply
        gate = self

        def held(self: TallyProjection, events: Any, *, generation: int, after: int) -> None:
            if threading.current_thread().name == gate.holder and not gate.used:
                gate.used = True
                gate.inside.set()
                assert gate.open.wait(JOIN_SECONDS), "the test never opened the gate"
            real(self, events, generation=generation, after=after)

        monkeypatch.setattr(TallyProjection, "apply", held)


@pytest.fixture(autouse=True)
def _threads_done() -> Iterator[None]:
    """Every runner thread has ended before pytest-django empties the database."""
    yield
    while STARTED:
        STARTED.pop().join(JOIN_SECONDS)


@pytest.fixture
def gate(postgres_only: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    gate = Gate("holder")
    gate.install(monkeypatch)
    yield gate
    gate.open.set()  # never leave a thread waiting, whatever failed


def test_a_second_runner_finds_the_projections_busy_and_returns_at_once(gate: Gate) -> None:
    for number in range(40):
        add(f"s{number % 4}", number)
    holder = Runner("holder", batch=10)
    holder.start()
    assert gate.inside.wait(JOIN_SECONDS), "the holder never reached the tally"

    # The holder is inside a batch and has every projection; a second runner asks.
    second = Runner("second", batch=10)
    second.start()
    second.join(JOIN_SECONDS)
    assert not second.is_alive(), "the second runner waited for the holder"
    busy = second.finish()
    assert busy.busy == tuple(registry.names())
    assert busy.applied == dict.fromkeys(registry.names(), 0)
    assert busy.passes == 0

    gate.open.set()
    done = holder.finish()
    assert done.busy == ()
    assert done.applied[NAME] == added() == 40
    assert tallies() == expected_tallies()
    assert ProjectionState.objects.get(name=NAME).checkpoint == head()


def test_an_append_whose_runner_found_the_projection_busy_is_not_left_behind(
    gate: Gate,
) -> None:
    for number in range(5):
        add("early", number)
    holder = Runner("holder")  # one batch: it has read the head before the appends below
    holder.start()
    assert gate.inside.wait(JOIN_SECONDS)

    # Appends land while the holder applies its last batch; their trigger finds it busy.
    add("late", 100)
    add("late", 200)
    trigger = Runner("trigger")
    trigger.start()
    assert trigger.finish().busy == tuple(registry.names())

    gate.open.set()
    done = holder.finish()
    # Nobody else runs: the holder itself re-read the head before letting go.
    assert done.applied[NAME] == 7
    assert tallies() == expected_tallies()
    assert tallies()["late"] == (2, 300, head())
    states = ProjectionState.objects.filter(name__in=registry.names())
    assert {state.checkpoint for state in states} == {head()}


def test_an_append_between_the_last_read_and_letting_go_is_not_left_behind(
    postgres_only: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The narrowest window: the holder has read the head for the last time and is about
    to let go when an append commits and its trigger finds the projections still held.
    The holder's read after letting go finds it."""
    for number in range(5):
        add("early", number)
    real_let_go: Callable[..., None] = runner._let_go_advisory
    triggered: list[runner.CatchUp] = []

    def append_then_let_go(names: list[str], **kwargs: Any) -> None:
        if threading.current_thread().name == "holder" and not triggered:
            add("late", 9)
            trigger = Runner("trigger")
            trigger.start()
            triggered.append(trigger.finish())
        real_let_go(names, **kwargs)

    monkeypatch.setattr(runner, "_let_go_advisory", append_then_let_go)
    holder = Runner("holder")
    holder.start()
    done = holder.finish()

    assert triggered[0].busy == tuple(registry.names()), "the trigger found them held"
    assert done.passes == 2, "the holder took the projections again for the late append"
    assert done.applied[NAME] == 6
    assert tallies()["late"] == (1, 9, head())
    assert ProjectionState.objects.get(name=NAME).checkpoint == head()


@pytest.mark.parametrize("runners", [2, 4])
def test_runners_racing_on_one_backlog_apply_each_event_once(
    postgres_only: None, runners: int
) -> None:
    """A backlog, ``runners`` runners started together and an appender whose every append
    is followed by its own runner (as a trigger would be); afterwards, with nothing more
    run, every projection is at the head, and the tally equals a rebuild."""
    for chunk in range(6):
        append(
            f"stream-{chunk % 3}",
            [NewEvent("Added", {"n": chunk * 200 + n}) for n in range(200)],
            expected_version=None,
        )
    start = threading.Barrier(runners + 1)
    results: list[runner.CatchUp] = []
    lock = threading.Lock()

    class Racer(Runner):
        def run(self) -> None:
            start.wait(JOIN_SECONDS)
            super().run()
            if self.result is not None:
                with lock:
                    results.append(self.result)

    class Appender(threading.Thread):
        def run(self) -> None:
            try:
                start.wait(JOIN_SECONDS)
                for number in range(30):
                    add(f"during-{number % 2}", number)
                    trigger = runner.catch_up_all(batch=100)
                    with lock:
                        results.append(trigger)
            finally:
                connection.close()

    racers = [Racer(f"racer-{index}", batch=100) for index in range(runners)]
    appender = Appender(daemon=True)
    for thread in [*racers, appender]:
        thread.start()
    for racer in racers:
        racer.finish()
    appender.join(JOIN_SECONDS)
    assert not appender.is_alive()

    assert len(results) == runners + 30
    assert sum(result.applied[NAME] for result in results) == added() == 1230
    assert any(result.busy for result in results), "no runner ever found another at work"
    states = ProjectionState.objects.filter(name__in=registry.names())
    assert {state.checkpoint for state in states} == {head()}
    incremental = tallies()
    assert incremental == expected_tallies()
    runner.rebuild(NAME)
    assert tallies() == incremental


class Rebuilder(Runner):
    """``runner.rebuild`` of the tally in a thread of its own."""

    def run(self) -> None:
        try:
            self.rebuilt = runner.rebuild(NAME, batch=10)
        except BaseException as error:  # shown by the test that joins it
            self.error = error
        finally:
            connection.close()


def test_a_second_rebuild_of_a_projection_being_rebuilt_does_nothing_and_says_so(
    gate: Gate,
) -> None:
    """A rebuild folds into a builder of its own; a second one on the same generation (a
    redelivered message meeting the rebuild the sweep resumed) would write from a fold
    that missed the first one's batches. It finds the projection taken and stops."""
    from django.core.management import call_command
    from django.core.management.base import CommandError

    for number in range(40):
        add(f"s{number % 4}", number)
    runner.catch_up_all()
    holder = Rebuilder("holder")
    holder.start()
    assert gate.inside.wait(JOIN_SECONDS), "the holder never reached the tally"

    second = Rebuilder("second")
    second.start()
    second.join(JOIN_SECONDS)
    assert not second.is_alive(), "the second rebuild waited for the first"
    assert isinstance(second.error, runner.RebuildBusy), second.error
    assert second.error.names == (NAME,)
    with pytest.raises(CommandError, match="being rebuilt by another runner"):
        call_command("rebuild_projections", NAME)

    gate.open.set()
    holder.join(JOIN_SECONDS)
    assert not holder.is_alive() and holder.error is None, holder.error
    assert tallies() == expected_tallies()
    state = ProjectionState.objects.get(name=NAME)
    assert state.rebuild_generation is None and state.checkpoint == head()
    runner.rebuild(NAME)  # let go: the next rebuild runs
    assert tallies() == expected_tallies()
