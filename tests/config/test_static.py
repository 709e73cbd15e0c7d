"""Production serves its own static files (WhiteNoise): with DEBUG off and the files
collected, the admin's theme and the API docs' Swagger UI load from the WSGI app itself."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Runs in the subprocess: the real WSGI application (config.wsgi), called as a server
# would, over HTTPS as the TLS-terminating proxy would say.
SERVE = r"""
import io, json, re, sys
from config.wsgi import application

def get(path):
    environ = {
        "REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "",
        "SERVER_NAME": "consortium.example.com", "SERVER_PORT": "443",
        "HTTP_HOST": "consortium.example.com", "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr, "SERVER_PROTOCOL": "HTTP/1.1",
    }
    status = []
    body = b"".join(application(environ, lambda s, h, exc_info=None: status.append(s)))
    return int(status[0].split()[0]), body

answers = {}
for path in sys.argv[1:]:
    code, body = get(path)
    answers[path] = code
    if not path.startswith("/static/"):
        # Every script, stylesheet and icon the page names, fetched in turn.
        for asset in re.findall(rb'(?:src|href)="(/static/[^"]+)"', body):
            answers[asset.decode()] = get(asset.decode())[0]
print(json.dumps(answers))
"""


@pytest.mark.slow
def test_with_debug_off_the_collected_static_files_are_served(tmp_path):
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_", "CONSORTIUM_"))
        },
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "s" * 60,
        "DJANGO_ALLOWED_HOSTS": "consortium.example.com",
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        "CONSORTIUM_VAR_DIR": str(tmp_path / "var"),
        "CONSORTIUM_ENV_FILE": "",
    }
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert collect.returncode == 0, collect.stderr
    assert (tmp_path / "static" / "staticfiles.json").exists()  # the hashed names' manifest

    paths = ["/static/unfold/css/styles.css", "/api/v1/docs/", "/admin/login/"]
    served = subprocess.run(
        [sys.executable, "-c", SERVE, *paths],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert served.returncode == 0, served.stderr
    answers = json.loads(served.stdout.splitlines()[-1])
    assert answers["/static/unfold/css/styles.css"] == 200
    assert answers["/api/v1/docs/"] == 200
    assert answers["/admin/login/"] == 200
    assert any(
        path.startswith("/static/unfold/css/styles.") for path in answers if path != paths[0]
    )
    swagger = [path for path in answers if "swagger-ui-dist/swagger-ui-bundle" in path]
    assert swagger, f"the docs page names no Swagger UI script: {sorted(answers)}"
    assets = {path: code for path, code in answers.items() if path.startswith("/static/")}
    assert all(code == 200 for code in assets.values()), assets
