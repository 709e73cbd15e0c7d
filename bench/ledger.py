"""Benchmark the ledger's append and read_all against raw psycopg on the same server.

Run from the repository root::

    .venv/bin/python bench/ledger.py              # full run (about a minute)
    .venv/bin/python bench/ledger.py --smoke      # tiny sizes, what CI runs

It creates a scratch PostgreSQL database, migrates it, and measures in one run:

(a) raw psycopg, one INSERT per transaction, into a table equivalent to ``ledger_event``
    (``CREATE TABLE ... (LIKE ledger_event INCLUDING ALL)``: same columns, types, checks,
    primary key, unique (stream, version) and indexes; triggers are BEFORE UPDATE/DELETE/
    TRUNCATE only, so they cost an INSERT nothing), every value precomputed;
(b) ``ledger.store.append`` of one event per call;
(c) ``append`` of ``--batch`` events per call;
(d) raw psycopg batched inserts, ``--batch`` rows per transaction, three ways:
    ``executemany`` (pipeline mode), one multi-row ``INSERT ... VALUES``, and ``COPY``; the
    fastest is the baseline for (c);
(e) ``read_all`` in pages of ``--page`` over every event in the ledger;
(f) raw psycopg keyset-paged ``SELECT`` of the same columns of the same rows (psycopg's
    default loaders: jsonb parsed to dicts, timestamps to datetimes);
(g) the ``eventsourcing`` library's PostgreSQL application recorder, one event per call,
    when its ``postgres`` extra (``psycopg_pool``) is installed; otherwise a note.

Write cases are interleaved over several rounds (alternating their order, a CHECKPOINT
before each round) so drift on a shared machine falls on ours and raw alike; every case
is warmed up first, and all inputs are built before timing starts (``time.perf_counter``).
Then it prints the ratios ours/raw beside the targets of issue 2. Nothing here asserts on
time; the script fails only if a measurement goes wrong (a count that does not add up).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import functools
import hashlib
import sys
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import _common

_common.put_repo_on_path()

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

COLUMNS = (
    "position",
    "stream",
    "version",
    "type",
    "schema_version",
    "data",
    "metadata",
    "effective_on",
    "recorded_at",
    "prev_hash",
    "hash",
)
METADATA = {"actor": "bench", "source": "bench/ledger.py", "correlation_id": "bench-run"}
TARGETS = {"single": 0.6, "batch": 0.5, "read": 0.5}


@dataclasses.dataclass(frozen=True)
class Sizes:
    single: int  # events appended one per call (and raw single inserts)
    events: int  # events appended in batches (and raw batched inserts)
    batch: int
    page: int
    streams: int
    warmup_single: int
    warmup_batches: int
    read_repeats: int
    rounds: int


def parse_args(argv: list[str] | None = None) -> Sizes:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--events", type=int, default=30_000, help="events appended in batches (default 30000)"
    )
    parser.add_argument(
        "--single",
        type=int,
        default=None,
        help="events appended one per call (default: a tenth of --events)",
    )
    parser.add_argument("--batch", type=int, default=100, help="events per batched append")
    parser.add_argument("--page", type=int, default=1000, help="events per read page")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it still works")
    args = parser.parse_args(argv)
    if args.smoke:
        return Sizes(30, 300, 50, 100, 5, 3, 1, 1, 1)
    if min(args.events, args.batch, args.page) < 1:
        parser.error("--events, --batch and --page must be at least 1")
    single = args.single if args.single is not None else max(1, args.events // 10)
    return Sizes(single, args.events, args.batch, args.page, 200, 100, 5, 3, 5)


# --- the data --------------------------------------------------------------------------


def event_data(i: int) -> dict[str, Any]:
    """A realistic event body, about 300 bytes encoded: amounts, names, references."""
    return {
        "deal_id": f"deal-{i % 97:04d}",
        "tranche": "senior-A",
        "commitment": Decimal("1250000.00") + i,
        "drawn": Decimal("312500.50"),
        "fee_rate": Decimal("0.0125"),
        "currency": "USD",
        "counterparty": "Northwind Compute Partners LP",
        "site": "Ashburn VA-3, hall 2",
        "memo": "Capacity reservation for 2,048 accelerators, phase 2 energisation",
        "reference": f"REF-{i:08d}",
    }


def canonical_json(value: Any) -> str:
    from ledger import canonical

    return canonical.dumps(canonical.normalise(value))


class RawRows:
    """Precomputed rows for the raw inserts: same shapes and sizes as the ledger stores."""

    def __init__(self, prefix: str, streams: int) -> None:
        self.prefix, self.streams = prefix, streams
        self.position = 0
        self.versions: dict[str, int] = {}
        self.meta_json = canonical_json(METADATA)
        self.recorded_at = dt.datetime.now(dt.UTC)

    def take(self, count: int, per_stream: int = 1) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        for _ in range(0, count, per_stream):
            stream = f"{self.prefix}-{(self.position // per_stream) % self.streams}"
            for _ in range(min(per_stream, count - len(rows))):
                self.position += 1
                version = self.versions.get(stream, 0) + 1
                self.versions[stream] = version
                data_json = canonical_json(event_data(self.position))
                digest = hashlib.sha256(f"{self.position}{data_json}".encode()).hexdigest()
                rows.append(
                    (
                        self.position,
                        stream,
                        version,
                        "DealCommitted",
                        1,
                        data_json,
                        self.meta_json,
                        dt.date(2026, 1, 1) + dt.timedelta(days=self.position % 365),
                        self.recorded_at,
                        "0" * 64,
                        digest,
                    )
                )
        return rows


def chunks(rows: list[tuple[Any, ...]], size: int) -> list[list[tuple[Any, ...]]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]


# --- raw psycopg -----------------------------------------------------------------------


def create_raw_table(conn: psycopg.Connection[Any], name: str) -> None:
    conn.execute(
        sql.SQL("CREATE TABLE {} (LIKE ledger_event INCLUDING ALL)").format(sql.Identifier(name))
    )
    conn.commit()


def insert_sql(table: str, rows: int = 1) -> sql.Composed:
    one = sql.SQL("({})").format(sql.SQL(", ").join(sql.Placeholder() * len(COLUMNS)))
    return sql.SQL("INSERT INTO {} ({}) VALUES {}").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
        sql.SQL(", ").join([one] * rows),
    )


def raw_single(conn: psycopg.Connection[Any], table: str, rows: list[tuple[Any, ...]]) -> None:
    statement = insert_sql(table)
    with conn.cursor() as cur:
        for row in rows:
            cur.execute(statement, row)
            conn.commit()


def raw_executemany(conn: psycopg.Connection[Any], table: str, batches: list[Any]) -> None:
    statement = insert_sql(table)
    with conn.cursor() as cur:
        for batch in batches:
            cur.executemany(statement, batch)  # pipeline mode (psycopg >= 3.1, libpq >= 14)
            conn.commit()


def raw_values(conn: psycopg.Connection[Any], table: str, batches: list[Any]) -> None:
    statements: dict[int, sql.Composed] = {}
    with conn.cursor() as cur:
        for batch in batches:
            statement = statements.setdefault(len(batch), insert_sql(table, len(batch)))
            cur.execute(statement, [value for row in batch for value in row])
            conn.commit()


def raw_copy(conn: psycopg.Connection[Any], table: str, batches: list[Any]) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, COLUMNS))
    )
    with conn.cursor() as cur:
        for batch in batches:
            with cur.copy(statement) as copy:
                for row in batch:
                    copy.write_row(row)
            conn.commit()


def raw_read(conn: psycopg.Connection[Any], page: int) -> int:
    statement = sql.SQL(
        "SELECT {} FROM ledger_event WHERE position > %s ORDER BY position LIMIT %s"
    ).format(sql.SQL(", ").join(map(sql.Identifier, COLUMNS)))
    after, total = 0, 0
    with conn.cursor() as cur:
        while True:
            rows = cur.execute(statement, (after, page)).fetchall()
            total += len(rows)
            if len(rows) < page:
                return total
            after = rows[-1][0]


# --- the ledger ------------------------------------------------------------------------


class Appender:
    """Appends through ``ledger.store.append``, tracking each stream's expected version."""

    def __init__(self, prefix: str, streams: int) -> None:
        self.prefix, self.streams = prefix, streams
        self.calls = 0
        self.counter = 0
        self.versions: dict[str, int] = {}

    def events(self, count: int) -> list[Any]:
        from ledger.store import NewEvent

        made = []
        for _ in range(count):
            self.counter += 1
            made.append(
                NewEvent(
                    "DealCommitted",
                    event_data(self.counter),
                    effective_on=dt.date(2026, 1, 1) + dt.timedelta(days=self.counter % 365),
                )
            )
        return made

    def prepare(self, calls: int, per_call: int) -> list[tuple[str, list[Any]]]:
        """The (stream, events) of each call, built before timing starts."""
        work = []
        for _ in range(calls):
            stream = f"{self.prefix}-{self.calls % self.streams}"
            self.calls += 1
            work.append((stream, self.events(per_call)))
        return work

    def run(self, work: list[tuple[str, list[Any]]]) -> None:
        from ledger.store import append

        versions = self.versions
        for stream, events in work:
            result = append(
                stream, events, expected_version=versions.get(stream, 0), metadata=METADATA
            )
            versions[stream] = result.version


def read_all_pass(page: int) -> int:
    from ledger.store import read_all

    after, total = 0, 0
    while True:
        batch = read_all(after=after, limit=page)
        total += len(batch)
        if len(batch) < page:
            return total
        after = batch[-1].position


# --- the eventsourcing library ---------------------------------------------------------


class EventsourcingRecorder:
    """The ``eventsourcing`` library's PostgreSQL application recorder, one event per call.

    ``open`` returns a note instead when its ``postgres`` extra (``psycopg_pool``) is absent.
    """

    def __init__(self, url: str, streams: int) -> None:
        self.url, self.streams = url, streams
        self.datastore: Any = None
        self.recorder: Any = None
        self.ids = [uuid.uuid4() for _ in range(streams)]
        self.versions: dict[uuid.UUID, int] = {}
        self.counter = 0
        self.note: str | None = None

    def open(self) -> str | None:
        try:
            from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
        except ImportError as error:
            return (
                "skipped: its PostgreSQL recorder needs the 'postgres' extra (psycopg[pool]), "
                f"which is not installed here ({error})"
            )
        info = psycopg.conninfo.conninfo_to_dict(self.url)
        self.datastore = PostgresDatastore(
            dbname=str(info["dbname"]),
            host=str(info.get("host", "127.0.0.1")),
            port=str(info.get("port", 5432)),
            user=str(info.get("user", "postgres")),
            password=str(info.get("password", "")),
            pool_size=1,
        )
        self.recorder = PostgresApplicationRecorder(
            self.datastore, events_table_name="es_stored_events"
        )
        self.recorder.create_table()
        return None

    def prepare(self, count: int) -> list[Any]:
        from eventsourcing.persistence import StoredEvent

        made = []
        for _ in range(count):
            self.counter += 1
            originator = self.ids[self.counter % len(self.ids)]
            self.versions[originator] = version = self.versions.get(originator, 0) + 1
            state = canonical_json(event_data(self.counter)).encode()
            made.append(StoredEvent(originator, version, "bench:DealCommitted", state))
        return made

    def run(self, events: list[Any]) -> None:
        for event in events:
            self.recorder.insert_events([event])

    def close(self) -> None:
        if self.datastore is not None:
            self.datastore.close()


# --- the run ---------------------------------------------------------------------------


@dataclasses.dataclass
class Case:
    """A measured case: its work for each round, built before any timing starts."""

    result: _common.Result
    run: Callable[[Any], object]
    rounds: list[Any]


def run_interleaved(cases: list[Case], server: str) -> None:
    """Time every case round by round, alternating their order, so that drift on a shared
    machine (checkpoints, other sessions, autovacuum) falls on all of them alike."""
    for index in range(len(cases[0].rounds)):
        _common.checkpoint(server)
        order = cases if index % 2 == 0 else cases[::-1]
        for case in order:
            work = case.rounds[index]
            start = time.perf_counter()
            case.run(work)
            case.result.seconds += time.perf_counter() - start


def split(total: int, parts: int) -> list[int]:
    """``total`` as ``parts`` near-equal whole numbers."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def main(argv: list[str] | None = None) -> int:
    sizes = parse_args(argv)
    server = _common.server_url()
    with _common.scratch_database() as url:
        _common.setup_django(url)
        from django.db import connection

        from ledger.store import head

        es = EventsourcingRecorder(url, sizes.streams)
        try:
            with psycopg.connect(url) as conn:
                settings = _common.server_settings(
                    conn,
                    [
                        "server_version",
                        "fsync",
                        "synchronous_commit",
                        "wal_sync_method",
                        "full_page_writes",
                    ],
                )
                print("PostgreSQL " + ", ".join(f"{k}={v}" for k, v in settings.items()))
                print(
                    f"sizes: {sizes.single:,} single-event writes per case, {sizes.events:,} "
                    f"events in batches of {sizes.batch}, read pages of {sizes.page}, "
                    f"{sizes.streams} streams; cases interleaved over {sizes.rounds} rounds; "
                    f"database {url.rsplit('/', 1)[-1]}"
                )
                print()
                results = measure(conn, es, sizes, server)
                total = head()
                expected = (
                    sizes.warmup_single
                    + sizes.single
                    + (sizes.warmup_batches + -(-sizes.events // sizes.batch)) * sizes.batch
                )
                if total != expected:
                    raise SystemExit(f"the ledger holds {total} events, expected {expected}")
                results.update(measure_reads(conn, sizes, total))
        finally:
            es.close()
            connection.close()
        report(results, sizes, es.note)
    return 0


def measure(
    conn: psycopg.Connection[Any], es: EventsourcingRecorder, sizes: Sizes, server: str
) -> dict[str, _common.Result]:
    """The write cases: (a), (b) and (g) one event at a time; (c) and (d) in batches."""
    singles = split(sizes.single, sizes.rounds)
    create_raw_table(conn, "bench_raw_single")
    raw = RawRows("raw-single", sizes.streams)
    raw_single(conn, "bench_raw_single", raw.take(sizes.warmup_single))
    appender = Appender("deal-single", sizes.streams)
    appender.run(appender.prepare(sizes.warmup_single, 1))
    cases = {
        "a": Case(
            _common.Result("(a) raw INSERT, 1 row/transaction", sizes.single, 0.0),
            lambda rows: raw_single(conn, "bench_raw_single", rows),
            [raw.take(n) for n in singles],
        ),
        "b": Case(
            _common.Result("(b) append, 1 event/call", sizes.single, 0.0),
            appender.run,
            [appender.prepare(n, 1) for n in singles],
        ),
    }
    es.note = es.open()
    if es.note is None:
        es.run(es.prepare(sizes.warmup_single))
        cases["g"] = Case(
            _common.Result("(g) eventsourcing recorder, 1/call", sizes.single, 0.0),
            es.run,
            [es.prepare(n) for n in singles],
        )
    run_interleaved(list(cases.values()), server)

    calls = split(-(-sizes.events // sizes.batch), sizes.rounds)
    batcher = Appender("deal-batch", max(1, sizes.streams // 4))
    batcher.run(batcher.prepare(sizes.warmup_batches, sizes.batch))
    batched = {
        "c": Case(
            _common.Result(f"(c) append, {sizes.batch} events/call", sum(calls) * sizes.batch, 0.0),
            batcher.run,
            [batcher.prepare(n, sizes.batch) for n in calls],
        )
    }
    for key, label, method in (
        ("d1", "executemany, pipeline", raw_executemany),
        ("d2", "multi-row VALUES", raw_values),
        ("d3", "COPY", raw_copy),
    ):
        table = "bench_raw_" + method.__name__.removeprefix("raw_")
        create_raw_table(conn, table)
        raw = RawRows("raw-batch", max(1, sizes.streams // 4))
        warm = raw.take(sizes.warmup_batches * sizes.batch, sizes.batch)
        method(conn, table, chunks(warm, sizes.batch))
        batched[key] = Case(
            _common.Result(
                f"(d) raw {label}, {sizes.batch} rows/tx", sum(calls) * sizes.batch, 0.0
            ),
            functools.partial(method, conn, table),
            [chunks(raw.take(n * sizes.batch, sizes.batch), sizes.batch) for n in calls],
        )
    run_interleaved(list(batched.values()), server)
    return {key: case.result for key, case in {**cases, **batched}.items()}


def measure_reads(
    conn: psycopg.Connection[Any], sizes: Sizes, total: int
) -> dict[str, _common.Result]:
    """(e) and (f), over every event in the ledger, alternating, best of several passes."""
    conn.autocommit = True
    if read_all_pass(sizes.page) != total:  # also the warm-up
        raise SystemExit("read_all did not return every event")
    if raw_read(conn, sizes.page) != total:
        raise SystemExit("the raw read did not return every event")
    e = _common.Result(f"(e) read_all, pages of {sizes.page}", total, float("inf"))
    f = _common.Result(f"(f) raw SELECT, pages of {sizes.page}", total, float("inf"))
    e.note = f"best of {sizes.read_repeats}"
    f.note = e.note + "; jsonb parsed by psycopg"
    for _ in range(sizes.read_repeats):
        for result, work in (
            (e, lambda: read_all_pass(sizes.page)),
            (f, lambda: raw_read(conn, sizes.page)),
        ):
            start = time.perf_counter()
            work()
            result.seconds = min(result.seconds, time.perf_counter() - start)
    return {"e": e, "f": f}


def report(results: dict[str, _common.Result], sizes: Sizes, es_note: str | None) -> None:
    raw_batched = [results[k] for k in ("d1", "d2", "d3")]
    best = max(raw_batched, key=lambda r: r.rate)
    best.note = "fastest raw batched: the baseline for (c)"
    order = ["a", "b", "c", "d1", "d2", "d3", "e", "f", "g"]
    _common.print_results([results[key] for key in order if key in results])
    if es_note:
        print(f"(g) eventsourcing recorder: {es_note}")
    print()
    single = results["b"].rate / results["a"].rate
    batch = results["c"].rate / best.rate
    read = results["e"].rate / results["f"].rate
    passed = _common.print_ratios(
        [
            ("(b)/(a) single append / raw single insert", single, TARGETS["single"]),
            (f"(c)/(d) {sizes.batch}-event append / fastest raw batched", batch, TARGETS["batch"]),
            ("(e)/(f) read_all / raw read", read, TARGETS["read"]),
        ]
    )
    if "g" in results:
        print(
            "for reference: (g)/(a) eventsourcing / raw single insert = "
            f"{results['g'].rate / results['a'].rate:.2f}; (b)/(g) single append / "
            f"eventsourcing = {results['b'].rate / results['g'].rate:.2f}"
        )
    print()
    print("all targets met" if passed else "some targets missed (figures only; not a failure)")


if __name__ == "__main__":
    sys.exit(main())
