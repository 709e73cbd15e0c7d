"""Benchmark the finance systems' API over HTTP: gunicorn, PostgreSQL and a real Celery worker.

Run from the repository root::

    .venv/bin/python bench/api.py            # 20 clients, 10 s a case, 3 rounds (3 minutes)
    .venv/bin/python bench/api.py --smoke    # 4 clients, ~1 s a case (CI)
    .venv/bin/python bench/api.py --profile  # also profile each case in-process

It creates a scratch PostgreSQL database, loads the demo (``seed_demo``), creates a user
with a global ``deal_team`` grant and an API key, and starts gunicorn (2 gthread workers
of 4 threads each, as deploy/scripts/web.sh; production settings: ``DJANGO_DEBUG=false``)
and a real Celery worker on the bench-owned Redis database. A load generator in this
process then runs, each client a thread with its own keep-alive
``http.client.HTTPConnection`` (closed loop, as fast as answers come):

(1) ``GET /bench/trivial/``: the trivial authenticated DRF endpoint, a bench-only copy
    that stays fixed whatever ``whoami`` becomes (``bench/baseline``): the reads' baseline;
(2) ``POST /bench/consortia/{slug}/commitments/``: the same body stored as one row by a
    plain DRF ``CreateAPIView`` and ``ModelSerializer`` with the same authentication, role
    check and throttle: the writes' baseline, what the write would cost as ordinary CRUD;
(3) ``POST consortia/{slug}/commitments/``: a new signed equity commitment each, with its
    own ``Idempotency-Key``, for the consortia in turn (a 409 from concurrent writers on
    one stream is allowed, and counted);
(4) ``GET consortia/aip/progress/``;
(5) ``GET events/?after=<random>&limit=100``;
(6) the write of (3) at a fixed ``--rate`` per second (open loop, latency measured from
    each request's scheduled time), for its p99.

The write mix is what a finance system sends: commitments for several partners across
several consortia (``--consortia``, default 8: the demo's ``aip`` and ``stargate`` and six
the bench forms, two partners each; consecutive writes go to different consortia), not a
stream of them into one; ``--consortia 2`` keeps every write on the demo's two streams.
Either way every write pays for its whole command (decision, append, chain, receipt, fold,
projections), and the mix barely moves how many decide twice: the two web processes take
turns on each stream, and one whose copy of the state is behind learns it from its refused
append (``ledger.commands``), however many streams there are.

The reads meet the web processes' rendered caches (``consortium.api.rendered``) as any
client repeating them would: (4) re-renders only when the projection has moved, and (5)
renders each event once per process, so after the first pages it reads no event rows.
The six cases run ``--rounds`` times in turn (default 3); each ratio is taken within its
round, and the medians are reported last.

Beside each case it prints where the CPU went (milliseconds per answered request in the
gunicorn workers, the Celery worker, PostgreSQL's backends on the scratch database and the
load generator itself) and what PostgreSQL's busy backends waited on (sampled every 5 ms):
on a small machine the load generator and the worker share the CPUs with the server, and
these figures say which cost a ratio is made of. ``--profile`` then times and profiles
each case in-process (one client, Django's test client) and lists its ORM queries.

Targets: event-sourced writes reach at least 0.7 of the plain create's throughput (event
sourcing, the chain and the projections together cost less than a third of a CRUD write),
reads at least 0.7 of the trivial endpoint's, and the write p99 at 100 requests per second
is under 25 ms. Nothing here asserts on
time; it fails only if something goes wrong outright (a server does not start, or every
request of a case errors).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import dataclasses
import http.client
import io
import itertools
import json
import os
import pstats
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import _common

_common.put_repo_on_path()

import psycopg  # noqa: E402

from bench.commands import percentile  # noqa: E402
from bench.projections import Worker  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
API = "/api/v1"
TRIVIAL = "/bench/trivial/"
WRITE_RATIO_TARGET = 0.7  # event-sourced write / plain create
READ_RATIO_TARGET = 0.7  # read / trivial
WRITE_P99_TARGET_MS = 25.0
USERNAME = "bench.api"
CLIENT_NAME = "bench-api"
# (consortium, a partner admitted to it) for the commitments of (2), (3) and (6): the demo's
# two consortia first, then those ``prepare`` forms (``--consortia``), taken in turn.
DEMO_TARGETS = [("aip", "microsoft"), ("stargate", "openai")]
BENCH_PARTNERS = [("partner-a", "Partner A"), ("partner-b", "Partner B")]
WRITE_TARGETS = list(DEMO_TARGETS)

# The environment of the server processes (and of this one, for the in-process profile).
SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.baseline.settings",
    "DJANGO_SECRET_KEY": _common.BENCH_SECRET_KEY,
    "DJANGO_DEBUG": "false",
    "DJANGO_ALLOWED_HOSTS": f"{HOST},testserver",
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    "API_RATE_LIMIT": "1000000/min",
    "LOG_LEVEL": "WARNING",
}


@dataclasses.dataclass(frozen=True)
class Sizes:
    clients: int
    seconds: float
    warmup: float
    rate: int
    rate_seconds: float
    profile: bool
    workers: int = 2
    rounds: int = 1
    threads: int = 4
    consortia: int = 8


def parse_args(argv: list[str] | None) -> Sizes:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each case")
    parser.add_argument("--rate", type=int, default=100, help="writes per second in (6)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (the issue: 2)")
    parser.add_argument(
        "--threads", type=int, default=4, help="threads per worker (deploy/scripts/web.sh)"
    )
    parser.add_argument("--profile", action="store_true", help="profile each case in-process")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="run the six cases this many times, in turn, and report the median (a noisy "
        "machine moves one round's figures by 20 %% or more)",
    )
    parser.add_argument(
        "--consortia",
        type=int,
        default=8,
        help="consortia the commitments are written to, in turn: the demo's two and "
        "bench-formed ones (2: only the demo's, every write on one of two streams)",
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (CI)")
    args = parser.parse_args(argv)
    consortia = max(1, args.consortia)
    if args.smoke:
        return Sizes(
            4, 1.0, 0.2, args.rate, 1.0, args.profile, args.workers, 1, args.threads, consortia
        )
    return Sizes(
        args.clients,
        args.seconds,
        1.0,
        args.rate,
        args.seconds,
        args.profile,
        args.workers,
        max(1, args.rounds),
        args.threads,
        consortia,
    )


# --- the servers ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class Gunicorn:
    """``gunicorn config.wsgi:application`` (2 gthread workers) on the scratch database."""

    def __init__(self, url: str, workers: int = 2, threads: int = 4) -> None:
        self.workers, self.threads = workers, threads
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)  # noqa: SIM115
        env = {
            **os.environ,
            **SERVER_ENV,
            "DATABASE_URL": url,
            "CELERY_BROKER_URL": _common.bench_broker_url(),
        }
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "config.wsgi:application",
                "-w",
                str(self.workers),
                "--worker-class",
                "gthread",
                "--threads",
                str(self.threads),
                "-b",
                f"{HOST}:{self.port}",
                "--log-level",
                "info",
            ],
            cwd=REPO,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return Path(self.log.name).read_text()

    def wait_ready(self, headers: dict[str, str], timeout: float = 60) -> None:
        """Until every worker has booted and the trivial endpoint answers 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if self.output().count("Booting worker") >= self.workers:
                with contextlib.suppress(OSError, http.client.HTTPException):
                    status, body = request_once(self.port, "GET", TRIVIAL, headers)
                    if status == 200:
                        return
                    raise RuntimeError(f"GET {TRIVIAL} answered {status}: {body[:500]!r}")
            time.sleep(0.1)
        raise RuntimeError("gunicorn did not start:\n" + self.output())

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)  # graceful: workers finish their request
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        Path(self.log.name).unlink(missing_ok=True)


def request_once(
    port: int, method: str, path: str, headers: dict[str, str], body: bytes | None = None
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# --- the data ---------------------------------------------------------------------------


def prepare(url: str, consortia: int = len(DEMO_TARGETS)) -> str:
    """The demo data, ``consortia`` consortia to write to (the demo's and more formed
    here, each with two partners), and a ``deal_team`` user with an API key; returns the
    key."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from consortium import services
    from consortium.api.access import digest, new_key
    from consortium.models import ApiClient, RoleGrant

    started = time.perf_counter()
    call_command("seed_demo", verbosity=0, stdout=io.StringIO())
    user = get_user_model().objects.create(username=USERNAME)
    RoleGrant.objects.create(user=user, role="deal_team", consortium="")
    actor = services.Actor(user, source="bench")
    formed = [f"bench-{number}" for number in range(len(DEMO_TARGETS) + 1, consortia + 1)]
    for slug in formed:
        services.consortium_form(actor=actor, slug=slug, name=slug.title(), base_currency="USD")
        for organisation, name in BENCH_PARTNERS:
            services.partner_admit(
                actor=actor, slug=slug, organisation_id=organisation, name=name, role="member"
            )
    # Consecutive writes go to different consortia; each consortium's partners take turns.
    WRITE_TARGETS[:] = DEMO_TARGETS[:consortia] + [
        (slug, organisation) for organisation, _ in BENCH_PARTNERS for slug in formed
    ]
    key = new_key()
    ApiClient.objects.create(
        name=CLIENT_NAME, user=user, key_prefix=key[:12], key_digest=digest(key)
    )
    from ledger.projections import runner
    from ledger.store import head

    runner.catch_up_all()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print(f"seeded the demo: {head():,} events in {time.perf_counter() - started:.1f} s")
    return key


# --- the load generator -----------------------------------------------------------------


Request = tuple[str, str, bytes | None, dict[str, str]]  # method, path, body, extra headers


@dataclasses.dataclass
class Outcome:
    """What one case saw: latencies (s) of 2xx answers, and every status."""

    name: str
    clients: int
    seconds: float = 0.0
    latencies: list[float] = dataclasses.field(default_factory=list)
    statuses: Counter[int] = dataclasses.field(default_factory=Counter)
    failures: Counter[str] = dataclasses.field(default_factory=Counter)  # connection errors
    samples: dict[int, bytes] = dataclasses.field(default_factory=dict)  # a body per status
    missing: str = ""  # why the case did not run

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def conflicts(self) -> int:
        return self.statuses.get(409, 0)

    @property
    def errors(self) -> int:
        other = sum(n for s, n in self.statuses.items() if not 200 <= s < 300 and s != 409)
        return other + sum(self.failures.values())

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else 0.0

    def p(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000 if self.latencies else float("nan")


class Client:
    """One keep-alive connection (reopened whenever the server closes it)."""

    def __init__(self, port: int, key: str) -> None:
        self.port = port
        self.headers = {
            "Authorization": f"Bearer {key}",
            "Accept": "application/json",
            "Connection": "keep-alive",
        }
        self.conn = http.client.HTTPConnection(HOST, port, timeout=30)

    def send(self, request: Request) -> tuple[int, bytes]:
        method, path, body, extra = request
        headers = {**self.headers, **extra}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()  # the next request reconnects
            raise
        if response.will_close:
            self.conn.close()
        return response.status, data

    def close(self) -> None:
        self.conn.close()


def _record(outcome: Outcome, lock: threading.Lock, status: int, data: bytes, took: float) -> None:
    with lock:
        outcome.statuses[status] += 1
        if 200 <= status < 300:
            outcome.latencies.append(took)
        outcome.samples.setdefault(status, data[:600])


def closed_loop(
    port: int, key: str, name: str, make: Callable[[], Request], clients: int, seconds: float
) -> Outcome:
    """``clients`` threads, each sending its next request when the last one is answered."""
    outcome, lock = Outcome(name, clients), threading.Lock()
    barrier = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def run() -> None:
        client = Client(port, key)
        barrier.wait()
        try:
            while time.perf_counter() < stop_at[0]:
                request = make()
                started = time.perf_counter()
                try:
                    status, data = client.send(request)
                except (OSError, http.client.HTTPException) as error:
                    with lock:
                        outcome.failures[type(error).__name__] += 1
                    continue
                _record(outcome, lock, status, data, time.perf_counter() - started)
        finally:
            client.close()

    threads = [threading.Thread(target=run, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    stop_at[0] = started + seconds
    barrier.wait()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    outcome.seconds = time.perf_counter() - started
    return outcome


def open_loop(
    port: int,
    key: str,
    name: str,
    make: Callable[[], Request],
    clients: int,
    rate: int,
    seconds: float,
) -> Outcome:
    """``rate`` requests a second on a fixed schedule, sent by ``clients`` threads.

    Each latency counts from the request's scheduled time, so a queue behind a slow answer
    shows in the figures rather than delaying the schedule.
    """
    outcome, lock = Outcome(name, clients), threading.Lock()
    count, interval = int(rate * seconds), 1.0 / rate
    schedule = iter(range(count))
    start = time.perf_counter() + 0.2

    def run() -> None:
        client = Client(port, key)
        try:
            while True:
                with lock:
                    number = next(schedule, None)
                if number is None:
                    return
                due = start + number * interval
                request = make()
                wait = due - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                try:
                    status, data = client.send(request)
                except (OSError, http.client.HTTPException) as error:
                    with lock:
                        outcome.failures[type(error).__name__] += 1
                    continue
                _record(outcome, lock, status, data, time.perf_counter() - due)
        finally:
            client.close()

    threads = [threading.Thread(target=run, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    outcome.seconds = time.perf_counter() - start
    return outcome


class WaitSampler:
    """Samples what the database's busy backends wait on while a case runs (every 5 ms)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.counts: Counter[str] = Counter()
        self.samples = 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> WaitSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join(timeout=5)

    def _run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.done.is_set():
                rows = conn.execute(
                    "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') "
                    "FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND state = 'active' "
                    "AND backend_type = 'client backend'"
                ).fetchall()
                self.samples += 1
                self.counts.update(str(row[0]) for row in rows)
                time.sleep(0.005)

    def summary(self) -> str:
        if not self.samples:
            return ""
        parts = [f"{name} {count / self.samples:.2f}" for name, count in self.counts.most_common(4)]
        return "busy backends on average: " + (", ".join(parts) or "none")


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of a process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class CpuMeter:
    """CPU seconds used during a case by gunicorn, the Celery worker, PostgreSQL's
    backends on the scratch database, and this process (the load generator)."""

    def __init__(self, url: str, gunicorn: int, celery: int) -> None:
        self.url, self.gunicorn, self.celery = url, gunicorn, celery

    def _groups(self) -> dict[str, list[int]]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            ).fetchall()
        return {
            "gunicorn": [self.gunicorn, *_children(self.gunicorn)],
            "celery": [self.celery, *_children(self.celery)],
            "postgres": [int(row[0]) for row in rows],
            "loadgen": [os.getpid()],
        }

    def __enter__(self) -> CpuMeter:
        self.before = {pid: _cpu_seconds(pid) for pids in self._groups().values() for pid in pids}
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started
        self.used: dict[str, float] = {}
        for group, pids in self._groups().items():
            self.used[group] = sum(_cpu_seconds(p) - self.before.get(p, 0.0) for p in pids)

    def summary(self, requests: int) -> str:
        per = ", ".join(
            f"{group} {used / max(1, requests) * 1000:.2f}" for group, used in self.used.items()
        )
        total = sum(self.used.values()) / self.seconds
        return f"CPU ms per 2xx: {per} (all of them: {total:.2f} CPUs busy)"


# --- the cases --------------------------------------------------------------------------


def trivial() -> Request:
    return ("GET", TRIVIAL, None, {})


_write_numbers = itertools.count(1)
_run_tag = f"{os.getpid():x}"


def commitment_body(commitment_id: str, organisation_id: str) -> dict[str, Any]:
    """The body of ``POST consortia/{slug}/commitments/`` (see consortium/api/writes.py)."""
    return {
        "commitment_id": commitment_id,
        "organisation_id": organisation_id,
        "instrument": "equity",
        "amount": "1000.00",
        "currency": "USD",
        "stage": "signed",
    }


def write() -> Request:
    number = next(_write_numbers)  # atomic under the GIL
    slug, organisation = WRITE_TARGETS[number % len(WRITE_TARGETS)]
    commitment_id = f"bench-{_run_tag}-{number:07d}"
    body = json.dumps(commitment_body(commitment_id, organisation)).encode()
    headers = {"Idempotency-Key": f"bench-{_run_tag}-{number}"}
    return ("POST", f"{API}/consortia/{slug}/commitments/", body, headers)


def plain_create() -> Request:
    """The same body as ``write``, stored as one row by the bench-only plain create."""
    number = next(_write_numbers)
    slug, organisation = WRITE_TARGETS[number % len(WRITE_TARGETS)]
    body = json.dumps(commitment_body(f"plain-{_run_tag}-{number:07d}", organisation)).encode()
    return ("POST", f"/bench/consortia/{slug}/commitments/", body, {})


def progress() -> Request:
    return ("GET", f"{API}/consortia/aip/progress/", None, {})


class EventsAfter:
    """``GET events/?after=<random position below the head>&limit=100``."""

    def __init__(self, head: int) -> None:
        self.head = head

    def __call__(self) -> Request:
        after = random.randint(0, max(0, self.head - 1))
        return ("GET", f"{API}/events/?after={after}&limit=100", None, {})


def probe(port: int, key: str, make: Callable[[], Request]) -> tuple[int, bytes]:
    """One request of a case before timing it: is the endpoint there, and does it work?"""
    client = Client(port, key)
    try:
        return client.send(make())
    finally:
        client.close()


def run_case(
    port: int,
    key: str,
    name: str,
    make: Callable[[], Request],
    sizes: Sizes,
    *,
    url: str,
    pids: tuple[int, int],
    rate: int | None = None,
) -> Outcome:
    status, data = probe(port, key, make)
    if status == 404:
        outcome = Outcome(name, sizes.clients)
        outcome.missing = f"endpoint missing (404): {make()[1]}"
        print(f"  {name}: SKIPPED, {outcome.missing}", flush=True)
        return outcome
    if not 200 <= status < 300:
        print(f"  {name}: the probe answered {status}: {data[:400]!r}", flush=True)
    if rate is None:
        closed_loop(port, key, name, make, sizes.clients, sizes.warmup)  # warm caches
    with CpuMeter(url, *pids) as cpu, WaitSampler(url) as waits:
        if rate is None:
            outcome = closed_loop(port, key, name, make, sizes.clients, sizes.seconds)
        else:
            outcome = open_loop(port, key, name, make, sizes.clients, rate, sizes.rate_seconds)
    print(
        f"  {name}: {outcome.ok:,} ok, {outcome.conflicts:,} 409, {outcome.errors:,} errors "
        f"in {outcome.seconds:.1f} s\n      {cpu.summary(outcome.ok)}\n"
        f"      PostgreSQL {waits.summary()}",
        flush=True,
    )
    return outcome


# --- the in-process profile of a case --------------------------------------------------


def profile_request(key: str, label: str, make: Callable[[], Request]) -> None:
    """Requests of one case through Django's test client, timed, profiled, queries shown."""
    from django.db import connection
    from django.test import Client as DjangoClient

    client = DjangoClient(HTTP_AUTHORIZATION=f"Bearer {key}")

    def send() -> int:
        method, path, body, headers = make()
        if method == "POST":
            response = client.post(
                path, data=body, content_type="application/json", headers=headers
            )
        else:
            response = client.get(path, headers=headers)
        return int(response.status_code)

    for _ in range(20):  # warm: imports, caches, prepared statements
        send()
    timings = []
    for _ in range(100):
        started = time.perf_counter()
        send()
        timings.append((time.perf_counter() - started) * 1000)
    queries: list[tuple[float, str]] = []

    def collect(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append(((time.perf_counter() - started) * 1000, sql))

    with connection.execute_wrapper(collect):
        started = time.perf_counter()
        status = send()
        one = (time.perf_counter() - started) * 1000
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(50):
        send()
    profiler.disable()
    print()
    print(
        f"{label} in-process, one client (status {status}): p50 "
        f"{percentile(timings, 50):.2f} ms, p99 {percentile(timings, 99):.2f} ms over 100; "
        f"one request {one:.2f} ms of which {len(queries)} SQL queries "
        f"{sum(t for t, _ in queries):.2f} ms (through Django's connection):"
    )
    for took, text in queries:
        print(f"  {took:6.2f} ms  {' '.join(text.split())[:150]}")
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(12)
    print(f"cProfile of 50 requests of {label}, by cumulative then own time:")
    print(out.getvalue())


# --- main -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    sizes = parse_args(argv)
    os.environ.update(SERVER_ENV)
    with _common.scratch_database() as url:
        _common.flush_bench_broker()
        _common.setup_django(url)
        from django.db import connection

        try:
            return run(sizes, url)
        finally:
            connection.close()


@contextlib.contextmanager
def servers(url: str, key: str, workers: int, threads: int) -> Iterator[tuple[Gunicorn, Worker]]:
    worker = Worker(url)
    try:
        worker.wait_ready()
        server = Gunicorn(url, workers, threads)
        try:
            server.wait_ready({"Authorization": f"Bearer {key}"})
            yield server, worker
        finally:
            server.stop()
    finally:
        worker.stop()


def run(sizes: Sizes, url: str) -> int:
    with psycopg.connect(url) as conn:
        settings = _common.server_settings(conn, ["server_version", "fsync", "max_connections"])
        print("PostgreSQL " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    key = prepare(url, sizes.consortia)
    _common.checkpoint(_common.server_url())
    print(
        f"gunicorn: {sizes.workers} gthread workers x {sizes.threads} threads; a Celery worker; "
        f"{sizes.clients} clients, "
        f"{sizes.seconds:g} s a case; {os.cpu_count()} CPUs shared by all of it; commitments "
        f"written to {len({slug for slug, _ in WRITE_TARGETS})} consortia in turn"
    )
    from ledger.store import head

    with servers(url, key, sizes.workers, sizes.threads) as (server, worker):
        pids = (server.process.pid, worker.process.pid)
        cases: list[tuple[str, Callable[[], Request], int | None]] = [
            ("(1) GET bench/trivial/", trivial, None),
            ("(2) POST bench/.../commitments/ (plain)", plain_create, None),
            ("(3) POST commitments/", write, None),
            ("(4) GET consortia/aip/progress/", progress, None),
            ("(5) GET events/?after=N&limit=100", EventsAfter(head()), None),
            (f"(6) POST commitments/ at {sizes.rate}/s", write, sizes.rate),
        ]
        rounds: list[list[Outcome]] = []
        for number in range(1, sizes.rounds + 1):
            if sizes.rounds > 1:
                print(f"round {number} of {sizes.rounds}")
            outcomes = []
            for name, make, rate in cases:
                if name.startswith("(5)"):
                    make = EventsAfter(head())  # the head after the writes of (3)
                outcomes.append(
                    run_case(server.port, key, name, make, sizes, url=url, pids=pids, rate=rate)
                )
            rounds.append(outcomes)
    if sizes.profile:
        makes: list[Callable[[], Request]] = [
            trivial,
            plain_create,
            write,
            progress,
            EventsAfter(head()),
        ]
        for outcome, make in zip(rounds[-1], makes, strict=False):
            if not outcome.missing:
                profile_request(key, outcome.name, make)
    failed = 0
    figures: list[dict[str, float]] = []
    for number, outcomes in enumerate(rounds, start=1):
        if len(rounds) > 1:
            print(f"\n=== round {number} of {len(rounds)}")
        code, found = report(outcomes, sizes)
        failed = max(failed, code)
        figures.append(found)
    if len(rounds) > 1:
        print_medians(figures, sizes)
    return failed


def print_medians(figures: list[dict[str, float]], sizes: Sizes) -> None:
    """Each ratio (and the p99) as the median of the rounds, with its spread."""
    print(f"\n=== median of {len(figures)} rounds (each round's own baseline)")
    targets = {
        "(3)/(2) writes / plain create": WRITE_RATIO_TARGET,
        "(4)/(1) progress / trivial": READ_RATIO_TARGET,
        "(5)/(1) events / trivial": READ_RATIO_TARGET,
    }
    ratios = []
    for label, target in targets.items():
        values = sorted(f[label] for f in figures if label in f)
        if values:
            ratios.append((label, statistics.median(values), target))
            print(f"  {label}: rounds {', '.join(f'{v:.2f}' for v in values)}")
    if ratios:
        _common.print_ratios(ratios)
    p99s = sorted(f["p99"] for f in figures if "p99" in f)
    if p99s:
        p99 = statistics.median(p99s)
        verdict = "PASS" if p99 < WRITE_P99_TARGET_MS else "MISS"
        print(
            f"(6) write p99 at {sizes.rate}/s             {p99:6.1f} ms  "
            f"< {WRITE_P99_TARGET_MS:.0f} ms  {verdict}  "
            f"(rounds: {', '.join(f'{v:.1f}' for v in p99s)})"
        )


def report(outcomes: list[Outcome], sizes: Sizes) -> tuple[int, dict[str, float]]:
    print()
    rows = []
    for o in outcomes:
        if o.missing:
            rows.append([o.name, "-", "-", "-", "-", "-", "-", "-", o.missing])
            continue
        other = {s: n for s, n in o.statuses.items() if not 200 <= s < 300 and s != 409}
        note = ", ".join(f"{n} x {s}" for s, n in sorted(other.items()))
        note = ", ".join(filter(None, [note, *(f"{n} x {e}" for e, n in o.failures.items())]))
        rows.append(
            [
                o.name,
                str(o.clients),
                f"{o.ok:,}",
                f"{o.conflicts:,}",
                f"{o.errors:,}",
                f"{o.p(50):.1f}",
                f"{o.p(99):.1f}",
                f"{o.rate:,.0f}",
                note,
            ]
        )
    _common.print_table(
        ["case", "clients", "2xx", "409", "errors", "p50 ms", "p99 ms", "2xx/s", "note"],
        rows,
        right=(1, 2, 3, 4, 5, 6, 7),
    )
    for o in outcomes:
        for status, body in sorted(o.samples.items()):
            if not 200 <= status < 300:
                print(f"  {o.name}: a {status} said {body[:300]!r}")
    print()
    base, plain, writes, reads_progress, reads_events, at_rate = outcomes
    ratios = []
    for label, o, against, target in [
        ("(3)/(2) writes / plain create", writes, plain, WRITE_RATIO_TARGET),
        ("(4)/(1) progress / trivial", reads_progress, base, READ_RATIO_TARGET),
        ("(5)/(1) events / trivial", reads_events, base, READ_RATIO_TARGET),
    ]:
        if not o.missing and not against.missing and against.rate > 0:
            ratios.append((label, o.rate / against.rate, target))
    figures = {label: value for label, value, _ in ratios}
    if ratios:
        _common.print_ratios(ratios)
    if not at_rate.missing and at_rate.latencies:
        p99 = figures["p99"] = at_rate.p(99)
        verdict = "PASS" if p99 < WRITE_P99_TARGET_MS else "MISS"
        print(
            f"(6) write p99 at {sizes.rate}/s             {p99:6.1f} ms  "
            f"< {WRITE_P99_TARGET_MS:.0f} ms  {verdict}"
        )
    missing = [o.name for o in outcomes if o.missing]
    if missing:
        print(f"\nNOT MEASURED (endpoint missing): {'; '.join(missing)}")
    dead = [o.name for o in outcomes if not o.missing and o.ok == 0]
    if dead:
        print(f"\nFAILED (every request errored): {'; '.join(dead)}")
    return (1 if dead or missing else 0), figures


if __name__ == "__main__":
    raise SystemExit(main())
