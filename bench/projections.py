"""Benchmark the projections: a full rebuild of a large ledger, and append-to-visible lag.

Run from the repository root::

    .venv/bin/python bench/projections.py            # 1,000,000 events (a few minutes)
    .venv/bin/python bench/projections.py --smoke    # tiny sizes, what CI runs

It creates a scratch PostgreSQL database and fills it with ``--consortia`` long-lived
consortia of ``--events-each`` events (the realistic mix of ``bench/commands.py``: 40
partners, commitments through their stages and amended, capital calls prepared, approved
and issued, contributions with reversals, debt draws and repayments, FX rates; every
command decided by the pure domain, events appended in bulk through the ledger), plus
data centres with stakes held by the consortia and their partners. Then, in one run:

(a) raw psycopg: a keyset-paged sequential read of every event (jsonb parsed);
(b) ``rebuild_projections`` of every consortium projection into a new generation and the
    switch, in events per second of the ledger (the target: at least 0.4 of (a));
(c) with a real Celery worker on Redis: commands at ``--rate`` per second (through the
    services) and the lag from each commit until the consortium projection's checkpoint
    (fundraising, positions, calls) has passed it, p50 and p99 (the target: p99 under 250 ms).
(d) in a scratch database of its own: a ``--backlog`` of events appended while no worker
    runs, then caught up by 1, 2 and 4 real Celery worker processes, each sent one
    catch-up task at once (as triggers and the sweep would); every run starts from the same
    copy of the database (a PostgreSQL template), median of ``--worker-runs`` runs each,
    printed as the ratio to one worker (the target: more workers never more than 10 %
    slower). ``--workers-only`` runs (d) alone.

Nothing here asserts on time; it fails only if something goes wrong.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import _common

_common.put_repo_on_path()

import psycopg  # noqa: E402

from bench.commands import build_large, percentile  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
READ_TARGET = 0.4
LAG_TARGET_MS = 250.0


@dataclasses.dataclass(frozen=True)
class Sizes:
    consortia: int
    events_each: int
    assets: int
    rate: int
    seconds: float
    backlog: int = 40_000
    worker_runs: int = 3
    workers: tuple[int, ...] = (1, 2, 4)
    workers_only: bool = False


def parse_args(argv: list[str] | None) -> Sizes:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--consortia", type=int, default=50)
    parser.add_argument("--events-each", type=int, default=20_000)
    parser.add_argument("--assets", type=int, default=100)
    parser.add_argument("--rate", type=int, default=200, help="commands per second in (c)")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of (c)")
    parser.add_argument("--backlog", type=int, default=40_000, help="events caught up in (d)")
    parser.add_argument("--worker-runs", type=int, default=3, help="runs per worker count in (d)")
    parser.add_argument("--workers-only", action="store_true", help="run (d) alone")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (CI)")
    args = parser.parse_args(argv)
    if args.smoke:
        return Sizes(
            consortia=2,
            events_each=300,
            assets=3,
            rate=50,
            seconds=2.0,
            backlog=400,
            worker_runs=1,
            workers=(1, 2),
            workers_only=args.workers_only,
        )
    return Sizes(
        args.consortia,
        args.events_each,
        args.assets,
        args.rate,
        args.seconds,
        backlog=args.backlog,
        worker_runs=args.worker_runs,
        workers_only=args.workers_only,
    )


def build(sizes: Sizes) -> list[str]:
    """The ledger: consortia of the realistic mix, then assets with stakes."""
    started = time.perf_counter()
    slugs = [f"bench-{number:03d}" for number in range(sizes.consortia)]
    for slug in slugs:
        build_large(slug, sizes.events_each, 1000, "bench.preparer", "bench.approver")
    build_assets(slugs, sizes.assets)
    from ledger.store import head

    print(
        f"built {head():,} events in {time.perf_counter() - started:.1f} s "
        f"({sizes.consortia} consortia x {sizes.events_each:,}, {sizes.assets} assets)"
    )
    return slugs


def build_assets(slugs: list[str], count: int) -> None:
    from consortium.domain import commands as c
    from consortium.domain.decisions import decide_for_asset
    from consortium.domain.events import asset_stream_id, event_to_stored
    from consortium.domain.money import Money, Percent
    from consortium.domain.state import AssetState
    from consortium.domain.values import Holder
    from consortium.streams import load_consortium
    from ledger.store import NewEvent, append

    for number in range(count):
        slug = slugs[number % len(slugs)]
        sponsor = load_consortium(slug).state
        on = sponsor.last_effective_on or sponsor.formed_on
        assert on is not None
        asset_id, state = f"dc-{number:04d}", AssetState()
        events: list[NewEvent] = []
        commands: list[Any] = [
            c.RegisterAsset(
                asset_id,
                slug,
                "data_centre",
                f"Campus {number}",
                "Virginia",
                Money.of("500", "USD").amount,
                Money.of("1000000000.00", "USD"),
                on,
            ),
            c.AcquireStake(asset_id, Holder.consortium(slug), Percent.of("70"), on),
            c.AcquireStake(asset_id, Holder.organisation("org-01"), Percent.of("20"), on),
        ]
        for command in commands:
            for event in decide_for_asset(state, command, sponsor=sponsor):
                from consortium.domain.events import DatedEvent

                state.apply(DatedEvent(event, on, version=len(events) + 1))
                kind, data = event_to_stored(event)
                events.append(NewEvent(kind, data, effective_on=on))
        append(asset_stream_id(asset_id), events, expected_version=0)


def raw_read(url: str, page: int = 5000) -> tuple[int, float]:
    """Every event, keyset-paged, with psycopg's own loaders (jsonb parsed)."""
    started, after, total = time.perf_counter(), 0, 0
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT position, stream, version, type, schema_version, data, metadata, "
                "effective_on, recorded_at, prev_hash, hash FROM ledger_event "
                "WHERE position > %s ORDER BY position LIMIT %s",
                (after, page),
                prepare=True,
            )
            rows = cursor.fetchall()
            total += len(rows)
            if len(rows) < page:
                break
            after = rows[-1][0]
    return total, time.perf_counter() - started


def rebuild_all() -> tuple[int, float]:
    from ledger.projections import registry, runner
    from ledger.store import head

    consortium_projections = [n for n in registry.names() if not n.startswith("test_")]
    started = time.perf_counter()
    runner.rebuild_many(consortium_projections, progress=_progress)
    sys.stderr.write("\n")
    return head(), time.perf_counter() - started


def _progress(p: Any) -> None:
    left = f", {p.seconds_left:,.0f} s left" if p.seconds_left is not None else ""
    sys.stderr.write(
        f"\r  rebuild: {p.done:,} / {p.head:,} events, {p.per_second:,.0f} events/s{left}   "
    )


class Worker:
    """A real Celery worker on the bench's Redis database and scratch PostgreSQL."""

    def __init__(self, url: str, *extra: str) -> None:
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)  # noqa: SIM115
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "LOG_LEVEL": "INFO",
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
        }
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "celery"),
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "-l",
                "info",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                *extra,
            ],
            cwd=REPO,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "ready." in Path(self.log.name).read_text():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("The worker did not start:\n" + Path(self.log.name).read_text())

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        Path(self.log.name).unlink(missing_ok=True)


def _wait_until_worker_idle(timeout: float = 120) -> None:
    """Until the bench's queue is empty and the worker answers that it runs no task (a
    solo worker answers control messages only between tasks)."""
    import redis
    from celery import current_app

    queue = redis.Redis.from_url(_common.bench_broker_url())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if queue.llen("celery") == 0:
            active = current_app.control.inspect(timeout=1.0).active()
            if active and not any(active.values()) and queue.llen("celery") == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("The worker was still busy after the warm-up")


def measure_lag(url: str, slugs: list[str], sizes: Sizes) -> list[float]:
    """Commands at ``rate``/s; the lag from each commit to the ``consortium`` checkpoint."""
    from django.contrib.auth import get_user_model

    from consortium import services
    from consortium.domain.money import Money

    user = get_user_model().objects.get_or_create(username="bench.lag")[0]
    actor = services.Actor(user, source="bench")
    pending: dict[int, float] = {}
    lags: list[float] = []
    lock, done = threading.Lock(), threading.Event()

    def watch() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            while not done.is_set() or pending:
                row = conn.execute(
                    "SELECT checkpoint FROM ledger_projection_state WHERE name = 'consortium'"
                ).fetchone()
                now = time.perf_counter()
                with lock:
                    for position in [p for p in pending if row and p <= row[0]]:
                        lags.append((now - pending.pop(position)) * 1000)
                if done.is_set() and time.perf_counter() - finished[0] > 30:
                    break
                time.sleep(0.001)

    finished = [0.0]
    watcher = threading.Thread(target=watch, daemon=True)
    targets = slugs[:3]
    counter = 0

    def command(measured: bool) -> None:
        nonlocal counter
        counter += 1
        slug = targets[counter % len(targets)]
        result = services.commitment_record(
            actor=actor,
            slug=slug,
            commitment_id=f"lag-{counter:06d}",
            organisation_id="org-05",
            instrument="equity",
            amount=Money.of("1000000.00", "USD"),
            stage="indicated",
        )
        if measured:
            with lock:
                pending[result.positions[-1]] = time.perf_counter()

    for _ in range(30):  # warm the worker's caches of these streams
        command(False)
    # A cold worker folds each stream once (seconds for 20,000-event streams on a slow
    # machine): measure the steady state, after it has caught up with the warm-up.
    with psycopg.connect(url, autocommit=True) as conn:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT s.checkpoint >= h.position FROM ledger_projection_state s, ledger_head h "
                "WHERE s.name = 'consortium'"
            ).fetchone()
            if row and row[0]:
                break
            time.sleep(0.05)
    # The warm-up may have queued snapshot saves (a stream crossed a save boundary), which
    # a solo worker runs between catch-ups: wait until it is idle with nothing queued.
    _wait_until_worker_idle()
    time.sleep(1)
    watcher.start()
    interval, count = 1.0 / sizes.rate, int(sizes.rate * sizes.seconds)
    start = time.perf_counter()
    for number in range(count):
        wait = start + number * interval - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        command(True)
    finished[0] = time.perf_counter()
    done.set()
    watcher.join(timeout=40)
    if pending:
        raise RuntimeError(f"{len(pending)} commands never became visible in 30 s")
    return lags


def main(argv: list[str] | None = None) -> int:
    sizes = parse_args(argv)
    if not sizes.workers_only:
        with _common.scratch_database() as url:
            _common.flush_bench_broker()
            _common.setup_django(url)
            from django.db import connection

            try:
                run(sizes, url)
            finally:
                connection.close()
    with _common.scratch_database("consortium_bench_workers") as url:
        _common.flush_bench_broker()
        use_database(url)
        run_workers(sizes, url)
    return 0


def use_database(url: str) -> None:
    """Set Django up on ``url``, or, when (a)-(c) already did on another database, move
    its connection there; then migrate."""
    from django.apps import apps

    if not apps.ready:
        _common.setup_django(url)
        return
    from django.core.management import call_command
    from django.db import connections

    connections.close_all()
    connections["default"].settings_dict["NAME"] = url.rsplit("/", 1)[1]
    os.environ["DATABASE_URL"] = url
    call_command("migrate", verbosity=0)


def run(sizes: Sizes, url: str) -> None:
    with psycopg.connect(url) as conn:
        settings = _common.server_settings(conn, ["server_version", "fsync"])
        print("PostgreSQL " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    slugs = build(sizes)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    _common.flush_bench_broker()
    raw_events, raw_seconds = min((raw_read(url) for _ in range(2)), key=lambda r: r[1])
    rebuilt, rebuild_seconds = rebuild_all()
    raw_rate, rebuild_rate = raw_events / raw_seconds, rebuilt / rebuild_seconds
    print()
    print(
        f"(a) raw sequential read        {raw_events:>10,} events {raw_seconds:8.2f} s "
        f"{raw_rate:>10,.0f} events/s"
    )
    print(
        f"(b) rebuild all projections    {rebuilt:>10,} events {rebuild_seconds:8.2f} s "
        f"{rebuild_rate:>10,.0f} events/s"
    )

    worker = Worker(url)
    try:
        worker.wait_ready()
        lags = measure_lag(url, slugs, sizes)
    finally:
        worker.stop()
    p50, p99 = percentile(lags, 50), percentile(lags, 99)
    print(
        f"(c) lag at {sizes.rate}/s, {len(lags):,} commands: p50 {p50:.1f} ms, "
        f"p99 {p99:.1f} ms, max {max(lags):.1f} ms"
    )
    print()
    ratio = rebuild_rate / raw_rate
    _common.print_ratios(
        [
            ("(b)/(a) rebuild / raw sequential read", ratio, READ_TARGET),
        ]
    )
    verdict = "PASS" if p99 < LAG_TARGET_MS else "MISS"
    print(
        f"(c) p99 lag append -> visible        {p99:6.1f} ms  < {LAG_TARGET_MS:.0f} ms  {verdict}"
    )


# --- (d) a backlog caught up by several worker processes ----------------------------------

WORKERS_TARGET = 1.10  # more workers: at most this many times one worker's time


def run_workers(sizes: Sizes, url: str) -> None:
    """(d): build the backlog in the scratch database ``url`` (Django set up on it), keep
    that as a template, and time its catch-up by each number of workers on a fresh copy."""
    from django.db import connections

    head, backlog = build_backlog(sizes)
    connections.close_all()
    server = _common.server_url()
    template = url.rsplit("/", 1)[1]
    seconds: dict[int, list[float]] = {count: [] for count in sizes.workers}
    print()
    print(f"(d) a backlog of {backlog:,} events (head {head:,}), caught up by real workers:")
    for run in range(sizes.worker_runs):
        # Each count in turn, the order reversed every other run: a drift of the machine's
        # load over the runs then falls on every count alike.
        for count in sizes.workers if run % 2 == 0 else reversed(sizes.workers):
            taken = catch_up_with_workers(server, template, count, head)
            seconds[count].append(taken)
            print(f"    run {run + 1}, {count} worker(s): {taken:6.2f} s")
    medians = {count: statistics.median(values) for count, values in seconds.items()}
    one = medians[sizes.workers[0]]
    rows = [
        [
            f"{count} worker(s)",
            f"{medians[count]:.2f}",
            f"{backlog / medians[count]:,.0f}",
            f"{medians[count] / one:.2f}",
            f"<= {WORKERS_TARGET:.2f}",
            "PASS" if medians[count] / one <= WORKERS_TARGET else "MISS",
        ]
        for count in sizes.workers
    ]
    print()
    _common.print_table(
        ["(d) catch-up", "median s", "events/s", "/ 1 worker", "target", ""], rows, right=(1, 2, 3)
    )


def build_backlog(sizes: Sizes) -> tuple[int, int]:
    """A small caught-up ledger, then ``sizes.backlog`` events appended with no worker."""
    from ledger.projections import runner
    from ledger.store import head

    for number in range(2):
        build_large(f"base-{number}", max(sizes.backlog // 10, 100), 1000, "b.prep", "b.appr")
    runner.catch_up_all()
    caught_up = head()
    consortia = 4
    for number in range(consortia):
        build_large(f"backlog-{number}", sizes.backlog // consortia, 1000, "b.prep", "b.appr")
    from ledger.projections import triggers

    triggers.drain()
    _common.flush_bench_broker()  # the catch-ups the appends asked for: each run sends its own
    return head(), head() - caught_up


def catch_up_with_workers(server: str, template: str, count: int, head: int) -> float:
    """Copy the template, start ``count`` worker processes on the copy, send each a
    catch-up at once, and time until every projection's checkpoint is the head."""
    name = f"{template}_run"
    copy = _common.database_url(server, name)
    with _common.admin_connect(server) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    workers: list[Worker] = []
    try:
        _common.flush_bench_broker()
        # One message at a time per worker: each of the ``count`` catch-ups goes to its own.
        workers = [Worker(copy, "--prefetch-multiplier=1") for _ in range(count)]
        for worker in workers:
            worker.wait_ready()
        from celery import current_app

        with psycopg.connect(copy, autocommit=True) as conn:
            started = time.perf_counter()
            for _ in range(count):
                current_app.send_task("ledger.tasks.catch_up_projections", retry=False)
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                row = conn.execute("SELECT min(checkpoint) FROM ledger_projection_state").fetchone()
                if row and row[0] is not None and row[0] >= head:
                    return time.perf_counter() - started
                time.sleep(0.01)
        raise RuntimeError(f"{count} worker(s) did not catch up in 600 s")
    finally:
        for worker in workers:
            worker.stop()
        with _common.admin_connect(server) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    raise SystemExit(main())
