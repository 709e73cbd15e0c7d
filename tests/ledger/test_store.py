"""Contract tests for ledger.store: run unchanged on SQLite and on PostgreSQL."""

import datetime as dt
import hashlib
import itertools
import json
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import override_settings

from ledger import upcasting
from ledger.models import Event
from ledger.store import (
    IdempotencyConflict,
    InvalidAppend,
    InvalidRead,
    InvalidStreamName,
    LedgerError,
    NewEvent,
    NewReceipt,
    WrongExpectedVersion,
    append,
    find_receipt,
    head,
    head_state,
    iter_stored,
    lock_stream,
    read_all,
    read_stream,
    stream_exists,
)

pytestmark = pytest.mark.django_db


def ev(kind: str = "Thing", **data: object) -> NewEvent:
    return NewEvent(kind, data)


def test_empty_ledger_has_head_zero():
    assert head() == 0
    assert read_all() == []
    assert read_stream("nothing-here") == []


def test_append_assigns_contiguous_positions_and_per_stream_versions():
    first = append("s-a", [ev(), ev()], expected_version=0)
    second = append("s-b", [ev()], expected_version=0)
    third = append("s-a", [ev()], expected_version=2)

    assert first.positions == (1, 2) and first.version == 2
    assert second.positions == (3,) and second.version == 1
    assert third.positions == (4,) and third.version == 3
    assert [e.position for e in read_all()] == [1, 2, 3, 4]
    assert [(e.stream, e.version) for e in read_stream("s-a")] == [
        ("s-a", 1),
        ("s-a", 2),
        ("s-a", 3),
    ]
    assert head() == 4


def test_money_and_dates_round_trip_exactly():
    data = {
        "amount": Decimal("1250000000.00"),
        "tiny": Decimal("0.0001"),
        "big": Decimal("1E+3"),
        "signed_on": dt.date(2025, 1, 15),
        "at": dt.datetime(2025, 1, 20, 9, 30, tzinfo=dt.UTC),
        "nested": {"list": [1, "two", None, True]},
        "text": "Müller & Co — ünïcode",
    }
    append(
        "s-money", [NewEvent("Signed", data, effective_on=dt.date(2025, 1, 15))], expected_version=0
    )

    (event,) = read_stream("s-money")
    assert event.data["amount"] == "1250000000.00"
    assert Decimal(event.data["amount"]) == Decimal("1250000000.00")
    assert event.data["tiny"] == "0.0001"
    assert event.data["big"] == "1000"  # never exponent form
    assert dt.date.fromisoformat(event.data["signed_on"]) == dt.date(2025, 1, 15)
    assert dt.datetime.fromisoformat(event.data["at"]) == data["at"]
    assert event.data["nested"] == {"list": [1, "two", None, True]}
    assert event.data["text"] == "Müller & Co — ünïcode"
    assert event.effective_on == dt.date(2025, 1, 15)
    assert event.recorded_at.tzinfo is not None


def test_metadata_is_stored_on_every_event_of_the_append():
    meta = {"actor": "alice", "correlation_id": "c-1", "causation_id": None, "source": "api"}
    append("s-meta", [ev(), ev()], expected_version=0, metadata=meta)
    assert [e.metadata for e in read_stream("s-meta")] == [meta, meta]


class TestExpectedVersion:
    def test_zero_means_the_stream_must_not_exist(self):
        append("s-new", [ev()], expected_version=0)
        with pytest.raises(WrongExpectedVersion) as raised:
            append("s-new", [ev()], expected_version=0)
        assert raised.value.actual == 1 and raised.value.expected == 0
        assert "changed since you read it" in str(raised.value)
        assert head() == 1

    def test_a_stale_version_is_refused_and_appends_nothing(self):
        append("s-x", [ev(), ev()], expected_version=0)
        with pytest.raises(WrongExpectedVersion):
            append("s-x", [ev()], expected_version=1)
        with pytest.raises(WrongExpectedVersion):
            append("s-x", [ev()], expected_version=5)
        assert head() == 2

    def test_none_means_any_version(self):
        append("s-any", [ev()], expected_version=None)
        result = append("s-any", [ev()], expected_version=None)
        assert result.version == 2

    def test_an_expected_hash_must_be_the_newest_events(self):
        """A caller deciding on a cached state names the event it ended on: the right
        version with another hash (a replaced ledger) is refused too."""
        first = append("s-h", [ev(), ev()], expected_version=0)
        newest = read_stream("s-h")[-1]
        assert (first.last_hash, first.recorded_at) == (newest.hash, newest.recorded_at)
        with pytest.raises(WrongExpectedVersion):
            append("s-h", [ev()], expected_version=2, expected_hash=read_stream("s-h")[0].hash)
        with pytest.raises(WrongExpectedVersion):
            append("s-h", [ev()], expected_version=None, expected_hash="0" * 64)
        assert head() == 2
        receipt = NewReceipt("client", "k-h", "f" * 64, {"ok": True})
        with pytest.raises(WrongExpectedVersion):
            append("s-h", [ev()], expected_version=2, expected_hash="1" * 64, receipt=receipt)
        assert head() == 2 and find_receipt("client", "k-h") is None
        second = append("s-h", [ev()], expected_version=2, expected_hash=newest.hash)
        assert second.version == 3 and second.last_hash == read_stream("s-h")[-1].hash

    def test_read_after_brings_back_the_streams_newer_events_either_way(self):
        """In the same round trip: the caller's own events once appended, or what it
        missed when the append was refused."""
        append("s-r", [ev(n=1), ev(n=2)], expected_version=0)
        mine = append("s-r", [ev(n=3)], expected_version=2, read_after=1)
        assert [(e.version, e.data) for e in mine.read] == [(2, {"n": 2}), (3, {"n": 3})]
        assert mine.read[-1].hash == mine.last_hash == read_stream("s-r")[-1].hash
        append("s-r", [ev(n=4)], expected_version=3)  # someone else
        with pytest.raises(WrongExpectedVersion) as refused:
            append("s-r", [ev(n=5)], expected_version=3, expected_hash=mine.last_hash, read_after=2)
        assert [e.version for e in refused.value.read] == [3, 4]
        assert refused.value.read == tuple(read_stream("s-r", after_version=2))
        assert head() == 4
        fresh = append("s-new-r", [ev()], expected_version=0, read_after=0)
        assert [e.version for e in fresh.read] == [1]

    @pytest.mark.parametrize("bad", ["", "abc", "G" * 64, 42])
    def test_a_malformed_expected_hash_is_refused_before_anything_is_written(self, bad):
        with pytest.raises(InvalidAppend, match="expected_hash"):
            append("s-bad", [ev()], expected_version=0, expected_hash=bad)
        assert head() == 0


def keyed(key: str, scope: str = "user:alice") -> NewReceipt:
    """A receipt whose fingerprint the ledger computes (a Python caller's key)."""
    return NewReceipt(scope, key, "", {})


class TestIdempotency:
    def test_same_key_same_request_returns_the_original_and_appends_nothing(self):
        paid = [ev("Paid", amount=Decimal("10.00"))]
        first = append("s-i", paid, expected_version=0, receipt=keyed("k1"))
        again = append("s-i", paid, expected_version=0, receipt=keyed("k1"))

        assert again.positions == first.positions and again.version == first.version
        assert again.replayed and not first.replayed
        assert first.receipt is None
        assert again.receipt == find_receipt("user:alice", "k1")
        assert again.receipt is not None and again.receipt.positions == first.positions
        assert head() == 1

    def test_replay_ignores_metadata_and_expected_version_of_the_retry(self):
        first = append(
            "s-i", [ev()], expected_version=0, receipt=keyed("k"), metadata={"correlation_id": "1"}
        )
        append("s-i", [ev()], expected_version=None)
        again = append(
            "s-i", [ev()], expected_version=0, receipt=keyed("k"), metadata={"correlation_id": "2"}
        )
        assert again.replayed and again.positions == first.positions and head() == 2

    @pytest.mark.parametrize(
        ("stream", "event"),
        [
            ("s-i", ev("Paid", amount=Decimal("10.01"))),
            ("s-i", ev("Refunded", amount=Decimal("10.00"))),
            ("s-other", ev("Paid", amount=Decimal("10.00"))),
            (
                "s-i",
                NewEvent("Paid", {"amount": Decimal("10.00")}, effective_on=dt.date(2025, 1, 1)),
            ),
        ],
    )
    def test_same_key_different_request_is_a_conflict(self, stream, event):
        append(
            "s-i", [ev("Paid", amount=Decimal("10.00"))], expected_version=0, receipt=keyed("k2")
        )
        with pytest.raises(IdempotencyConflict, match="Use a new key") as refused:
            append(stream, [event], expected_version=None, receipt=keyed("k2"))
        assert (refused.value.scope, refused.value.key) == ("user:alice", "k2")
        assert head() == 1

    def test_a_callers_fingerprint_decides_what_is_the_same_request(self):
        """The API fingerprints the HTTP request itself: same fingerprint, same request."""
        answer = {"id": "c-1"}
        first = append(
            "s-i", [ev(n=1)], expected_version=0, receipt=NewReceipt("api", "k", "a" * 64, answer)
        )
        again = append(
            "s-i", [ev(n=1)], expected_version=0, receipt=NewReceipt("api", "k", "a" * 64, {})
        )
        assert again.replayed and again.positions == first.positions
        assert again.receipt is not None and again.receipt.body == answer
        with pytest.raises(IdempotencyConflict):
            append(
                "s-i", [ev(n=1)], expected_version=1, receipt=NewReceipt("api", "k", "b" * 64, {})
            )
        assert head() == 1

    def test_a_key_is_scoped(self):
        append("s-i", [ev()], expected_version=0, receipt=keyed("k", scope="user:alice"))
        other = append("s-i", [ev()], expected_version=1, receipt=keyed("k", scope="user:bob"))
        assert not other.replayed and head() == 2

    def test_keys_migrated_from_the_old_table_replay_in_the_ledger_scope(self):
        """Migration 0009 moved the global keys to receipts of scope ``ledger`` with the
        same fingerprint, which the ledger computes today exactly as it did then."""
        first = append("s-i", [ev(n=1)], expected_version=0, receipt=keyed("k", scope="ledger"))
        stored = find_receipt("ledger", "k")
        assert stored is not None and len(stored.fingerprint) == 64 and stored.body == {}
        again = append("s-i", [ev(n=1)], expected_version=0, receipt=keyed("k", scope="ledger"))
        assert again.replayed and again.positions == first.positions


class TestBadInputAppendsNothing:
    @pytest.mark.parametrize(
        ("stream", "events", "kwargs", "message"),
        [
            ("", [ev()], {}, "stream name is required"),
            ("has space", [ev()], {}, "not allowed"),
            ("x" * 201, [ev()], {}, "not allowed"),
            ("s", [], {}, "at least one event"),
            ("s", ev(), {}, "not a single event"),
            ("s", ["Thing"], {}, "not a NewEvent"),
            ("s", [ev()], {"expected_version": -1}, "expected_version"),
            ("s", [ev()], {"expected_version": True}, "expected_version"),
            ("s", [ev()], {"expected_version": "1"}, "expected_version"),
            ("s", [NewEvent("", {})], {}, "has type"),
            ("s", [NewEvent("bad type!", {})], {}, "has type"),
            ("s", [NewEvent("T", {}, schema_version=0)], {}, "schema_version"),
            ("s", [NewEvent("T", ["not", "a", "mapping"])], {}, "must be a mapping"),  # type: ignore[arg-type]
            ("s", [NewEvent("T", {"amount": 1.5})], {}, "float"),
            ("s", [NewEvent("T", {"amount": Decimal("NaN")})], {}, "not a finite number"),
            ("s", [NewEvent("T", {"amount": Decimal("Infinity")})], {}, "not a finite number"),
            ("s", [NewEvent("T", {"name": "nul\x00byte"})], {}, "NUL"),
            ("s", [NewEvent("T", {"name": "lone \ud800 surrogate"})], {}, "surrogate"),
            ("s", [NewEvent("T", {1: "int key"})], {}, "not a string"),  # type: ignore[dict-item]
            ("s", [NewEvent("T", {"x": object()})], {}, "not JSON data"),
            ("s", [NewEvent("T", {"at": dt.datetime(2025, 1, 1)})], {}, "naive"),
            (
                "s",
                [NewEvent("T", {}, effective_on=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))],
                {},
                "give a date",
            ),
            ("s", [ev()], {"receipt": keyed("")}, "receipt's key"),
            ("s", [ev()], {"receipt": keyed("k" * 256)}, "receipt's key"),
            ("s", [ev()], {"receipt": keyed("with space")}, "receipt's key"),
            ("s", [ev()], {"receipt": keyed("caf\u00e9")}, "receipt's key"),
            ("s", [ev()], {"receipt": keyed("k", scope="")}, "receipt's scope"),
            ("s", [ev()], {"receipt": keyed("k", scope="s" * 151)}, "receipt's scope"),
            ("s", [ev()], {"receipt": keyed("k", scope="user:a b")}, "receipt's scope"),
            ("s", [ev()], {"metadata": {"actor": 0.5}}, "float"),
        ],
    )
    def test_refused_with_a_clear_error(self, stream, events, kwargs, message):
        kwargs.setdefault("expected_version", None)
        with pytest.raises(InvalidAppend, match=message):
            append(stream, events, **kwargs)
        assert head() == 0 and Event.objects.count() == 0

    @override_settings(LEDGER_MAX_EVENT_BYTES=1024 * 1024)
    def test_oversized_payload_is_refused(self):
        with pytest.raises(InvalidAppend, match="at most 1,048,576"):
            append("s", [NewEvent("T", {"blob": "x" * (1024 * 1024)})], expected_version=None)
        assert head() == 0


class TestBadReadArguments:
    """A malformed read is an ``InvalidRead`` (never an ``InvalidAppend``) that names the
    argument, what it must be, and what was given."""

    @pytest.mark.parametrize(
        ("read", "message"),
        [
            (lambda: read_all(after=-1), r"after must be a whole number of at least 0.*not -1"),
            (lambda: read_all(after="3"), r"after must be .*not '3'"),  # type: ignore[arg-type]
            (lambda: read_all(limit=0), r"limit must be a whole number from 1 to 10000.*not 0"),
            (lambda: read_all(limit=10_001), r"limit must be .*not 10001"),
            (lambda: read_all(limit=True), r"limit must be .*not True"),
            (lambda: read_all(types="Added"), r"types must be a collection .*not 'Added'"),
            (lambda: read_stream("s", limit=0), r"limit must be .*not 0"),
            (lambda: read_stream("s", after_version=-1), r"after_version must be .*not -1"),
            (lambda: read_stream("s", after_position=-2), r"after_position must be .*not -2"),
            (
                lambda: read_stream("s", upto_recorded_at=dt.datetime(2025, 1, 1)),
                r"upto_recorded_at must be a timezone-aware datetime.*2025, 1, 1",
            ),
            (
                lambda: read_stream("s", upto_recorded_at=dt.date(2025, 1, 1)),  # type: ignore[arg-type]
                r"upto_recorded_at must be a timezone-aware datetime",
            ),
            (lambda: find_receipt("a b", "k"), r"receipt's scope"),
            (lambda: list(iter_stored(after=-1)), r"after must be .*not -1"),
            (lambda: list(iter_stored(page=0)), r"page must be .*not 0"),
        ],
    )
    def test_refused_as_a_bad_read_saying_what_was_wrong(self, read, message):
        with pytest.raises(InvalidRead, match=message) as refused:
            read()
        assert not isinstance(refused.value, InvalidAppend)
        assert isinstance(refused.value, LedgerError) and isinstance(refused.value, ValueError)

    def test_a_bad_hold_is_a_bad_read(self):
        with (
            pytest.raises(InvalidRead, match=r"after_version must be .*not -1"),
            lock_stream("s", after_version=-1),
        ):
            pass  # never entered

    @pytest.mark.parametrize(
        ("read", "message"),
        [
            (lambda: read_stream(""), r"stream name is required .*not ''"),
            (lambda: read_stream("a b"), r"Stream name 'a b' is not allowed"),
            (lambda: stream_exists("a b"), r"Stream name 'a b' is not allowed"),
            (lambda: append("a b", [ev()], expected_version=None), r"Stream name 'a b'"),
        ],
    )
    def test_a_name_no_stream_can_have_is_refused_by_reads_and_appends_alike(self, read, message):
        with pytest.raises(InvalidStreamName, match=message) as refused:
            read()
        assert isinstance(refused.value, InvalidRead) and isinstance(refused.value, InvalidAppend)

    def test_a_bad_append_is_not_a_bad_read(self):
        with pytest.raises(InvalidAppend, match=r"read_after must be .*not -1") as refused:
            append("s", [ev()], expected_version=None, read_after=-1)
        assert not isinstance(refused.value, InvalidRead)


def test_a_rolled_back_append_leaves_no_gap():
    append("s-r", [ev()], expected_version=0)
    with pytest.raises(RuntimeError), transaction.atomic():
        append("s-r", [ev(), ev()], expected_version=1)
        raise RuntimeError("the caller's transaction fails after the append")
    result = append("s-r", [ev()], expected_version=1)

    assert result.positions == (2,)
    assert [e.position for e in read_all()] == [1, 2]
    assert head_state()[1] == read_all()[-1].hash


def test_recorded_at_never_decreases_and_known_at_is_a_prefix():
    for number in range(5):
        append(f"s-{number % 2}", [ev(), ev()], expected_version=None)
    events = read_all()
    assert all(a.recorded_at <= b.recorded_at for a, b in itertools.pairwise(events))

    cut = events[3].recorded_at
    known = read_stream("s-1", upto_recorded_at=cut)
    assert all(e.recorded_at <= cut for e in known)
    assert [e.version for e in known] == list(range(1, len(known) + 1))


def test_read_all_pages_and_filters_by_type():
    for number in range(7):
        append("s-p", [ev("Even" if number % 2 == 0 else "Odd")], expected_version=None)
    page_one = read_all(after=0, limit=3)
    page_two = read_all(after=page_one[-1].position, limit=3)
    assert [e.position for e in page_one + page_two] == [1, 2, 3, 4, 5, 6]
    assert [e.position for e in read_all(types=["Odd"])] == [2, 4, 6]
    assert read_all(types=[]) == []


def test_hash_chain_is_verifiable_by_an_auditors_own_code():
    """Recompute the hashes from the published description, without ledger.canonical."""
    append(
        "s-audit",
        [NewEvent("Signed", {"amount": Decimal("5.00"), "who": "Ünï"}, dt.date(2025, 2, 1))],
        expected_version=0,
        metadata={"actor": "alice"},
    )
    append("s-audit", [ev("Noted")], expected_version=1)

    prev = "0" * 64
    for event in read_all():
        document = {
            "data": event.data,
            "effective_on": event.effective_on.isoformat() if event.effective_on else None,
            "metadata": event.metadata,
            "position": event.position,
            "recorded_at": event.recorded_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "schema_version": event.schema_version,
            "stream": event.stream,
            "type": event.type,
            "version": event.version,
        }
        encoded = json.dumps(document, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
        expected = hashlib.sha256(prev.encode() + encoded.encode("ascii")).hexdigest()
        assert event.prev_hash == prev and event.hash == expected
        prev = event.hash


class TestUpcasting:
    @pytest.fixture
    def renamed(self):
        @upcasting.register("PartnerJoined", 1)
        def v1_to_v2(data):
            return "PartnerAdmitted", 2, {**data, "role": data.get("role", "member")}

        yield
        upcasting.unregister("PartnerJoined", 1)

    def test_old_shapes_are_upcast_on_read_and_stored_rows_are_untouched(self, renamed):
        append("s-u", [NewEvent("PartnerJoined", {"organisation": "mgx"})], expected_version=0)

        (event,) = read_stream("s-u")
        assert (event.type, event.schema_version) == ("PartnerAdmitted", 2)
        assert event.data == {"organisation": "mgx", "role": "member"}
        stored = Event.objects.get(position=1)
        assert (stored.type, stored.schema_version, stored.data) == (
            "PartnerJoined",
            1,
            {"organisation": "mgx"},
        )

    def test_an_upcaster_that_does_not_advance_is_an_error(self):
        upcasting.register("Loop", 1)(lambda data: ("Loop", 1, data))
        try:
            append("s-loop", [NewEvent("Loop", {})], expected_version=0)
            with pytest.raises(ValueError, match="does not advance"):
                read_all()
        finally:
            upcasting.unregister("Loop", 1)


class TestReceipts:
    def test_a_receipt_is_stored_with_the_events_it_records(self):
        append("s-x", [ev()], expected_version=None)
        receipt = NewReceipt("client-a", "k1", "f" * 64, {"id": "c-1", "note": "café"})
        result = append("s-r", [ev(), ev()], expected_version=0, receipt=receipt)
        stored = find_receipt("client-a", "k1")
        assert stored is not None
        assert (stored.stream, stored.positions, stored.version) == ("s-r", (2, 3), 2)
        assert stored.body == {"id": "c-1", "note": "café"}
        assert stored.fingerprint == "f" * 64
        assert stored.recorded_at == read_all()[-1].recorded_at
        assert result.positions == (2, 3)
        assert find_receipt("client-b", "k1") is None

    def test_a_key_the_scope_already_holds_appends_nothing(self):
        append("s-r", [ev()], expected_version=0, receipt=NewReceipt("a", "k", "", {}))
        again = append("s-r", [ev()], expected_version=None, receipt=NewReceipt("a", "k", "", {}))
        assert again.replayed and again.positions == (1,)
        assert head() == 1
        # Another scope may use the same key.
        append("s-r", [ev()], expected_version=None, receipt=NewReceipt("b", "k", "", {}))
        assert head() == 2

    def test_a_refused_append_stores_no_receipt(self):
        append("s-r", [ev()], expected_version=0)
        with pytest.raises(WrongExpectedVersion):
            append("s-r", [ev()], expected_version=0, receipt=NewReceipt("a", "k", "", {}))
        assert find_receipt("a", "k") is None

    def test_inside_a_rolled_back_transaction_neither_is_kept(self):
        with pytest.raises(RuntimeError), transaction.atomic():
            append("s-r", [ev()], expected_version=0, receipt=NewReceipt("a", "k", "", {}))
            raise RuntimeError
        assert head() == 0 and find_receipt("a", "k") is None

    @pytest.mark.parametrize(
        "receipt",
        [
            {"scope": "a"},
            NewReceipt("", "k", "", {}),
            NewReceipt("a", "k" * 256, "", {}),
            NewReceipt("a", "k", "f" * 65, {}),
            NewReceipt("a", "k", "", ["not", "a", "mapping"]),  # type: ignore[arg-type]
            NewReceipt("a", "k", "", {"amount": Decimal("1")}),
            NewReceipt("a", "k", "", {"x": float("nan")}),
        ],
    )
    def test_a_malformed_receipt_is_refused_before_anything_is_written(self, receipt):
        with pytest.raises(InvalidAppend, match="receipt"):
            append("s-r", [ev()], expected_version=0, receipt=receipt)
        assert head() == 0

    @pytest.mark.parametrize(
        ("scope", "key"), [("", "k"), ("a", ""), ("a b", "k"), ("a", "\u00e9")]
    )
    def test_a_malformed_lookup_is_refused(self, scope, key):
        with pytest.raises(InvalidRead, match="receipt's"):
            find_receipt(scope, key)


def test_a_stream_pages_by_position_with_a_limit():
    for n in range(5):
        append("s-a", [ev(n=n)], expected_version=None)
        append("s-b", [ev(n=n)], expected_version=None)
    page = read_stream("s-a", after_position=3, limit=2)
    assert [(e.position, e.version) for e in page] == [(5, 3), (7, 4)]
    assert [e.version for e in read_stream("s-a", after_position=9, limit=10)] == []
    assert len(read_stream("s-a")) == 5
    with pytest.raises(InvalidRead, match="limit"):
        read_stream("s-a", limit=0)
    assert stream_exists("s-a") and not stream_exists("s-c")
