"""Every API error as ``application/problem+json`` (RFC 9457): type, title, status, detail,
and ``errors`` mapping each field to its messages. Nothing reaches a 500 by design: domain
refusals are 422, an unknown consortium or asset 404, a malformed amount 400, stale
``If-Match`` 412, a concurrent change 409. Problem types are kebab-case slugs under
``TYPE_BASE`` (a domain error's code ``date_in_future`` is ``.../date-in-future``).

``django_error`` answers what Django itself refuses under ``/api/v1/`` (an unknown path, a
body it will not read, a server error) in the same shape."""

import re
from collections.abc import Mapping
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler

from consortium.domain.errors import DomainError, MalformedAmount, UnknownAsset, UnknownConsortium
from consortium.domain.identifiers import IDENTIFIER_PATTERN, SLUG_PATTERN
from consortium.services import ConcurrentChange, StaleVersion
from ledger.store import IdempotencyConflict, InvalidAppend, InvalidRead, InvalidStreamName

PROBLEM = "application/problem+json"
TYPE_BASE = "https://consortium.example/problems/"


class ProblemJSONRenderer(JSONRenderer):
    media_type = PROBLEM
    format = "problem+json"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The resource changed since the version you sent in If-Match."
    default_code = "precondition_failed"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Someone else changed this at the same time; nothing was recorded."
    default_code = "conflict"


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request breaks a rule."
    default_code = "unprocessable"


def problem(
    status_code: int, title: str, detail: str, *, kind: str, errors: dict[str, Any] | None = None
) -> Response:
    body = {
        "type": TYPE_BASE + kind,
        "title": title,
        "status": status_code,
        "detail": detail,
        "errors": errors or {},
    }
    return Response(body, status=status_code, content_type=PROBLEM)


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"field.sub": ["message", ...]}``."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = "non_field_errors" if key == "non_field_errors" else f"{prefix}{key}"
            out.update(_flatten(value, f"{name}."))
            if not isinstance(value, dict | list):
                out.setdefault(name, []).append(str(value))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix.rstrip(".") or "non_field_errors": [str(item) for item in detail]}
        out = {}
        for index, item in enumerate(detail):
            out.update(_flatten(item, f"{prefix}{index}."))
        return out
    return {prefix.rstrip(".") or "non_field_errors": [str(detail)]}


def slug(code: str) -> str:
    """A problem type's slug: kebab-case, whatever the code's own style."""
    return code.replace("_", "-")


# An id in an API path names a ledger stream (``consortium-<slug>``, ``asset-<id>``) or
# something recorded in one; one that no consortium, asset or stream name could hold
# names nothing, and is refused before the domain or the ledger is asked.
_PATH_ID = re.compile(r"[A-Za-z0-9._:@+=-]{1,180}")
_PATH_PATTERNS = {
    "slug": re.compile(SLUG_PATTERN),
    "asset": re.compile(IDENTIFIER_PATTERN),
    "id": re.compile(IDENTIFIER_PATTERN),
}


def check_path_ids(kwargs: Mapping[str, Any]) -> None:
    """404 for a path id that cannot name anything the ledger holds."""
    for name, value in kwargs.items():
        pattern = _PATH_PATTERNS.get(name, _PATH_ID)
        if isinstance(value, str) and not pattern.fullmatch(value):
            raise exceptions.NotFound(f"No {name} {value[:60]!r} exists.")


def handle(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's ``EXCEPTION_HANDLER``: domain and ledger errors, then DRF's own, as problems."""
    if isinstance(exc, UnknownConsortium | UnknownAsset):
        return problem(404, "Not found", exc.message, kind="not-found")
    if isinstance(exc, MalformedAmount):
        field = exc.field or "amount"
        return problem(
            400,
            "Invalid request",
            f"{field}: {exc.message}",
            kind="invalid-request",
            errors={field: [exc.message]},
        )
    if isinstance(exc, DomainError):
        field = exc.field or "non_field_errors"
        return problem(
            422,
            "The request breaks a rule",
            exc.message,
            kind=slug(exc.code),
            errors={field: [exc.message]},
        )
    if isinstance(exc, StaleVersion):
        return problem(412, "Precondition failed", str(exc), kind="stale-version")
    if isinstance(exc, ConcurrentChange):
        return problem(409, "Concurrent change", str(exc), kind="concurrent-change")
    if isinstance(exc, IdempotencyConflict):
        return problem(
            422,
            "Idempotency key reused",
            str(exc),
            kind="idempotency-key-reused",
            errors={"Idempotency-Key": [str(exc)]},
        )
    if isinstance(exc, InvalidStreamName):  # names nothing the ledger could hold
        return problem(404, "Not found", str(exc), kind="not-found")
    if isinstance(exc, InvalidRead):
        return problem(400, "Invalid request", str(exc), kind="invalid-request")
    if isinstance(exc, InvalidAppend):
        return problem(422, "Invalid event data", str(exc), kind="invalid-event")
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(detail)
        summary = "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items())
        result = problem(400, "Invalid request", summary, kind="invalid-request", errors=errors)
    else:
        message = str(detail.get("detail", detail)) if isinstance(detail, dict) else str(detail)
        kind = slug(getattr(exc, "default_code", "error"))
        result = problem(
            response.status_code, kind.replace("-", " ").capitalize(), message, kind=kind
        )
    for header, value in response.headers.items():
        if header.lower() in {"www-authenticate", "retry-after", "allow"}:
            result[header] = value
    return result


_DJANGO_ERRORS = {
    400: ("bad-request", "Bad request", "The request could not be read."),
    403: ("forbidden", "Forbidden", "This request is not allowed."),
    404: ("not-found", "Not found", "There is nothing at {path}."),
    500: (
        "server-error",
        "Server error",
        "The server failed to answer; nothing is known "
        "to have been recorded. Retry with the same Idempotency-Key.",
    ),
}


DJANGO_ERROR_STATUSES = frozenset(_DJANGO_ERRORS)


def django_error(request: HttpRequest, status_code: int) -> HttpResponse | None:
    """A problem for Django's own refusal under ``/api/v1/``; None elsewhere (the caller
    answers as Django would)."""
    if not request.path.startswith("/api/"):
        return None
    kind, title, detail = _DJANGO_ERRORS[status_code]
    body = {
        "type": TYPE_BASE + kind,
        "title": title,
        "status": status_code,
        "detail": detail.format(path=request.path),
        "errors": {},
    }
    return JsonResponse(body, status=status_code, content_type=PROBLEM)
