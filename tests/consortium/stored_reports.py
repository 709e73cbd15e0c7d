"""Real stored reports for the tests of who reads them (API, workspace, partner view),
without the builders: a ``StoredReport`` row and its small real file, saved through
Django's storage API, anchored at the ledger's head.

``store_report(kind="statement", consortium="aip", organisation="mgx", fmt="csv")``
returns the saved row; its file holds ``content`` (by default a line naming it). Point
``MEDIA_ROOT`` at a temporary folder first (the ``media`` fixtures do).
"""

import datetime as dt
import hashlib

from django.core.files.base import ContentFile

from consortium.models import StoredReport
from ledger import store

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def store_report(
    kind: str = "statement",
    consortium: str = "aip",
    organisation: str = "mgx",
    fmt: str = "csv",
    *,
    content: bytes | None = None,
    requested_by: str = "command",
    report_date: dt.date = dt.date(2025, 6, 30),
    parameters: dict[str, str] | None = None,
) -> StoredReport:
    position, chain_hash = store.head_state()
    name = "-".join(part for part in (kind, consortium, organisation, str(report_date)) if part)
    if content is None:
        content = f"{kind},{consortium},{organisation},{report_date}\r\n".encode()
        if fmt == "pdf":
            content = b"%PDF-1.7\n" + content
    if parameters is None:
        parameters = {"consortium": consortium}
        if kind == "statement":
            parameters.update(period_start="2025-04-01", period_end=str(report_date))
        if kind == "notice":
            parameters["call"] = f"{consortium}-call-1"
        if organisation:
            parameters["organisation"] = organisation
    report = StoredReport(
        kind=kind,
        format=fmt,
        consortium=consortium,
        organisation_id=organisation,
        parameters=parameters,
        report_date=report_date,
        position=position,
        chain_hash=chain_hash,
        filename=f"{name}.{fmt}",
        content_type=CONTENT_TYPES[fmt],
        size=len(content),
        checksum=hashlib.sha256(content).hexdigest(),
        requested_by=requested_by,
    )
    report.file.save(f"{name}.{fmt}", ContentFile(content), save=False)
    report.save()
    return report
