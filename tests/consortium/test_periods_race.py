"""On PostgreSQL, a stake of a consortium being decided holds the consortium's stream, so
a close of that consortium cannot slip in between the stake's check of its open period
and the stake's append: the close waits, and the stake lands before the seal."""

import datetime as dt
import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import connection, connections

from consortium import services as s
from consortium.domain.decisions import decide_for_asset
from consortium.domain.money import Percent
from consortium.domain.values import Holder
from ledger.store import read_all
from tests.consortium.conftest import FORMED, usd

WAIT = 30  # seconds: a bound for a hung test, never a timing assertion


def _in_thread(work: Callable[[], object], errors: list[BaseException]) -> threading.Thread:
    def target() -> None:
        try:
            work()
        except BaseException as error:  # reported by the test
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=target)
    thread.start()
    return thread


def _someone_waits_for_an_advisory_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return bool(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_a_close_waits_for_a_stake_of_the_consortium_being_decided(
    postgres_only, formed, alice, bob, monkeypatch
):
    formed()
    s.asset_register(
        actor=alice,
        asset_id="dc-1",
        sponsor="aip",
        kind="data_centre",
        name="Campus",
        location="Texas",
        capacity_mw=Decimal(100),
        estimated_cost=usd("1000.00"),
        effective_on=FORMED,
    )
    decided, go = threading.Event(), threading.Event()
    real = decide_for_asset

    def decide_then_pause(*args, **kwargs):
        events = real(*args, **kwargs)
        decided.set()
        go.wait(WAIT)  # the stake was checked against an open March; now a close comes
        return events

    monkeypatch.setattr("consortium.services.decide_for_asset", decide_then_pause)
    errors: list[BaseException] = []
    stake = _in_thread(
        lambda: s.stake_acquire(
            actor=alice,
            asset_id="dc-1",
            holder=Holder.consortium("aip"),
            percent=Percent.of("10"),
            effective_on=dt.date(2025, 3, 1),
        ),
        errors,
    )
    assert decided.wait(WAIT)
    close = _in_thread(
        lambda: s.period_close(
            actor=bob,
            slug="aip",
            closing_date=dt.date(2025, 3, 31),
            effective_on=dt.date(2025, 4, 5),
        ),
        errors,
    )
    # The close reaches its append and waits for the consortium's stream (without the
    # stake's hold it would append now, and the stake would land inside the sealed March).
    for _ in range(WAIT * 10):
        if _someone_waits_for_an_advisory_lock() or not close.is_alive():
            break
        threading.Event().wait(0.1)
    go.set()
    stake.join(WAIT)
    close.join(WAIT)
    assert errors == []
    order = [e.type for e in read_all() if e.type in ("StakeAcquired", "PeriodClosed")]
    assert order == ["StakeAcquired", "PeriodClosed"]
