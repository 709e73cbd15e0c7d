"""Racing retries over HTTP (issue 12): eight threads, each its own client and database
connection, POST one command under one ``Idempotency-Key`` through the API view; one
appends, every one is answered with the first answer's bytes."""

from typing import Any

import pytest
from rest_framework.test import APIClient

from ledger import caches
from ledger.store import read_stream
from tests.consortium.test_racing_retries import STREAM, THREADS, race

BODY = {
    "commitment_id": "aip-new",
    "organisation_id": "mgx",
    "instrument": "equity",
    "amount": "5.00",
    "stage": "indicated",
    "effective_on": "2025-02-01",
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("if_match", [False, True], ids=["any_version", "if_match"])
def test_threads_posting_one_key_get_the_first_answer(
    postgres_only, formed, api_client_for, if_match
):
    formed()
    caches.clear()
    key = api_client_for("deal_team").key
    before = len(read_stream(STREAM))
    headers: dict[str, Any] = {"HTTP_IDEMPOTENCY_KEY": "post-1"}
    if if_match:
        headers["HTTP_IF_MATCH"] = f'"{before}"'

    def post(n: int) -> tuple[int, bytes, str, str]:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        response = api.post("/api/v1/consortia/aip/commitments/", BODY, format="json", **headers)
        return (
            response.status_code,
            response.content,
            response["ETag"] if response.has_header("ETag") else "",
            response.get("Idempotent-Replayed", ""),
        )

    outcomes = race(THREADS, post)

    assert {(status, content, etag) for status, content, etag, _ in outcomes} == {
        outcomes[0][:3]
    }, outcomes
    assert outcomes[0][0] == 201 and outcomes[0][2] == f'"{before + 1}"'
    assert [replayed for *_, replayed in outcomes].count("") == 1
    assert len(read_stream(STREAM)) == before + 1
