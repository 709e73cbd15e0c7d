#!/usr/bin/env python
"""Container health probe: GET /healthz on the local gunicorn; exit 0 on a 200.

Standard library only, so it is cheap to run every few seconds. The Host header is the
first of DJANGO_ALLOWED_HOSTS (Django answers 400 to any other), and the request claims
to have come through the TLS-terminating proxy (``X-Forwarded-Proto: https``, honoured via
SECURE_PROXY_SSL_HEADER) so that DJANGO_SECURE_SSL_REDIRECT does not turn it into a 301.
"""

import http.client
import os
import sys


def host_header(allowed_hosts: str) -> str:
    """A Host value Django will accept, from a DJANGO_ALLOWED_HOSTS value."""
    for entry in allowed_hosts.split(","):
        host = entry.strip().lstrip(".")
        if host and host != "*":
            return host
    return "localhost"


def main() -> int:
    port = int(os.environ.get("PORT", "8000") or "8000")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(
            "GET",
            "/healthz",
            headers={
                "Host": host_header(os.environ.get("DJANGO_ALLOWED_HOSTS", "")),
                "X-Forwarded-Proto": "https",
            },
        )
        status = connection.getresponse().status
    except OSError as error:
        sys.stderr.write(f"healthz: {error}\n")
        return 1
    finally:
        connection.close()
    if status != 200:
        sys.stderr.write(f"healthz: HTTP {status}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
