"""The verification-hook registry: ``verify()`` and ``manage.py verify_ledger`` run every
registered hook on an intact chain, print what each checked, and fail on any problem; a
broken chain is reported before (and without) the hooks."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ledger import verification
from ledger.store import NewEvent, append
from ledger.testing.bypass import immutability_bypassed
from ledger.verification import Problem, registered_hooks, verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def hooks(monkeypatch):
    """An empty registry for the test (the domain's own hooks put back afterwards)."""
    monkeypatch.setattr(verification, "_HOOKS", {})
    return verification


def test_a_hook_is_run_and_its_lines_printed(hooks):
    append("things-1", [NewEvent("Thing", {"n": 1})], expected_version=None)
    hooks.register_hook("things", lambda: iter(["thing 1: matches"]))
    assert list(registered_hooks()) == ["things"]
    report = verify()
    assert report.ok and report.hooks[0].lines == ("thing 1: matches",)
    out = StringIO()
    call_command("verify_ledger", stdout=out)
    assert "things: 1 checked\n  thing 1: matches" in out.getvalue()


def test_a_problem_fails_verification_with_its_words(hooks):
    append("things-1", [NewEvent("Thing", {"n": 1})], expected_version=None)
    hooks.register_hook("things", lambda: iter([Problem(1, "thing 1 no longer adds up")]))
    report = verify()
    assert report.chain_ok and not report.ok
    assert report.hook_problems == [("things", Problem(1, "thing 1 no longer adds up"))]
    with pytest.raises(CommandError, match="things found: thing 1 no longer adds up"):
        call_command("verify_ledger", stdout=StringIO())


def test_hooks_do_not_run_on_a_broken_chain(hooks):
    append("things-1", [NewEvent("Thing", {"n": 1})], expected_version=None)
    ran: list[int] = []

    def hook() -> list[str]:
        ran.append(1)
        return []

    hooks.register_hook("things", hook)
    with immutability_bypassed(), connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_event SET data = %s WHERE position = 1", ['{"n": 2}'])
    report = verify()
    assert not report.ok and report.failed_at == 1 and report.hooks == () and ran == []
