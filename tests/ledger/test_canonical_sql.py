"""The append's SQL encodes events exactly as ``ledger.canonical`` (the published format).

PostgreSQL builds each event's canonical text and chains its hash inside ``ledger_append``
(``ledger/sql/append_v2.sql``); an auditor recomputes both with ``ledger.canonical``. Over
generated events (non-ASCII and escaped text, nesting, decimals as strings, with and
without ``effective_on``, ``recorded_at`` at any microsecond) both must give the same bytes
and the same SHA-256 chain hash, called directly and through a real append.
"""

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import canonical
from ledger.store import _STREAM_RE, _TYPE_RE, NewEvent, append, head_state, read_stream

pytestmark = pytest.mark.django_db

_TEXT = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    max_size=12,
)
_DECIMAL = st.decimals(allow_nan=False, allow_infinity=False, places=None).map(
    lambda value: format(value, "f")
)
_SCALAR = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | _DECIMAL
    | _TEXT
    | st.sampled_from(['"quoted"', "back\\slash", "tab\tnew\nline", "\x01\x1f\x7f", "€ 😀 ü"])
)
_JSON = st.recursive(
    _SCALAR,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=12,
)
_DATA = st.dictionaries(_TEXT, _JSON, max_size=4)
_STREAM = st.from_regex(_STREAM_RE, fullmatch=True)
_TYPE = st.from_regex(_TYPE_RE, fullmatch=True)
_EFFECTIVE_ON = st.none() | st.dates()
_RECORDED_AT = st.datetimes(
    min_value=dt.datetime(1, 1, 2),
    max_value=dt.datetime(9999, 12, 30),
    timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-5, minutes=-30))]),
)
_HASH = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)

_PROPERTY = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _sql_encoding(
    *, data_json: str, metadata_json: str, prev_hash: str, **event: Any
) -> tuple[bytes, str]:
    """The SQL's canonical bytes and chain hash of one event: the data passed, as the
    append passes it, as an element of a text[] of canonical texts."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c, ledger_chain_hash(%s, c) FROM (SELECT ledger_canonical_event("
            "%s, %s, %s, %s, %s, (%s::text[])[1], %s, %s, %s) AS c) AS encoded",
            [
                prev_hash,
                event["position"],
                event["stream"],
                event["version"],
                event["type"],
                event["schema_version"],
                [data_json],
                metadata_json,
                event["effective_on"],
                event["recorded_at"],
            ],
        )
        text, digest = cursor.fetchone()
    return text.encode("utf-8"), digest


@_PROPERTY
@given(
    position=st.integers(min_value=1, max_value=2**62),
    stream=_STREAM,
    version=st.integers(min_value=1, max_value=2**31 - 1),
    type=_TYPE,
    schema_version=st.integers(min_value=1, max_value=32767),
    data=_DATA,
    metadata=_DATA,
    effective_on=_EFFECTIVE_ON,
    recorded_at=_RECORDED_AT,
    prev_hash=_HASH,
)
def test_the_sql_encoding_is_the_published_one(postgres_only, prev_hash, **event):
    data = canonical.normalise(event.pop("data"))
    metadata = canonical.normalise(event.pop("metadata"))
    expected = canonical.event_bytes(data=data, metadata=metadata, **event)

    encoded, digest = _sql_encoding(
        data_json=canonical.dumps(data),
        metadata_json=canonical.dumps(metadata),
        prev_hash=prev_hash,
        **event,
    )

    assert encoded == expected
    assert digest == canonical.chain_hash(prev_hash, expected)


@_PROPERTY
@given(
    stream=_STREAM,
    events=st.lists(
        st.builds(
            NewEvent,
            type=_TYPE,
            data=_DATA,
            effective_on=_EFFECTIVE_ON,
            schema_version=st.integers(min_value=1, max_value=32767),
        ),
        min_size=1,
        max_size=3,
    ),
    metadata=_DATA,
    amount=st.decimals(allow_nan=False, allow_infinity=False),
)
def test_an_append_chains_the_hashes_an_auditor_computes(
    postgres_only, stream, events, metadata, amount
):
    """What ``ledger_append`` stored hashes to what ``ledger.canonical`` computes from the
    very events given to it (a Decimal among them, stored as its string)."""
    events = [NewEvent(events[0].type, {**events[0].data, "amount": amount}), *events[1:]]
    _, prev_hash = head_state()

    result = append(stream, events, expected_version=None, metadata=metadata)

    stored = read_stream(stream, after_version=result.version - len(events))
    assert [event.position for event in stored] == list(result.positions)
    meta = canonical.normalise(metadata)
    for given_event, event in zip(events, stored, strict=True):
        expected = canonical.event_bytes(
            position=event.position,
            stream=stream,
            version=event.version,
            type=given_event.type,
            schema_version=given_event.schema_version,
            data=canonical.normalise(given_event.data),
            metadata=meta,
            effective_on=given_event.effective_on,
            recorded_at=result.recorded_at,  # type: ignore[arg-type]
        )
        prev_hash = canonical.chain_hash(prev_hash, expected)
        assert event.hash == prev_hash
    assert result.last_hash == prev_hash


def test_a_year_before_1000_keeps_four_digits():
    """The published format writes ``YYYY`` always; strftime alone does not everywhere."""
    moment = dt.datetime(99, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
    assert canonical.format_recorded_at(moment) == "0099-01-02T03:04:05.000006Z"
