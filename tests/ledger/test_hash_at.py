"""ledger.store.hash_at: the chain hash at a position, the anchor a report records."""

import pytest

from ledger.canonical import GENESIS_HASH
from ledger.store import InvalidRead, hash_at, head_state, read_all

pytestmark = pytest.mark.django_db


def test_the_hash_at_each_position_is_that_events_hash(ledger_of_five):
    position, head_hash = ledger_of_five
    assert hash_at(0) == GENESIS_HASH
    assert [hash_at(e.position) for e in read_all()] == [e.hash for e in read_all()]
    assert hash_at(position) == head_hash == head_state()[1]
    assert hash_at(position + 1) is None


@pytest.mark.parametrize("position", [-1, True, 1.0, "3", None])
def test_a_position_that_is_not_a_whole_number_is_refused(position):
    with pytest.raises(InvalidRead, match="whole number of at least 0"):
        hash_at(position)
