"""Helpers shared by the benchmarks: a scratch PostgreSQL database, Django set up on it,
timing, and a printed results table.

Every benchmark runs against a fresh database that it creates and always drops, so it
never touches real data and never depends on what an earlier run left behind.
``DATABASE_URL`` chooses the server (its database name, if any, is ignored); the default
is ``postgres://postgres@127.0.0.1:5432/``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/"
BENCH_SECRET_KEY = "bench-only-dummy-secret-key-never-used-for-anything-real"


def put_repo_on_path() -> None:
    """Make ``import ledger`` find the app, not a same-named script in ``bench/``.

    Run as ``python bench/x.py``, Python puts ``bench/`` first on ``sys.path``.
    """
    bench_dir = str(REPO_ROOT / "bench")
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(bench_dir)]
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))


# --- the scratch database ---------------------------------------------------------------


def server_url() -> str:
    """The PostgreSQL server to use: ``DATABASE_URL`` (any database name dropped)."""
    url = os.environ.get("DATABASE_URL", "").strip() or DEFAULT_SERVER
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit(f"DATABASE_URL must be a postgres:// URL for the benchmarks: {url!r}")
    return url


def database_url(server: str, dbname: str) -> str:
    """``server`` with its database name replaced by ``dbname``."""
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, ""))


def admin_connect(server: str) -> psycopg.Connection[Any]:
    """An autocommit connection to the server's ``postgres`` database."""
    return psycopg.connect(database_url(server, "postgres"), autocommit=True, connect_timeout=10)


@contextlib.contextmanager
def scratch_database(prefix: str = "consortium_bench") -> Iterator[str]:
    """Create ``<prefix>_<pid>``, yield its URL, and drop it afterwards, even on failure.

    SIGTERM is turned into an exception while inside, so ``kill`` cleans up too.
    """
    server = server_url()
    name = f"{prefix}_{os.getpid()}"
    with admin_connect(server) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def _terminate(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield database_url(server, name)
    finally:
        signal.signal(signal.SIGTERM, previous)
        _close_django_connections()
        with admin_connect(server) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _close_django_connections() -> None:
    if "django.db" in sys.modules:
        from django.db import connections

        connections.close_all()


def setup_django(url: str) -> None:
    """Point Django at ``url`` (bench-only settings), set it up and run every migration."""
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.baseline.settings"  # service + baselines
    os.environ["DJANGO_SECRET_KEY"] = BENCH_SECRET_KEY
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # The production path: after each append a coalesced catch-up is published to Redis
    # (a bench-owned database number; no worker consumes it unless a benchmark starts one).
    os.environ["CELERY_BROKER_URL"] = bench_broker_url()
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def bench_broker_url() -> str:
    """Redis for the benchmarks: ``BENCH_BROKER_URL``, else database 13 on the local server."""
    return os.environ.get("BENCH_BROKER_URL", "").strip() or "redis://127.0.0.1:6379/13"


def flush_bench_broker() -> None:
    """Empty the bench-owned Redis database (queued tasks of earlier runs)."""
    import redis

    redis.Redis.from_url(bench_broker_url()).flushdb()


def server_settings(conn: psycopg.Connection[Any], names: Sequence[str]) -> dict[str, str]:
    """``SHOW name`` for each of ``names``."""
    result = {}
    for name in names:
        row = conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()
        result[name] = str(row[0]) if row else "?"
    return result


def checkpoint(server: str) -> None:
    """Flush dirty pages now, so a checkpoint is less likely to land inside a timing."""
    with contextlib.suppress(psycopg.Error), admin_connect(server) as admin:
        admin.execute("CHECKPOINT")


# --- timing and results -----------------------------------------------------------------


@dataclasses.dataclass
class Result:
    """One measured case: ``events`` handled in ``seconds``."""

    name: str
    events: int
    seconds: float
    note: str = ""

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("inf")


def timed(name: str, events: int, work: Callable[[], object], note: str = "") -> Result:
    """Run ``work`` once under ``time.perf_counter`` and return its ``Result``."""
    start = time.perf_counter()
    work()
    return Result(name, events, time.perf_counter() - start, note)


def best_of(
    repeats: int, name: str, events: int, work: Callable[[], object], note: str = ""
) -> Result:
    """The fastest of ``repeats`` timings of ``work`` (for short, read-only cases)."""
    results = [timed(name, events, work, note) for _ in range(max(1, repeats))]
    return min(results, key=lambda r: r.seconds)


def print_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()
) -> None:
    """A plain aligned text table; columns whose index is in ``right`` align right."""
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=False)]

    def line(cells: Sequence[str]) -> str:
        out = []
        for i, (cell, width) in enumerate(zip(cells, widths, strict=False)):
            out.append(str(cell).rjust(width) if i in right else str(cell).ljust(width))
        return "  ".join(out).rstrip()

    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))


def print_results(results: Sequence[Result]) -> None:
    """The standard table of cases: events, seconds, events/s, note."""
    rows = [
        [r.name, f"{r.events:,}", f"{r.seconds:.3f}", f"{r.rate:,.0f}", r.note] for r in results
    ]
    print_table(["case", "events", "seconds", "events/s", "note"], rows, right=(1, 2, 3))


def print_ratios(ratios: Sequence[tuple[str, float, float]]) -> bool:
    """Print ``(label, ratio, target)`` lines with PASS/MISS; True when all pass."""
    rows = []
    passed = True
    for label, ratio, target in ratios:
        ok = ratio >= target
        passed = passed and ok
        rows.append([label, f"{ratio:.2f}", f">= {target:.2f}", "PASS" if ok else "MISS"])
    print_table(["ratio", "value", "target", ""], rows, right=(1,))
    return passed
