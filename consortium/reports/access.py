"""Who may read and make which stored reports, and how a stored report's file is served.

One rule for the API (``/api/v1/reports/``), the workspace's Reports room and the partner
view, answered from the role grants (``consortium.roles``):

- ``deal_team``, ``finance`` and ``auditor`` read every stored report of a consortium they
  hold the role in (a global grant: every report, those of no consortium included);
- a ``partner:<org>`` grant reads only that organisation's own statements and capital
  call notices (``kind`` statement or notice, ``organisation_id`` = the organisation), in
  the consortium the grant names (a global partner grant: in any consortium);
- ``deal_team`` and ``finance`` may generate reports in their consortia; auditors only
  read.

A report the user may not read is answered as if it did not exist (404), never 403:
whether another partner has a statement is itself not the caller's to know.
"""

from __future__ import annotations

import base64
import functools
import operator
from typing import Any

from django.db.models import Q, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase

from consortium import roles
from consortium.models import StoredReport

# The kinds addressed to one partner: what a partner may read of its own.
PARTNER_KINDS = ("statement", "notice")
# Who may generate a report on demand: the deal team and finance (auditors read only).
GENERATE = roles.FINANCE_WRITE


def report_scope(user: Any) -> Q | None:
    """The stored reports ``user``'s grants let it read, as a filter; None: none at all."""
    every = roles.grants_everywhere(user)
    readers = roles.CAPABILITIES[roles.READ]
    if any(grant.role in readers and not grant.consortium for grant in every):
        return Q()
    parts: list[Q] = []
    read_in = sorted({grant.consortium for grant in every if grant.role in readers})
    if read_in:
        parts.append(Q(consortium__in=read_in))
    for grant in every:
        if grant.role != "partner" or not grant.organisation_id:
            continue
        own = Q(kind__in=PARTNER_KINDS, organisation_id=grant.organisation_id)
        if grant.consortium:
            own &= Q(consortium=grant.consortium)
        parts.append(own)
    return functools.reduce(operator.or_, parts) if parts else None


def readable_reports(user: Any) -> QuerySet[StoredReport]:
    """The stored reports the user's grants let it read, newest first."""
    scope = report_scope(user)
    if scope is None:
        return StoredReport.objects.none()
    return StoredReport.objects.filter(scope).order_by("-id")


def workspace_reports(user: Any) -> QuerySet[StoredReport]:
    """The stored reports the workspace shows the user: its grants' (as the API's), and
    every report to a superuser (who reads the whole history too)."""
    if getattr(user, "is_superuser", False):
        return StoredReport.objects.order_by("-id")
    return readable_reports(user)


def partner_reports(user: Any) -> QuerySet[StoredReport]:
    """The statements and notices of the user's own organisations only (the partner
    view's list: a partner who also reads as deal team sees the rest in the workspace)."""
    parts = [
        Q(kind__in=PARTNER_KINDS, organisation_id=grant.organisation_id)
        & (Q(consortium=grant.consortium) if grant.consortium else Q())
        for grant in roles.grants_everywhere(user)
        if grant.role == "partner" and grant.organisation_id
    ]
    if not parts:
        return StoredReport.objects.none()
    return StoredReport.objects.filter(functools.reduce(operator.or_, parts)).order_by("-id")


def may_generate(user: Any, consortium: str | None) -> bool:
    """True when the user may generate reports in ``consortium`` (None: a global grant)."""
    return roles.has_capability(user, GENERATE, consortium or None)


def may_generate_somewhere(user: Any) -> bool:
    """True when some grant of the user lets it generate reports (in some consortium)."""
    allowed = roles.CAPABILITIES[GENERATE]
    return any(grant.role in allowed for grant in roles.grants_everywhere(user))


def generating_consortia(user: Any, slugs: list[str]) -> list[str]:
    """Those of ``slugs`` in which the user may generate reports."""
    return roles.visible_consortia(user, slugs, GENERATE)


# --- the file ----------------------------------------------------------------------------


def etag(report: StoredReport) -> str:
    """A strong ETag: the file's SHA-256 (the bytes never change once stored)."""
    return f'"{report.checksum}"'


def repr_digest(report: StoredReport) -> str:
    """``Repr-Digest`` (RFC 9530): the SHA-256 of the bytes served, base64 in colons."""
    return "sha-256=:" + base64.b64encode(bytes.fromhex(report.checksum)).decode() + ":"


def _matches(header: str, tag: str) -> bool:
    return header.strip() == "*" or tag in (part.strip() for part in header.split(","))


def download(request: HttpRequest, report: StoredReport) -> HttpResponseBase:
    """The report's file, streamed from the storage it was saved in, as an attachment
    with its content type, its checksum as a strong ``ETag`` and as ``Repr-Digest``; 304
    when the client already holds these bytes (``If-None-Match``)."""
    tag = etag(report)
    headers = {"ETag": tag, "Repr-Digest": repr_digest(report), "Cache-Control": "private"}
    if _matches(request.headers.get("If-None-Match", ""), tag):
        response: HttpResponseBase = HttpResponse(status=304)
    else:
        response = FileResponse(
            report.file.open("rb"),
            as_attachment=True,
            filename=report.filename,
            content_type=report.content_type,
        )
    for name, value in headers.items():
        response[name] = value
    response["X-Content-Type-Options"] = "nosniff"
    return response
