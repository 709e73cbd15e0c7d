"""Settings: the embedded default, the production switch, and a clean deploy check."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "k" * 20 + "production-grade-random-looking-value-9f8e7d6c5b4a",
    "DJANGO_ALLOWED_HOSTS": "consortium.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
}


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.base", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRINT_SETTINGS = (
    "from django.conf import settings as s; "
    "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, "
    "s.CELERY_BROKER_URL, s.DEBUG)"
)


def test_the_embedded_default_is_sqlite_with_eager_celery(tmp_path):
    result = run_manage(
        "shell",
        "-v0",
        "-c",
        PRINT_SETTINGS,
        env={"DJANGO_DEBUG": "true", "CONSORTIUM_VAR_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True", "memory://", "True"]


def test_urls_switch_to_postgres_and_redis():
    result = run_manage("shell", "-v0", "-c", PRINT_SETTINGS, env=PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "False",
        "redis://127.0.0.1:6379/0",
        "False",
    ]


def test_a_secret_key_is_required_outside_debug():
    env = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_SECRET_KEY"}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_a_non_postgres_database_url_is_refused():
    result = run_manage("check", env={**PRODUCTION, "DATABASE_URL": "mysql://x@localhost/db"})
    assert result.returncode != 0 and "must be a postgres:// URL" in result.stderr


def test_deploy_check_is_clean_with_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_plain_http_trial_passes_the_deploy_check_only_with_the_redirect_off_explicitly():
    # deploy/README.md's trial without TLS: migrate's check must let it start.
    trial = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={**PRODUCTION, "DJANGO_SECURE_SSL_REDIRECT": "false"},
    )
    assert trial.returncode == 0, trial.stdout + trial.stderr
    assert "1 silenced" in trial.stdout


def test_the_redirect_warning_stands_when_the_redirect_is_off_by_any_other_way():
    # DEBUG turns the redirect off by default: the warning is not silenced for it (the
    # deploy check fails on DEBUG itself too, W018).
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={**PRODUCTION, "DJANGO_DEBUG": "true", "DJANGO_SECURE_SSL_REDIRECT": ""},
    )
    assert result.returncode != 0
    assert "security.W008" in result.stderr and "security.W018" in result.stderr


def test_only_the_redirect_warning_is_silenced_on_plain_http():
    # The trial's other settings still count: an unsafe secret key fails the check.
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={**PRODUCTION, "DJANGO_SECURE_SSL_REDIRECT": "false", "DJANGO_SECRET_KEY": "short"},
    )
    assert result.returncode != 0
    assert "security.W009" in result.stderr and "security.W008" not in result.stderr
