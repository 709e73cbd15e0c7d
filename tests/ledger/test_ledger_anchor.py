"""Anchors: ``manage.py ledger_anchor`` prints the head to keep, ``verify_ledger --expect``
checks it, and only an anchor catches a rewrite that recomputed every later hash."""

import dataclasses
import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ledger import canonical, verification
from ledger.store import NewEvent, append, head_state, iter_stored
from ledger.testing.bypass import immutability_bypassed

pytestmark = pytest.mark.django_db


def run(command: str, *args: str) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def anchor_json() -> dict[str, object]:
    document: dict[str, object] = json.loads(run("ledger_anchor", "--format", "json"))
    return document


def rewrite_recomputing_the_chain(position: int, data: dict[str, object]) -> None:
    """What someone able to write the tables can do: change one event's data, then
    recompute its hash, every later event's links and hashes, and the head row, so the
    chain is consistent again. The triggers are bypassed as a superuser would."""
    events = list(iter_stored())
    with immutability_bypassed(), connection.cursor() as cursor:
        prev_hash = events[position - 2].hash if position > 1 else canonical.GENESIS_HASH
        for event in events[position - 1 :]:
            if event.position == position:
                event = dataclasses.replace(event, data=data)
            digest = canonical.chain_hash(prev_hash, verification.stored_bytes(event))
            cursor.execute(
                "UPDATE ledger_event SET data = %s, prev_hash = %s, hash = %s WHERE position = %s",
                [json.dumps(event.data), prev_hash, digest, event.position],
            )
            prev_hash = digest
        cursor.execute("UPDATE ledger_head SET hash = %s", [prev_hash])


def test_ledger_anchor_prints_the_head_as_text_and_json(ledger_of_five):
    position, digest = ledger_of_five
    text = run("ledger_anchor")
    assert f"anchor:        {position}:{digest}" in text
    assert f"head position: {position}" in text
    document = anchor_json()
    assert document["position"] == position == 5
    assert document["hash"] == digest
    assert document["anchor"] == f"{position}:{digest}"
    recorded = dt.datetime.fromisoformat(str(document["recorded_at"]))
    assert recorded == list(iter_stored())[-1].recorded_at


def test_an_anchor_printed_by_ledger_anchor_is_accepted_by_verify_ledger(ledger_of_five):
    kept = str(anchor_json()["anchor"])
    append("consortium-0", [NewEvent("Later", {})], expected_version=None)
    assert "1 anchor(s) matched" in run("verify_ledger", "--expect", kept)


def test_an_empty_ledger_has_the_genesis_anchor_which_verifies():
    document = anchor_json()
    assert document == {
        "anchor": f"0:{canonical.GENESIS_HASH}",
        "hash": canonical.GENESIS_HASH,
        "position": 0,
        "recorded_at": None,
    }
    assert "1 anchor(s) matched" in run("verify_ledger", "--expect", str(document["anchor"]))
    with pytest.raises(CommandError, match="FAILED at position 0"):
        run("verify_ledger", "--expect", "0:" + "a" * 64)


def test_ledger_anchor_refuses_a_head_its_event_does_not_carry(ledger_of_five):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_head SET hash = %s", ["b" * 64])
    with pytest.raises(CommandError, match="the event at position 5 has hash"):
        run("ledger_anchor")


def test_a_malformed_anchor_hash_is_refused():
    with pytest.raises(CommandError, match="POSITION:HASH"):
        run("verify_ledger", "--expect", "3:" + "g" * 64)


@pytest.mark.parametrize("tampered", [2, 4, 5])
def test_a_rewrite_recomputing_every_later_hash_is_caught_only_by_an_anchor(
    ledger_of_five, tampered
):
    kept = anchor_json()["anchor"]  # published before the rewrite
    kept_at_4 = f"4:{list(iter_stored())[3].hash}"
    rewrite_recomputing_the_chain(tampered, {"amount": "9999999.99", "org": "mgx"})
    assert head_state() != ledger_of_five  # the ledger did change...

    # ...and without an anchor the chain is consistent: nothing to see.
    assert "5 events, hash chain intact" in run("verify_ledger")

    with pytest.raises(CommandError, match=r"FAILED at position 5: .*not the anchored"):
        run("verify_ledger", "--expect", str(kept))
    if tampered <= 4:
        with pytest.raises(CommandError, match=r"FAILED at position 4: .*not the anchored"):
            run("verify_ledger", "--expect", kept_at_4)
    else:  # a rewrite above an anchor leaves it standing: anchors date what they prove
        assert "1 anchor(s) matched" in run("verify_ledger", "--expect", kept_at_4)
