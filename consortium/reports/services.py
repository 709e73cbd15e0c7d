"""Generate reports: check what was asked, anchor it, build, render, store.

``generate_reports`` is the one way a report is made (the command, schedules, the notices
consumer, the admin). Its inputs are the report's kind, its parameters, the ledger
position and the report date; the figures are computed once at that position
(``consortium.reports.builders``), rendered in each format
(``consortium.reports.rendering``) and stored through Django's storage API, each file
with its SHA-256 checksum, the canonical parameters, the position and the chain hash
there, and who asked, all in one transaction. Given the same inputs it stores the same
bytes: the stored parameters are enough to make the report again.

Unlike the builders, this service may read the clock: the report date defaults to today
(``timezone.localdate()``), and a report date after today is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from consortium.reports import builders
from consortium.reports.builders import PaymentDetails
from consortium.reports.document import FORMATS, KINDS, Anchor, Document, Format
from consortium.reports.errors import ReportError
from consortium.reports.models import PaymentInstruction, ReportRun, StoredReport
from consortium.reports.rendering import UnknownFormat, render
from ledger import store

__all__ = [
    "KIND_FORMATS",
    "PARAMETERS",
    "ReportError",
    "formats_for",
    "generate_reports",
    "instruction_in_force",
]

# The formats each kind comes in (PDF: the documents sent to one partner).
KIND_FORMATS: Mapping[str, tuple[Format, ...]] = {
    "progress": ("xlsx", "csv", "html"),
    "statement": ("xlsx", "csv", "html", "pdf"),
    "notice": ("xlsx", "csv", "html", "pdf"),
    "ownership": ("xlsx", "csv", "html"),
}

# Parameters by kind: (required, optional). All are strings.
PARAMETERS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "progress": (("consortium",), ()),
    "statement": (("consortium", "period_start", "period_end"), ("organisation",)),
    "notice": (("consortium", "call"), ("organisation", "payment_instruction")),
    "ownership": (("asset",), ()),
}

Progress = Callable[[int, int], None]


def formats_for(kind: str) -> list[Format]:
    """The formats ``kind`` comes in that this installation can render, in FORMATS order."""
    if kind not in KIND_FORMATS:
        raise ReportError(_unknown_kind(kind))
    return [fmt for fmt in KIND_FORMATS[kind] if _renders(fmt)]


def _renders(fmt: Format) -> bool:
    from consortium.reports import rendering

    return fmt in rendering._RENDERERS


def generate_reports(
    *,
    kind: str,
    parameters: Mapping[str, str],
    formats: Sequence[str],
    requested_by: str,
    report_date: dt.date | None = None,
    position: int | None = None,
    key: str | None = None,
    run: ReportRun | None = None,
    progress: Progress | None = None,
) -> list[StoredReport]:
    """Make, render and store the reports asked for; one ``StoredReport`` per document
    (a statement or notice per partner, else one) and format, in that order.

    ``parameters`` by kind (strings):

    - progress: ``consortium``;
    - statement: ``consortium``, ``period_start``, ``period_end`` (ISO dates), optionally
      ``organisation`` (one id, or several separated by commas; else every partner);
    - notice: ``consortium``, ``call``, optionally ``organisation`` (else every partner
      allocated) and ``payment_instruction`` (an id, or "" for none; else the
      consortium's instruction in force, whose id is then recorded);
    - ownership: ``asset``.

    ``position``: the ledger position (default: the head); ``report_date``: default
    today. ``key``: each stored report's key is ``f"{key}:{organisation_id or '-'}:
    {format}"``, and a repeat returns the reports already stored under it.
    ``progress(done, total)`` is called as each document is stored. Bad input raises
    ``ReportError`` and stores nothing."""
    if kind not in KINDS:
        raise ReportError(_unknown_kind(kind))
    wanted = _check_formats(kind, formats)
    if not requested_by:
        raise ReportError("Say who or what asked for the report (requested_by).")
    if key is not None:
        existing = _stored_under(key)
        if existing:
            return existing
    asked = _check_parameters(kind, parameters)
    day = _check_report_date(report_date)
    anchor = _anchor(position)
    documents, canonical = _build(kind, asked, anchor, day)
    try:
        return _store(documents, canonical, wanted, requested_by, key, run, progress)
    except IntegrityError:
        # Another run stored the same key meanwhile: its reports are the answer.
        if key is not None:
            existing = _stored_under(key)
            if existing:
                return existing
        raise


# --- checking what was asked ------------------------------------------------------------


def _unknown_kind(kind: str) -> str:
    return f"There is no report kind {kind!r}; the kinds are {', '.join(KINDS)}."


def _check_formats(kind: str, formats: Sequence[str]) -> list[Format]:
    if isinstance(formats, str) or not formats:
        raise ReportError(f"Ask for at least one format: {', '.join(formats_for(kind))}.")
    available = formats_for(kind)
    wanted: list[Format] = []
    for fmt in formats:
        if fmt not in FORMATS:
            raise ReportError(f"There is no format {fmt!r}; the formats are {', '.join(FORMATS)}.")
        if fmt not in available:
            raise ReportError(
                f"A {kind} report does not come as {fmt}; it comes as {', '.join(available)}."
            )
        if fmt not in wanted:
            wanted.append(fmt)  # type: ignore[arg-type]
    return wanted


def _check_parameters(kind: str, parameters: Mapping[str, str]) -> dict[str, str]:
    required, optional = PARAMETERS[kind]
    unknown = sorted(set(parameters) - set(required) - set(optional))
    if unknown:
        raise ReportError(
            f"A {kind} report takes {', '.join(required + optional)}; "
            f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not among them."
        )
    missing = [name for name in required if not parameters.get(name)]
    if missing:
        raise ReportError(f"A {kind} report needs {', '.join(missing)}.")
    for name, value in parameters.items():
        if not isinstance(value, str):
            raise ReportError(f"The parameter {name} must be text, not {value!r}.")
    return dict(parameters)


def _date(value: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ReportError(f"The {what} {value!r} is not a date; write YYYY-MM-DD.") from None


def _check_report_date(report_date: dt.date | None) -> dt.date:
    today = timezone.localdate()
    if report_date is None:
        return today
    if not isinstance(report_date, dt.date) or isinstance(report_date, dt.datetime):
        raise ReportError(f"The report date must be a date, not {report_date!r}.")
    if report_date > today:
        raise ReportError(
            f"The report date {report_date.isoformat()} is after today "
            f"({today.isoformat()}): the ledger holds nothing beyond today yet."
        )
    return report_date


def _anchor(position: int | None) -> Anchor:
    head = store.read_head()
    if head.position < 1:
        raise ReportError("The ledger is empty: there is nothing to report yet.")
    if position is None:
        return Anchor(head.position, head.hash)
    if isinstance(position, bool) or not isinstance(position, int) or position < 1:
        raise ReportError(f"A ledger position is a whole number from 1, not {position!r}.")
    if position > head.position:
        raise ReportError(
            f"Ledger position {position} does not exist yet (the head is {head.position})."
        )
    found = head.hash if position == head.position else store.hash_at(position)
    if found is None:  # positions never skip, so only a damaged ledger gets here
        raise ReportError(f"The ledger has no event at position {position}.")
    return Anchor(position, found)


# --- building ---------------------------------------------------------------------------


def _build(
    kind: str, asked: dict[str, str], anchor: Anchor, day: dt.date
) -> tuple[list[Document], dict[str, str]]:
    """The documents, and the canonical parameters every one of them was made from (each
    statement's and notice's own ``organisation`` is added when it is stored)."""
    canonical = {**asked, "report_date": day.isoformat()}
    if kind == "progress":
        return [builders.build_progress(asked["consortium"], anchor, day)], canonical
    if kind == "ownership":
        return [builders.build_ownership(asked["asset"], anchor, day)], canonical
    only = _organisations(asked.get("organisation"))
    if kind == "statement":
        start = _date(asked["period_start"], "period start")
        end = _date(asked["period_end"], "period end")
        if end < start:
            raise ReportError(
                f"The period ends on {end.isoformat()}, before it starts on {start.isoformat()}."
            )
        if end > day:
            raise ReportError(
                f"The period ends on {end.isoformat()}, after the report date "
                f"{day.isoformat()}: a statement covers days that have passed."
            )
        documents = builders.build_statements(asked["consortium"], only, start, end, anchor, day)
        return documents, canonical
    payment = _payment(asked["consortium"], asked.get("payment_instruction"))
    canonical["payment_instruction"] = str(payment.instruction_id) if payment else ""
    documents = builders.build_notices(
        asked["consortium"], asked["call"], only, anchor, day, payment
    )
    return documents, canonical


def _organisations(asked: str | None) -> list[str] | None:
    """``organisation``: one id, or several separated by commas (None: every partner)."""
    if not asked:
        return None
    found = [org.strip() for org in asked.split(",")]
    if not all(found):
        raise ReportError(f"The organisation {asked!r} has an empty id in it.")
    return list(dict.fromkeys(found))


def instruction_in_force(consortium: str) -> PaymentInstruction | None:
    """The consortium's payment instruction in force: approved, latest decided."""
    return (
        PaymentInstruction.objects.filter(consortium=consortium, status="approved")
        .order_by("-decided_at", "-id")
        .first()
    )


def _payment(consortium: str, asked: str | None) -> PaymentDetails | None:
    """The instruction a notice prints: the one named (``""``: none), else the one in
    force; its id goes into the stored parameters, so regeneration prints the same."""
    if asked == "":
        return None
    if asked is None:
        found = instruction_in_force(consortium)
    else:
        if not asked.isdigit():
            raise ReportError(f"The payment instruction {asked!r} is not an id (a number).")
        found = PaymentInstruction.objects.filter(
            pk=int(asked), consortium=consortium, status="approved"
        ).first()
        if found is None:
            raise ReportError(
                f"There is no approved payment instruction {asked} for {consortium!r}."
            )
    if found is None:
        return None
    return PaymentDetails(
        instruction_id=found.pk,
        beneficiary=found.beneficiary,
        bank=found.bank,
        account=found.account,
        bic=found.bic,
        reference=found.reference,
    )


# --- storing ----------------------------------------------------------------------------


def _stored_under(key: str) -> list[StoredReport]:
    """The reports stored under ``key`` (their keys are ``key:organisation:format``)."""
    found = StoredReport.objects.filter(key__startswith=f"{key}:").order_by("id")
    return [r for r in found if r.key is not None and r.key.rsplit(":", 2)[0] == key]


def _storage() -> Storage:
    return StoredReport.file.field.storage


def _path(document: Document, fmt: str, checksum: str) -> str:
    """Where a file is stored: named by what it is and its content, so the same report at
    the same position is one file however often it is made."""
    owner = document.consortium or "-"
    return (
        f"reports/{document.kind}/{owner}/"
        f"{document.name}-p{document.anchor.position}-{checksum[:16]}.{fmt}"
    )


def _store(
    documents: list[Document],
    canonical: dict[str, str],
    formats: list[Format],
    requested_by: str,
    key: str | None,
    run: ReportRun | None,
    progress: Progress | None,
) -> list[StoredReport]:
    storage = _storage()
    written: list[str] = []
    stored: list[StoredReport] = []
    try:
        with transaction.atomic():
            for done, document in enumerate(documents, start=1):
                parameters = dict(canonical)
                if document.organisation_id:
                    parameters["organisation"] = document.organisation_id
                for fmt in formats:
                    stored.append(
                        _store_one(
                            document, fmt, parameters, requested_by, key, run, storage, written
                        )
                    )
                if progress is not None:
                    progress(done, len(documents))
    except BaseException:
        for name in written:  # files of a transaction that did not commit
            storage.delete(name)
        raise
    return stored


def _store_one(
    document: Document,
    fmt: Format,
    parameters: dict[str, Any],
    requested_by: str,
    key: str | None,
    run: ReportRun | None,
    storage: Storage,
    written: list[str],
) -> StoredReport:
    try:
        rendered = render(document, fmt)
    except UnknownFormat as error:
        raise ReportError(str(error)) from None
    checksum = hashlib.sha256(rendered.content).hexdigest()
    name = _path(document, fmt, checksum)
    if not storage.exists(name):
        name = storage.save(name, ContentFile(rendered.content))
        written.append(name)
    report = StoredReport(
        kind=document.kind,
        format=fmt,
        consortium=document.consortium,
        organisation_id=document.organisation_id,
        parameters=dict(sorted(parameters.items())),
        report_date=document.report_date,
        position=document.anchor.position,
        chain_hash=document.anchor.hash,
        filename=rendered.filename,
        content_type=rendered.content_type,
        size=len(rendered.content),
        checksum=checksum,
        requested_by=requested_by,
        key=f"{key}:{document.organisation_id or '-'}:{fmt}" if key is not None else None,
        run=run,
    )
    report.file.name = name
    report.save()
    return report
