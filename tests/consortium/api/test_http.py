"""The API over real HTTP: gunicorn (the deploy's gthread worker) and the whole middleware
stack, for what only shows on a socket: a kept-alive connection after an early answer,
and the ETag after compression.

The server runs the embedded default (SQLite, eager Celery) in a temporary directory, so
these tests need no database of the test run and behave the same in both suites.
"""

import gzip
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str]]:
    """(port, a deal-team key) of a gunicorn serving a fresh embedded ledger."""
    if not GUNICORN.exists():
        pytest.skip("gunicorn is not installed in this environment")
    var = tmp_path_factory.mktemp("gunicorn-var")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        CONSORTIUM_VAR_DIR=str(var),
        DJANGO_DEBUG="true",
        DJANGO_SETTINGS_MODULE="config.settings.base",
    )
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    created = subprocess.run(
        [*manage, "create_api_client", "http", "--user", "http", "--role", "deal_team"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    key = created.stdout.strip().splitlines()[-1]
    port = _free_port()
    process = subprocess.Popen(
        [
            str(GUNICORN),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            "gthread",
            "--threads",
            "2",
            "--workers",
            "1",
            "--keep-alive",
            "5",
            "--no-control-socket",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("gunicorn did not start")
                time.sleep(0.1)
        yield port, key
    finally:
        process.terminate()
        process.wait(timeout=30)


def _request(
    connection: http.client.HTTPConnection,
    method: str,
    path: str,
    key: str,
    body: bytes | None = None,
    **headers: str,
) -> tuple[http.client.HTTPResponse, bytes]:
    sent = {"Authorization": f"Bearer {key}", "Content-Type": "application/json", **headers}
    connection.request(method, path, body=body, headers=sent)
    response = connection.getresponse()
    return response, response.read()


def test_a_413_leaves_the_kept_alive_connection_usable(server, settings):
    port, key = server
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    too_big = json.dumps({"padding": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    response, content = _request(connection, "POST", "/api/v1/consortia/", key, too_big.encode())
    assert response.status == 413
    assert response.getheader("Content-Type") == "application/problem+json"
    assert response.getheader("Connection") != "close"
    # The next request on the same connection is answered.
    response, content = _request(connection, "GET", "/api/v1/whoami/", key)
    assert response.status == 200, content
    assert json.loads(content)["username"] == "http"
    connection.close()


def test_an_early_401_also_leaves_the_connection_usable(server):
    port, key = server
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"padding": "x" * 200_000}).encode()
    response, _ = _request(connection, "POST", "/api/v1/consortia/", "csk_wrong", body)
    assert response.status == 401
    response, _ = _request(connection, "GET", "/api/v1/whoami/", key)
    assert response.status == 200
    connection.close()


def test_a_gzipped_write_keeps_its_strong_etag(server):
    port, key = server
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    form = {"slug": "gz", "name": "Gzip", "base_currency": "USD", "formed_on": "2025-01-01"}
    response, content = _request(
        connection, "POST", "/api/v1/consortia", key, json.dumps(form).encode()
    )
    assert response.status == 201, content  # no trailing slash: answered, not redirected
    # An answer long enough for the middleware to compress (it leaves short ones, and
    # ones its random padding would make longer, alone).
    tranches = [{"amount": "50.00", "available_from": f"2025-01-{day:02d}"} for day in range(1, 21)]
    target = {"instrument": "equity", "amount": "1000.00", "tranches": tranches}
    gzipped = {"Accept-Encoding": "gzip", "If-Match": str(response.getheader("ETag"))}
    response, content = _request(
        connection,
        "POST",
        "/api/v1/consortia/gz/targets/",
        key,
        json.dumps(target).encode(),
        **gzipped,
    )
    assert response.status == 201, content
    assert response.getheader("Content-Encoding") == "gzip"
    body = json.loads(gzip.decompress(content))
    assert response.getheader("ETag") == f'"{body["version"]}"'
    # The ETag as given is what If-Match takes.
    gzipped["If-Match"] = str(response.getheader("ETag"))
    response, content = _request(
        connection,
        "POST",
        "/api/v1/consortia/gz/targets/",
        key,
        json.dumps(target).encode(),
        **gzipped,
    )
    assert response.status == 201, content
    connection.close()
