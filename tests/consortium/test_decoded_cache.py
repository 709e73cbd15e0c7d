"""The decoded-event cache is bounded and changes no fold (``consortium.streams``)."""

import pytest

from consortium import services as s
from consortium import streams
from consortium.streams import consortium_history, load_consortium
from ledger import caches

pytestmark = pytest.mark.django_db


def test_a_small_decoded_event_cache_folds_the_same_state(formed, alice):
    formed(signed={f"org-{n}": "100.00" for n in range(4)})
    caches.clear()
    expected = load_consortium("aip")
    before = streams.DECODED_EVENTS_CACHED
    try:
        streams.cache_decoded_events(3)
        assert decoded() == 0
        caches.clear()
        history = consortium_history("aip")
        assert len(history) == expected.version > 3
        assert decoded() <= 3
        again = load_consortium("aip")
        assert decoded() <= 3
        assert (again.version, again.state) == (expected.version, expected.state)
        s.partner_admit(actor=alice, slug="aip", organisation_id="late", name="Late", role="member")
        assert load_consortium("aip").state.partners["late"].name == "Late"
        assert decoded() <= 3
    finally:
        streams.cache_decoded_events(before)


def decoded() -> int:
    """How many decoded events the process keeps now (as its registry entry counts them)."""
    (entry,) = [entry for entry in caches.registered() if entry.name == "decoded-events"]
    assert entry.size is not None
    return entry.size()
