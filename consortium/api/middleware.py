"""Middleware for the API's answers over HTTP.

``DrainUnreadBody``: an answer given before the body was read (413 for a body over the
limit, 401, 403, 405) leaves the body's bytes on a kept-alive connection. The server
would have to discard them before the next request; gunicorn discards only a little and
otherwise closes the connection after saying ``Connection: keep-alive``, so a client's
next request on its pooled connection fails. A WSGI application may not send
``Connection: close`` itself (a hop-by-hop header), so the middleware reads what is left
of the body, up to ``DRAIN_MAX_BYTES``, and the connection stays usable. A body larger
than that still ends its connection.

``GZipMiddleware``: Django's compresses as usual but turns a strong ``ETag`` weak
(``"12"`` into ``W/"12"``), since the compressed bytes differ from the uncompressed ones.
The API's ETags name a stream version, not a byte sequence: the version is the same
whatever the encoding, and ``If-Match`` compares strongly, so the ETag must stay as the
write gave it (``Vary: Accept-Encoding`` still tells caches the bytes differ). A response
that states a digest of its exact bytes (``Repr-Digest``: a stored report's file) is not
compressed at all: its digest and its strong ETag name the bytes as stored.

``DjangoErrorsAsProblems``: under ``/api/``, an error page Django renders itself (its
debug pages for a missing URL or a crash, which bypass ``handler404`` and ``handler500``
when ``DEBUG`` is on, as on the embedded default) is answered as problem+json instead.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.middleware.gzip import GZipMiddleware as DjangoGZipMiddleware

from consortium.api.errors import DJANGO_ERROR_STATUSES, django_error

DRAIN_MAX_BYTES = 4 * 1024 * 1024
_CHUNK = 64 * 1024


class GZipMiddleware(DjangoGZipMiddleware):
    """Django's ``GZipMiddleware``, keeping a strong ``ETag`` strong."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if response.has_header("Repr-Digest"):
            return response
        etag = response.get("ETag")
        response = super().process_response(request, response)
        if etag is not None and response.get("ETag") != etag:
            response.headers["ETag"] = etag
        return response


class DrainUnreadBody:
    """Read and discard what the view left unread of the request body (bounded)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        length = request.META.get("CONTENT_LENGTH") or ""
        if length.isdigit() and 0 < int(length) <= DRAIN_MAX_BYTES:
            try:
                while request.read(_CHUNK):
                    pass
            except Exception:  # noqa: S110 - a client gone away is no error of ours
                pass
        return response


class DjangoErrorsAsProblems:
    """An HTML error page of Django's own under ``/api/`` becomes a problem."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.status_code in DJANGO_ERROR_STATUSES and response.get(
            "Content-Type", ""
        ).startswith("text/html"):
            return django_error(request, response.status_code) or response
        return response
