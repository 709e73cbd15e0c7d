"""Real processes for the worker tests: a private ``redis-server`` and Celery worker/beat.

Every process here is started by the test that uses it and stopped by its own pid at
teardown; the shared Redis on 6379 is never touched. Output goes to files under the
test's ``tmp_path`` so a failing test can show what the worker said.
"""

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import kombu.pools
import pytest
import redis
from django.conf import settings as django_settings

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).with_name("celery")
WORKER_ARGS = (
    "worker",
    "--pool=solo",  # the process we start is the one that runs tasks: SIGKILL hits it
    "--loglevel=info",
    "--without-gossip",
    "--without-mingle",
    "--without-heartbeat",
)
READY = re.compile(r"celery@\S+ ready\.")
BEAT_READY = re.compile(r"beat: Starting")


def free_port() -> int:
    """A TCP port nobody listens on right now (the caller binds it soon after)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(
    check: Callable[[], object], *, timeout: float, interval: float = 0.05, what: str = ""
) -> None:
    """Poll ``check`` until it returns something true; AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or check}")
        time.sleep(interval)


def _stop(process: "subprocess.Popen[bytes]", *, grace: float = 10.0) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


class RedisServer:
    """A private ``redis-server`` without persistence; restartable on the same port."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start on a free port the first time, on the same port afterwards."""
        restart = self.port != 0
        for _attempt in range(1 if restart else 5):
            self.port = self.port if restart else free_port()
            self._log = self.log_path.open("ab")
            self.process = subprocess.Popen(
                [
                    *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                    *("--save", "", "--appendonly", "no", "--daemonize", "no"),
                ],
                stdout=self._log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            if self._wait_ready(10.0):
                return
            self.stop()  # most likely the port was taken between probe and bind
        raise AssertionError(f"redis-server did not start:\n{self.output()}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                return False
            if self.ping():
                return True
            time.sleep(0.05)
        return False

    def ping(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def client(self) -> "redis.Redis":
        return redis.Redis(port=self.port, socket_connect_timeout=1, socket_timeout=2)

    def queued(self, queue: str = "celery") -> int:
        """Messages waiting in a Celery queue (a Redis list)."""
        return int(self.client().llen(queue))

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class CeleryProcess:
    """``celery -A config ...`` as a subprocess of the test, its output in a file."""

    def __init__(self, args: tuple[str, ...], env: Mapping[str, str], log_path: Path) -> None:
        self.args = args
        self.env = dict(env)
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, ready: "re.Pattern[str]", *, timeout: float = 30.0) -> "CeleryProcess":
        """Start and wait (bounded) until its output shows ``ready`` after this start."""
        offset = len(self.output())
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(CELERY), "-A", "config", *self.args],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_for_output(ready, timeout=timeout, after=offset)
        return self

    def wait_for_output(
        self, pattern: "re.Pattern[str]", *, timeout: float, after: int = 0
    ) -> None:
        def seen() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(
                    f"celery {self.args[0]} exited with {self.process.returncode}:\n"
                    + self.output()
                )
            return bool(pattern.search(self.output(), after))

        try:
            wait_until(seen, timeout=timeout, what=pattern.pattern)
        except AssertionError as error:
            output = self.output()
            raise AssertionError(f"{error}\n--- celery {self.args[0]} ---\n{output}") from None

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def count(self, text: str) -> int:
        return self.output().count(text)

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, nothing is acknowledged or rolled back."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self._close_log()

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


def point_celery_at(url: str | None, *, eager: bool) -> None:
    """Make this process's Celery app publish to ``url`` from its next message on."""
    app: Any = celery_app  # the connection pools are private attributes
    app.conf.update(broker_url=url, task_always_eager=eager)
    # Close every pooled connection and forget the pools: kombu keeps them in registries
    # keyed by URL, so a pool closed but kept would be handed back, closed, to the next
    # publish on the same URL (even an eager task acquires a producer).
    kombu.pools.reset()
    app._pool = None
    amqp = vars(app).get("amqp")  # a cached property: reset only once created
    if amqp is not None:
        amqp._producer_pool = None


@contextlib.contextmanager
def publishing_to(
    server: RedisServer, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """This process's settings and Celery app pointed at ``server`` (not eager) until the
    block ends; then back to what they were."""
    saved = (celery_app.conf.get("broker_url"), celery_app.conf.get("task_always_eager"))
    monkeypatch.setenv("CELERY_BROKER_URL", server.url)  # Celery prefers it to its conf
    settings.CELERY_BROKER_URL = server.url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    point_celery_at(server.url, eager=False)
    try:
        yield
    finally:
        point_celery_at(saved[0], eager=bool(saved[1]))


@contextlib.contextmanager
def private_broker(
    settings: Any, monkeypatch: pytest.MonkeyPatch, logs: Path
) -> Iterator[RedisServer]:
    """A private redis-server (its log in ``logs``), and this process's settings and
    Celery app publishing to it, until the block ends: what a test with real workers
    starts from (a ``broker`` fixture is this and ``postgres_only``)."""
    import shutil

    assert shutil.which("redis-server"), "this test starts its own redis-server"
    server = RedisServer(logs / "redis.log")
    server.start()
    try:
        with publishing_to(server, settings, monkeypatch):
            yield server
    finally:
        server.stop()


class Processes:
    """The worker and beat processes of one test; all stopped (by pid) at teardown."""

    def __init__(
        self,
        broker: RedisServer,
        tmp_path_factory: pytest.TempPathFactory,
        *,
        sweep_seconds: int,
        stale_rebuild_seconds: int,
    ) -> None:
        self.broker = broker
        self.logs = tmp_path_factory.mktemp("celery")
        database = django_settings.DATABASES["default"]
        password = database.get("PASSWORD") or ""
        credentials = quote(str(database.get("USER") or "postgres"))
        if password:
            credentials += ":" + quote(str(password))
        host = database.get("HOST") or "127.0.0.1"
        port = database.get("PORT") or 5432
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            # The test database pytest-django created, where this test commits.
            "DATABASE_URL": f"postgres://{credentials}@{host}:{port}/{database['NAME']}",
            "CELERY_BROKER_URL": broker.url,
            "PROJECTION_SWEEP_SECONDS": str(sweep_seconds),
            "PROJECTION_STALE_REBUILD_SECONDS": str(stale_rebuild_seconds),
            "PROJECTION_REBUILD_BATCH": "2500",  # so a kill lands mid-rebuild
            "PYTHONUNBUFFERED": "1",
        }
        self.all: list[CeleryProcess] = []

    def worker(self) -> CeleryProcess:
        process = CeleryProcess(WORKER_ARGS, self.env, self.logs / "worker.log")
        self.all.append(process)
        return process.start(READY)

    def beat(self) -> CeleryProcess:
        schedule = self.logs / "celerybeat-schedule"
        args = ("beat", "--loglevel=info", f"--schedule={schedule}")
        process = CeleryProcess(args, self.env, self.logs / "beat.log")
        self.all.append(process)
        return process.start(BEAT_READY)

    def stop_all(self) -> None:
        for process in reversed(self.all):
            process.stop()

    def report(self) -> str:
        seen = {process.log_path for process in self.all}
        logs = [f"--- {path.name} ---\n{path.read_text()}" for path in sorted(seen)]
        return "\n".join([*logs, f"--- redis.log ---\n{self.broker.output()}"])

    @contextlib.contextmanager
    def running(self) -> Iterator["Processes"]:
        """Yields these processes; stops them all at the end (before pytest-django flushes
        the database) and prints what they said (pytest shows it when the test failed)."""
        try:
            yield self
        finally:
            self.stop_all()
            print(self.report())
