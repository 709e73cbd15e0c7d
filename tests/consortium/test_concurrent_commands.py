"""Three processes commanding one consortium on PostgreSQL: every command lands whole (an
overtaken one is decided again under the stream's lock); the state is never a mix."""

import datetime as dt
import multiprocessing

import pytest
from django.contrib.auth import get_user_model
from django.db import connections

from consortium import services as s
from consortium.streams import load_consortium
from ledger import caches
from ledger.store import read_stream
from tests.consortium.conftest import FORMED, usd

PROCESSES = 3
COMMANDS_EACH = 40


def _commander(number: int, results: "multiprocessing.Queue[tuple[int, str, str]]") -> None:
    connections.close_all()
    caches.clear()
    actor = s.Actor(get_user_model().objects.get(username="alice"))
    for index in range(COMMANDS_EACH):
        commitment_id = f"p{number}-{index}"
        try:
            s.commitment_record(
                actor=actor,
                slug="aip",
                commitment_id=commitment_id,
                organisation_id="mgx",
                instrument="equity",
                amount=usd("1.00"),
                stage="indicated",
                effective_on=dt.date(2025, 2, 1),
            )
            results.put((number, commitment_id, "ok"))
        except s.ConcurrentChange as error:
            results.put((number, commitment_id, f"conflict: {error}"))
        except Exception as error:  # reported, and fails the test
            results.put((number, commitment_id, f"error: {error!r}"))
    connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_two_processes_commanding_one_consortium(postgres_only, formed):
    formed()
    connections.close_all()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [
        context.Process(target=_commander, args=(n, results)) for n in range(1, PROCESSES + 1)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in range(PROCESSES * COMMANDS_EACH)]
    for process in processes:
        process.join(timeout=60)

    errors = [o for o in outcomes if o[2].startswith("error")]
    assert errors == []
    landed = {cid for _, cid, outcome in outcomes if outcome == "ok"}
    # An overtaken command decides again holding the stream's lock, which every append
    # takes (migration 0008): nothing overtakes it twice, so none is refused as a conflict.
    conflicts = [o for o in outcomes if o[2].startswith("conflict")]
    assert conflicts == []
    assert len(landed) == PROCESSES * COMMANDS_EACH
    caches.clear()
    state = load_consortium("aip").state
    recorded = {cid for cid in state.commitments if cid.startswith("p")}
    assert recorded == landed, "a refused command left something behind, or a success was lost"
    versions = [e.version for e in read_stream("consortium-aip")]
    assert versions == list(range(1, len(versions) + 1))
    assert FORMED  # the fixture's consortium, formed before the race
