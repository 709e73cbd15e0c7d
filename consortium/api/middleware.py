"""Middleware for the API's answers over HTTP.

``GZipMiddleware``: Django's compresses as usual but turns a strong ``ETag`` weak
(``"12"`` into ``W/"12"``), since the compressed bytes differ from the uncompressed ones.
The API's ETags name a stream version, not a byte sequence: the version is the same
whatever the encoding, and ``If-Match`` compares strongly, so the ETag must stay as the
write gave it (``Vary: Accept-Encoding`` still tells caches the bytes differ).
"""

from django.http import HttpRequest, HttpResponseBase
from django.middleware.gzip import GZipMiddleware as DjangoGZipMiddleware


class GZipMiddleware(DjangoGZipMiddleware):
    """Django's ``GZipMiddleware``, keeping a strong ``ETag`` strong."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        etag = response.get("ETag")
        response = super().process_response(request, response)
        if etag is not None and response.get("ETag") != etag:
            response.headers["ETag"] = etag
        return response
