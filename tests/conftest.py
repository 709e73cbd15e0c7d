"""Test-session set-up: which backend this run is on, and refusal to run half-configured.

The suite runs twice in CI: on the embedded default (SQLite, eager Celery) and with
``DATABASE_URL`` and ``CELERY_BROKER_URL`` set (PostgreSQL, Redis). When a URL is set, its
server must answer: an unreachable PostgreSQL or Redis fails the run, never skips it.
"""

import os
import socket
from urllib.parse import urlparse

import pytest
from django.db import connection

# No developer's .env (scripts/serve writes one) reaches the processes tests start either:
# test settings never read it, and a subprocess on production settings reads none.
os.environ["CONSORTIUM_ENV_FILE"] = ""


def _reachable(url: str, default_port: int) -> str | None:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or default_port
    try:
        with socket.create_connection((host, port), timeout=3):
            return None
    except OSError as error:
        return f"{host}:{port} is unreachable ({error})"


def pytest_sessionstart(session: pytest.Session) -> None:
    problems = []
    for variable, port in (("DATABASE_URL", 5432), ("CELERY_BROKER_URL", 6379)):
        url = os.environ.get(variable, "").strip()
        if url:
            problem = _reachable(url, port)
            if problem:
                problems.append(f"{variable}: {problem}")
    if problems:
        pytest.exit(
            "A configured backend is down, so this run cannot test it: "
            + "; ".join(problems)
            + ". Start it (see README.md) or unset the variable to test the embedded default.",
            returncode=3,
        )


@pytest.fixture
def postgres_only() -> None:
    """Skip on the embedded SQLite run; CI's PostgreSQL run always has it."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: runs when DATABASE_URL is set (CI's PostgreSQL run)")


@pytest.fixture(autouse=True)
def _empty_caches() -> None:
    """Each test starts with every process cache empty (its database is fresh too)."""
    from ledger import caches

    caches.clear()
