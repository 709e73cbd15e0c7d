"""``Idempotency-Key`` and ``If-Match`` for the write endpoints.

A key is scoped to the API client (``client_id``). The record of a successful POST is a
ledger receipt (``ledger.store.NewReceipt``, scope = the client): the SHA-256 fingerprint
of method, path and canonical JSON body, and the answer's resource fields. The append
writes it in the same statement as the events, so it exists exactly when they do, and the
ledger is never locked while Python runs. A repeat with the same key and fingerprint
replays the answer (201, the same body and ``ETag``, ``Idempotent-Replayed: true``) and
appends nothing, however much later; the same key with another fingerprint is 422.
Refused requests (4xx) are not recorded: nothing was appended, so a retry decides again.

The key is checked before anything is decided *for the record*, but not by a query of
its own: a command with a key goes straight to its append, whose statement checks the
scope for the key under the ledger lock and, when it is there, appends nothing and hands
back the stored receipt (or refuses with ``IdempotencyConflict`` for another request);
the view then replays. Only a request that is refused (a broken rule,
bad input, a stale ``If-Match``) looks the key up before answering, since a retry of a
command that succeeded may now be refused (as a duplicate, say) and must get the first
answer. Deciding is a pure function of the state, so deciding first and discarding the
decision is invisible; what a client sees is as if the key were checked first, and the
common request (a new key) makes one round trip to the database fewer.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from consortium.api.errors import problem
from ledger.store import RecordedReceipt, find_receipt

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


def find(client: str, key: str) -> RecordedReceipt | None:
    return find_receipt(client, key)


def created(body: dict[str, Any], stream: str, version: int, positions: Sequence[int]) -> Response:
    """The 201 of a write: the resource fields, where it went, and the version as ETag."""
    answer = {**body, "stream": stream, "version": version, "positions": list(positions)}
    return Response(answer, status=status.HTTP_201_CREATED, headers={"ETag": f'"{version}"'})


def replay(record: RecordedReceipt, fingerprint_: str) -> Response:
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
    response = created(record.body, record.stream, record.version, record.positions)
    response[REPLAYED] = "true"
    return response
