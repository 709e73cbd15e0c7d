"""``Idempotency-Key`` and ``If-Match`` for the write endpoints, in one place.

``CommandView`` (``writes``) calls these small functions and nothing else about either
header: ``actor`` turns a request into the service's ``Actor``, ``answer`` makes the 201,
``recorded`` finds the first answer for a key, and ``replay`` repeats it.

A key is scoped to the API client (``client_id``). The record of a successful POST is a
ledger receipt (``ledger.store.NewReceipt``, scope = the client): the SHA-256 fingerprint
of method, path and canonical JSON body, and the answer's resource fields as the view's
response serializer rendered them. The append writes it in the same statement as the
events, so it exists exactly when they do, and the ledger is never locked while Python
runs. A repeat with the same key and fingerprint replays the answer (201, the same body
bytes and ``ETag``, ``Idempotent-Replayed: true``) and appends nothing, however much
later; the same key with another fingerprint is 422. Refused requests (4xx) are not
recorded: nothing was appended, so a retry decides again.

The key is checked before anything is decided *for the record*, but not by a query of
its own: a command with a key goes straight to its append, whose statement checks the
scope for the key under the ledger lock and, when it is there, appends nothing and hands
back the stored receipt (or refuses with ``IdempotencyConflict`` for another request);
the view then replays. Only a request that is refused (a broken rule,
bad input, a stale ``If-Match``) looks the key up before answering, since a retry of a
command that succeeded may now be refused (as a duplicate, say) and must get the first
answer. Deciding is a pure function of the state, so deciding first and discarding the
decision is invisible; what a client sees is as if the key were checked first.

``If-Match`` takes the strong ETag of a write, ``"<version>"``, compared strongly (RFC 9110
§13.1.1): a weak ETag (``W/"12"``) never matches (412); anything else is a 400.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from consortium import services as s
from consortium.api.access import client_id
from consortium.api.errors import PreconditionFailed, problem
from consortium.domain.errors import DomainError
from ledger.store import IdempotencyConflict, NewReceipt, RecordedReceipt, find_receipt

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII, as in the IETF draft's examples
_STRONG = re.compile(r'\s*"([0-9]{1,18})"\s*')
_WEAK = re.compile(r'\s*W/"[0-9]{1,18}"\s*')

Answer = Callable[[Any], Mapping[str, Any]]


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
    """``If-Match: "<n>"`` as a stream version; a weak ETag is 412, a malformed one 400."""
    value = request.headers.get("If-Match")
    if value is None:
        return None
    match = _STRONG.fullmatch(value)
    if match is not None:
        return int(match.group(1))
    if _WEAK.fullmatch(value):
        raise PreconditionFailed(
            "If-Match compares strongly and a weak ETag never matches: send the ETag of a "
            'write as it was given, e.g. If-Match: "12".'
        )
    raise exceptions.ValidationError(
        {"If-Match": ['Send the ETag of a write, a quoted version, e.g. If-Match: "12".']}
    )


def fingerprint(request: Request, data: Any) -> str:
    """SHA-256 of method, path and the body as canonical JSON (sorted keys, no spaces)."""
    body = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    text = f"{request.method} {request.path}\n{body}"
    return hashlib.sha256(text.encode("ascii", "backslashreplace")).hexdigest()


def actor(request: Request, data: Any, answer: Answer) -> s.Actor:
    """The service's ``Actor`` for a write: the user, ``If-Match`` as the expected
    version, ``X-Correlation-ID``, and with an ``Idempotency-Key`` a receipt whose body
    ``answer`` renders from the resolved command."""
    expected = expected_version(request)
    key = key_of(request)
    correlation = request.headers.get("X-Correlation-ID")
    if correlation is not None and not _KEY.fullmatch(correlation):
        raise exceptions.ValidationError(
            {"X-Correlation-ID": ["Use 1 to 255 visible ASCII characters."]}
        )
    receipt = None
    if key is not None:
        receipt = NewReceipt(client_id(request), key, fingerprint(request, data), {})
    return s.Actor(
        request.user,
        source="api",
        expected_version=expected,
        correlation_id=correlation,
        receipt=receipt,
        answer=answer,
    )


def recorded(actor: s.Actor) -> RecordedReceipt | None:
    """The receipt already recorded under the actor's key, if it has one."""
    if actor.receipt is None:
        return None
    return find_receipt(actor.receipt.scope, actor.receipt.key)


def answer(
    response: type[serializers.Serializer[Any]],
    resource: Mapping[str, Any],
    result: s.CommandResult,
) -> Response:
    """The 201 of a write: ``resource`` (the response serializer's rendering of the
    command) with the result's stream, version and positions, and the version as ETag; or,
    when the append replayed the key's receipt, the first answer again."""
    if result.receipt is not None:
        return _replayed(result.receipt, response)
    return _created(response, resource, result.stream, result.version, result.positions)


def replay(
    record: RecordedReceipt, actor: s.Actor, response: type[serializers.Serializer[Any]]
) -> Response:
    """The recorded answer (the same body bytes and ``ETag``), or 422 when the key was
    used for a different request."""
    assert actor.receipt is not None
    if record.fingerprint != actor.receipt.fingerprint:
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
    return _replayed(record, response)


def _replayed(record: RecordedReceipt, response: type[serializers.Serializer[Any]]) -> Response:
    replayed = _created(response, record.body, record.stream, record.version, record.positions)
    replayed[REPLAYED] = "true"
    return replayed


def _created(
    response: type[serializers.Serializer[Any]],
    resource: Mapping[str, Any],
    stream: str,
    version: int,
    positions: Sequence[int],
) -> Response:
    """One 201, for the first answer and every replay alike: the fields in ``response``'s
    order (a stored body comes back from PostgreSQL's jsonb with its keys reordered), so a
    replay has the first answer's bytes."""
    body = {**resource, "stream": stream, "version": version, "positions": list(positions)}
    data = _ordered(_shape(response), body)
    return Response(data, status=status.HTTP_201_CREATED, headers={"ETag": f'"{version}"'})


# A response serializer's field order: per field, None (a value) or the nested shape, a
# one-item list for a list of objects. Computed once per class.
_Shape = dict[str, Any]
_SHAPES: dict[type, _Shape] = {}


def _shape(response: type[serializers.Serializer[Any]]) -> _Shape:
    shape = _SHAPES.get(response)
    if shape is None:
        shape = _SHAPES[response] = _shape_of(response())
    return shape


def _shape_of(field: Any) -> Any:
    if isinstance(field, serializers.ListSerializer):
        return [_shape_of(field.child)]
    if isinstance(field, serializers.Serializer):
        return {name: _shape_of(child) for name, child in field.fields.items()}
    return None


def _ordered(shape: Any, value: Any) -> Any:
    """``value`` with every object's keys in ``shape``'s order."""
    if shape is None or value is None:
        return value
    if isinstance(shape, list):
        return [_ordered(shape[0], item) for item in value]
    return {name: _ordered(inner, value[name]) for name, inner in shape.items() if name in value}


def answered(
    actor: s.Actor, run: Callable[[], Response], response: type[serializers.Serializer[Any]]
) -> Response:
    """``run()``'s answer; but if the actor's key was used before, that request's answer.

    ``run`` validates, calls the service and answers 201 (or, when the append found the key
    already recorded by an earlier request or a twin racing this one, replays it). When the
    request is refused (a retry of a command that succeeded may now be refused, as a
    duplicate say; or the key was used for another request), the recorded answer is
    replayed if there is one: the first answer, or 422 for another request.
    """
    try:
        return run()
    except (
        DomainError,
        IdempotencyConflict,
        s.StaleVersion,
        s.ConcurrentChange,
        exceptions.APIException,
    ):
        record = recorded(actor)
        if record is None:
            raise
        return replay(record, actor, response)
