"""``manage.py verify_ledger``: an intact chain passes; any tampering is found and named."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ledger.store import NewEvent, append
from ledger.testing.bypass import immutability_bypassed

pytestmark = pytest.mark.django_db


def verify(*args: str) -> str:
    out = StringIO()
    call_command("verify_ledger", *args, stdout=out)
    return out.getvalue()


def test_an_intact_ledger_verifies_and_prints_the_anchor(ledger_of_five):
    position, digest = ledger_of_five
    output = verify()
    assert "5 events, hash chain intact" in output
    assert f"anchor:        {position}:{digest}" in output


def test_an_empty_ledger_verifies():
    assert "0 events" in verify()


def test_the_ledger_still_extends_a_published_anchor(ledger_of_five):
    position, digest = ledger_of_five
    append("consortium-0", [NewEvent("Later", {})], expected_version=None)
    assert "1 anchor(s) matched" in verify("--expect", f"{position}:{digest}")


def test_an_anchor_that_does_not_match_fails(ledger_of_five):
    with pytest.raises(CommandError, match=r"FAILED at position 3.*not the anchored"):
        verify("--expect", "3:" + "a" * 64)


def test_an_anchor_beyond_the_ledger_fails(ledger_of_five):
    with pytest.raises(CommandError, match="FAILED at position 9"):
        verify("--expect", "9:" + "a" * 64)


def test_a_malformed_anchor_is_explained():
    with pytest.raises(CommandError, match="POSITION:HASH"):
        verify("--expect", "twelve")


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("data", '{"amount": "3000000.01", "org": "mgx"}'),  # one byte of money changed
        ("data", '{"amount": "3000000.00", "org": "mgY"}'),
        ("metadata", '{"actor": "mallory"}'),
        ("type", "CommitmentRecordeD"),
        ("stream", "consortium-9"),
    ],
)
def test_tampering_with_one_event_names_its_position(ledger_of_five, column, value):
    # A superuser disables the trigger, as an attacker with database access would.
    with immutability_bypassed(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE ledger_event SET {column} = %s WHERE position = 4", [value])
    with pytest.raises(
        CommandError, match="FAILED at position 4: that event has a hash that does not match"
    ):
        verify()


def test_a_deleted_event_is_found(ledger_of_five):
    with immutability_bypassed(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM ledger_event WHERE position = 2")
    with pytest.raises(CommandError, match="FAILED at position 3: that event follows position 1"):
        verify()


def test_a_rewritten_tail_is_found_by_the_head_row(ledger_of_five):
    with immutability_bypassed(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM ledger_event WHERE position = 5")
    with pytest.raises(
        CommandError,
        match="FAILED at position 5: that event is missing or differs: the head row says 5",
    ):
        verify()
