"""Ledger errors reach a client under names that say what was wrong with what it asked."""

import pytest

from consortium.api.errors import handle
from ledger.store import InvalidAppend, InvalidRead, InvalidStreamName, read_all, read_stream


def _answer(error: Exception) -> tuple[int, dict[str, object]]:
    response = handle(error, {})
    assert response is not None
    return response.status_code, dict(response.data)


@pytest.mark.django_db
def test_a_bad_read_limit_is_a_400_naming_the_limit_not_an_invalid_append() -> None:
    with pytest.raises(InvalidRead) as raised:
        read_all(after=0, limit=0)
    assert not isinstance(raised.value, InvalidAppend)
    status, body = _answer(raised.value)
    assert status == 400
    assert str(body["type"]).endswith("/invalid-request")
    assert "limit" in str(body["detail"])


@pytest.mark.django_db
def test_a_name_no_stream_can_have_is_a_404() -> None:
    with pytest.raises(InvalidStreamName) as raised:
        read_stream("no stream has spaces")
    status, body = _answer(raised.value)
    assert status == 404
    assert str(body["type"]).endswith("/not-found")


def test_malformed_event_data_stays_a_422() -> None:
    status, body = _answer(InvalidAppend("event 0 data: floats are not accepted."))
    assert status == 422
    assert str(body["type"]).endswith("/invalid-event")
