"""Without Chromium the browser tests skip, saying why; under CI they fail the run."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def browser_tests_without_chromium(tmp_path: Path, ci: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "CI"}
    }
    env.update(BROWSER_TEST_CHROMIUM=str(tmp_path / "no-chromium-here"), CI=ci)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-rs",
            "tests/browser/test_pages.py::test_the_admin_index_as_a_deal_team_member",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.mark.slow
def test_locally_they_skip_with_the_reason(tmp_path):
    result = browser_tests_without_chromium(tmp_path, ci="")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout
    assert "browser tests need Chromium at" in result.stdout


@pytest.mark.slow
def test_under_ci_they_fail_the_run(tmp_path):
    result = browser_tests_without_chromium(tmp_path, ci="true")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "CI=true and browser tests need Chromium at" in result.stdout
    assert "1 error" in result.stdout
