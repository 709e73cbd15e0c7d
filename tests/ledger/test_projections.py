"""The projection machinery, with a toy projection (``ledger.testing.models.Tally``):
catch-up in the checkpoint's transaction, stop-on-error, rebuild beside the live
generation, status and read-your-writes. Runs on both backends."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from ledger.models import ProjectionState
from ledger.projections import runner
from ledger.store import NewEvent, append, head
from ledger.testing.models import Tally, TallyProjection

pytestmark = pytest.mark.django_db
NAME = "test_tally"


def add(stream: str, *numbers: int) -> None:
    append(stream, [NewEvent("Added", {"n": n}) for n in numbers], expected_version=None)


def tallies() -> dict[str, tuple[int, int, int]]:
    return {row.stream: (row.count, row.total, row.position) for row in Tally.live()}


def checkpoint() -> int:
    return ProjectionState.objects.get(name=NAME).checkpoint


def test_catch_up_applies_events_in_order_and_records_positions():
    add("a", 1, 2)
    add("b", 10)
    append("a", [NewEvent("Ignored", {})], expected_version=None)  # not handled
    add("a", 3)

    assert runner.catch_up(NAME) == 4
    assert tallies() == {"a": (3, 6, 5), "b": (1, 10, 3)}
    assert checkpoint() == head() == 5


def test_catch_up_twice_changes_nothing_twice():
    add("a", 1, 2, 3)
    runner.catch_up(NAME)
    assert runner.catch_up(NAME) == 0
    assert tallies() == {"a": (3, 6, 3)}


def test_small_batches_give_the_same_result():
    for n in range(10):
        add(f"s{n % 3}", n)
    runner.catch_up(NAME, batch=3)
    assert tallies() == {"s0": (4, 18, 10), "s1": (3, 12, 8), "s2": (3, 15, 9)}


def test_a_failing_event_stops_the_projection_at_its_position(monkeypatch):
    add("a", 1, 2)
    append("a", [NewEvent("Exploded", {})], expected_version=None)  # position 3
    add("a", 4)

    runner.catch_up(NAME)

    assert tallies() == {"a": (2, 3, 2)}, "events before the failure are kept"
    assert checkpoint() == 2, "it stops before the failing event, never skips it"
    (status,) = [s for s in runner.status() if s.name == NAME]
    assert status.error_position == 3
    assert "cannot apply position 3" in status.last_error
    with pytest.raises(CommandError, match=f"Stopped on an error: .*{NAME}"):
        call_command("projections_status", stdout=StringIO())

    # The code is fixed (here: Exploded is tolerated); the next run goes on from there.
    real = TallyProjection.apply

    def tolerant(self, events, *, generation, after):
        real(self, [e for e in events if e.type != "Exploded"], generation=generation, after=after)

    monkeypatch.setattr(TallyProjection, "apply", tolerant)
    runner.catch_up(NAME)
    assert tallies() == {"a": (3, 7, 4)}
    assert ProjectionState.objects.get(name=NAME).error_position is None


def checkpoints() -> dict[str, int]:
    return dict(ProjectionState.objects.values_list("name", "checkpoint"))


def test_catch_up_all_a_failing_projection_holds_up_no_other(monkeypatch):
    """Every projection's batch is one transaction: when one fails it is rolled back,
    and one at a time the failing projection stops at the failing event while the others
    reach the head."""
    add("a", 1, 2)
    append("a", [NewEvent("Exploded", {})], expected_version=None)  # position 3
    add("a", 4)

    applied = runner.catch_up_all(batch=2).applied

    assert tallies() == {"a": (2, 3, 2)}
    assert checkpoint() == 2
    (status,) = [s for s in runner.status() if s.name == NAME]
    assert status.error_position == 3
    others = {name: at for name, at in checkpoints().items() if name != NAME}
    assert others and all(at == head() == 4 for at in others.values()), others
    assert applied[NAME] == 2


def test_catch_up_all_brings_a_projection_ahead_of_the_others_to_the_head():
    """Batches start at the lowest checkpoint; one ahead of a full batch is carried on
    to the next batch, not left behind."""
    add("a", 1, 2, 3)
    runner.catch_up(NAME)  # the tally is at 3, the others at 0
    for n in range(4, 10):
        add(f"s{n % 2}", n)

    applied = runner.catch_up_all(batch=2).applied

    assert applied[NAME] == 6
    assert tallies() == {"a": (3, 6, 3), "s0": (3, 18, 8), "s1": (3, 21, 9)}
    assert set(checkpoints().values()) == {head()}
    assert runner.catch_up_all(batch=2).applied == dict.fromkeys(checkpoints(), 0)


def test_a_rebuild_equals_the_incremental_tables_and_switches_generation():
    for n in range(20):
        add(f"s{n % 4}", n)
        if n % 5 == 0:
            runner.catch_up(NAME, batch=2)
    runner.catch_up(NAME)
    incremental = tallies()
    generation = runner.live_generation(NAME)

    seen_during = []
    runner.rebuild(
        NAME,
        batch=7,
        progress=lambda p: seen_during.append((runner.live_generation(NAME), dict(tallies()))),
    )

    assert tallies() == incremental
    assert runner.live_generation(NAME) == generation + 1
    assert Tally.objects.filter(generation=generation).count() == 0, "old rows are deleted"
    # Readers saw the old, complete generation until the switch (the last progress call).
    assert all(g == generation and t == incremental for g, t in seen_during[:-1])


def test_a_crashed_rebuild_leaves_the_live_tables_and_resumes(monkeypatch):
    for n in range(30):
        add(f"s{n % 3}", n)
    runner.catch_up(NAME)
    live = tallies()
    real = TallyProjection.apply
    calls = {"n": 0}

    def crash_on_third_batch(self, events, *, generation, after):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker killed")
        real(self, events, generation=generation, after=after)

    monkeypatch.setattr(TallyProjection, "apply", crash_on_third_batch)
    with pytest.raises(RuntimeError, match="worker killed"):
        runner.rebuild(NAME, batch=5)
    state = ProjectionState.objects.get(name=NAME)
    assert state.rebuild_generation is not None and state.rebuild_checkpoint == 10
    assert tallies() == live, "the live generation is untouched"

    monkeypatch.setattr(TallyProjection, "apply", real)
    assert runner.rebuild(NAME, batch=5) == 20, "it resumes after the last saved batch"
    assert tallies() == live
    assert ProjectionState.objects.get(name=NAME).rebuild_generation is None


def test_rebuild_command_reports_progress(capsys):
    add("a", 1, 2, 3)
    out = StringIO()
    call_command("rebuild_projections", NAME, stdout=out)
    assert "rebuilt from 3 events and switched live" in out.getvalue()
    assert "events/s" in capsys.readouterr().err
    with pytest.raises(CommandError, match="No projection named nope"):
        call_command("rebuild_projections", "nope")


def test_status_shows_checkpoint_head_and_lag():
    add("a", 1, 2)
    (before,) = [s for s in runner.status() if s.name == NAME]
    assert (before.checkpoint, before.head, before.lag_events) == (0, 2, 2)
    assert before.lag_seconds >= 0
    runner.catch_up(NAME)
    out = StringIO()
    call_command("projections_status", stdout=out)
    assert f"{NAME:<16}" in out.getvalue() and "ok" in out.getvalue()


def test_wait_for_a_position():
    add("a", 1)
    assert runner.wait_for(1, names=[NAME], timeout=0.05) is False
    runner.catch_up(NAME)
    assert runner.wait_for(1, names=[NAME], timeout=0.05) is True


def test_a_redelivered_rebuild_request_that_is_already_done_does_nothing():
    from ledger.tasks import rebuild_projection

    add("a", 1)
    target = runner.next_generation(NAME)
    rebuild_projection(NAME, target)
    assert runner.live_generation(NAME) == target
    rebuild_projection(NAME, target)  # the same message again, after the work was done
    assert runner.live_generation(NAME) == target


@pytest.mark.parametrize("size", [1, 3, 600])  # 600: above PIPELINE_ROWS, through COPY
def test_replace_rows_deletes_only_the_keys_of_its_generation_then_inserts(db, size):
    from ledger.projections.base import PIPELINE_ROWS, Keys, replace_rows

    assert size <= 3 or size > PIPELINE_ROWS
    for generation in (1, 2):
        for stream in ("a", "b", "c"):
            Tally.objects.create(generation=generation, position=1, stream=stream, count=1)
    new = [
        {"generation": 1, "position": 9, "stream": f"n-{i}", "count": i, "total": i * 10}
        for i in range(size)
    ]
    replace_rows(1, [Keys(Tally, ("stream",), [("a",), ("b",)])], [(Tally, new)])
    kept = dict(Tally.objects.filter(generation=1).values_list("stream", "count"))
    assert kept == {"c": 1, **{f"n-{i}": i for i in range(size)}}
    assert set(Tally.objects.filter(generation=2).values_list("stream", flat=True)) == {
        "a", "b", "c",
    }  # fmt: skip
    row = Tally.objects.get(generation=1, stream="n-0")
    assert (row.position, row.total) == (9, 0)
    replace_rows(1, [Keys(Tally, ("stream",), [])], [(Tally, [])])  # nothing to do
    assert Tally.objects.filter(generation=1).count() == size + 1
