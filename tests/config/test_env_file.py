"""The checkout's ``.env``: defaults that production settings read and tests never do."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import parse_env_file

ROOT = Path(__file__).resolve().parents[2]
PRINT_DEBUG = "from django.conf import settings; print(settings.DEBUG, settings.VAR_DIR)"


def settings_seen(settings_module: str, env_file: Path, **env: str) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CONSORTIUM_"))}
    clean.pop("DATABASE_URL", None)
    clean.pop("CELERY_BROKER_URL", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v0", "-c", PRINT_DEBUG],
        cwd=ROOT,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": settings_module,
            "CONSORTIUM_ENV_FILE": str(env_file),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.fixture
def env_file(tmp_path: Path) -> Path:
    path = tmp_path / ".env"
    path.write_text(
        "# as scripts/serve writes it\n"
        f"DJANGO_DEBUG=true\nCONSORTIUM_VAR_DIR={tmp_path / 'from-env-file'}\n"
    )
    return path


def test_production_settings_read_the_env_file(env_file, tmp_path):
    # No secret key is set: only DEBUG from the file lets production settings load at all.
    assert settings_seen("config.settings.base", env_file) == [
        "True",
        str(tmp_path / "from-env-file"),
    ]


def test_a_real_environment_variable_wins_over_the_file(env_file, tmp_path):
    seen = settings_seen(
        "config.settings.base",
        env_file,
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="x" * 60,
        CONSORTIUM_VAR_DIR=str(tmp_path / "from-environment"),
    )
    assert seen == ["False", str(tmp_path / "from-environment")]


def test_test_settings_never_read_the_env_file(env_file, tmp_path):
    seen = settings_seen("config.settings.test", env_file, CONSORTIUM_VAR_DIR=str(tmp_path))
    assert seen == ["False", str(tmp_path)]


def test_an_empty_env_file_setting_reads_no_file():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CONSORTIUM_"))},
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "CONSORTIUM_ENV_FILE": "",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_the_parser_reads_comments_export_and_quotes():
    text = "\n# a comment\nexport A=1\nB = 'two words'\nC=\"x=y\"\nD=\n"
    assert parse_env_file(text) == {"A": "1", "B": "two words", "C": "x=y", "D": ""}


def test_a_line_that_is_not_an_assignment_is_refused_with_its_number():
    with pytest.raises(ImproperlyConfigured, match=r"\.env, line 2: expected NAME=value"):
        parse_env_file("A=1\nnot an assignment\n")
