"""``Idempotency-Key`` and ``If-Match`` for the write endpoints.

A key is scoped to the API client (``client_id``). The record of a successful POST (its
status, body and headers, with a SHA-256 fingerprint of method, path and canonical JSON
body) is written in the same transaction as the events the POST appended. A repeat with
the same key and fingerprint replays the record (``Idempotent-Replayed: true``) and
appends nothing, however much later; the same key with another fingerprint is 422.
Refused requests (4xx) are not recorded: nothing was appended, so a retry decides again.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from consortium.api.errors import problem
from consortium.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII, as in the IETF draft's examples
_IF_MATCH = re.compile(r'\s*(?:W/)?"([0-9]{1,18})"\s*|\s*([0-9]{1,18})\s*')


def key_of(request: Request) -> str | None:
    """The request's ``Idempotency-Key``, or None; a malformed one is a 400."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not _KEY.fullmatch(key):
        raise exceptions.ValidationError(
            {HEADER: ["Use 1 to 255 visible ASCII characters (a UUID, say)."]}
        )
    return key


def expected_version(request: Request) -> int | None:
    """``If-Match: "<n>"`` (or ``W/"<n>"``, or a bare ``n``) as a stream version."""
    value = request.headers.get("If-Match")
    if value is None:
        return None
    match = _IF_MATCH.fullmatch(value)
    if match is None:
        raise exceptions.ValidationError(
            {"If-Match": ['Send the ETag of a write, e.g. If-Match: "12".']}
        )
    return int(match.group(1) or match.group(2))


def fingerprint(request: Request, data: Any) -> str:
    """SHA-256 of method, path and the body as canonical JSON (sorted keys, no spaces)."""
    body = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    text = f"{request.method} {request.path}\n{body}"
    return hashlib.sha256(text.encode("ascii", "backslashreplace")).hexdigest()


def find(client: str, key: str) -> IdempotencyRecord | None:
    return IdempotencyRecord.objects.filter(client=client, key=key).first()


def replay(record: IdempotencyRecord, fingerprint_: str) -> Response:
    """The recorded answer, or 422 when the key was used for a different request."""
    if record.fingerprint != fingerprint_:
        message = (
            f"The Idempotency-Key {record.key!r} was already used for a different request; "
            "use a new key for a new request."
        )
        return problem(
            422,
            "Idempotency key reused",
            message,
            kind="idempotency-key-reused",
            errors={HEADER: [message]},
        )
    response = Response(record.body, status=record.status)
    for name, value in (record.headers or {}).items():
        response[name] = value
    response[REPLAYED] = "true"
    return response


def store(
    client: str, key: str, fingerprint_: str, status: int, body: Any, headers: dict[str, str]
) -> None:
    """Record the answer (inside the caller's transaction; a racing twin hits the
    unique constraint on (client, key) and raises IntegrityError)."""
    IdempotencyRecord.objects.create(
        client=client,
        key=key,
        fingerprint=fingerprint_,
        status=status,
        body=body,
        headers=headers,
    )
