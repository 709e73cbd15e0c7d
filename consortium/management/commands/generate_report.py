"""``manage.py generate_report KIND ...``: make and store a report on demand.

KIND is progress, statement, notice or ownership. Every figure is computed at one ledger
position (``--position``, default the head) as of the report date (``--date``, default
today); each stored file is printed with its id, checksum and that anchor, which
``manage.py verify_ledger --expect POSITION:HASH`` checks later.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consortium.reports.document import FORMATS, KINDS
from consortium.reports.services import ReportError, formats_for, generate_reports

REQUESTED_BY = "command"


class Command(BaseCommand):
    help = (
        "Generate and store a report: progress --consortium SLUG; statement --consortium "
        "SLUG --from DATE --to DATE [--partner ORG ...] (default every partner); notice "
        "--consortium SLUG --call ID [--partner ORG ...] (default every partner allocated); "
        "ownership --asset ID. --format (repeatable) defaults to every format the kind comes "
        "in; --position to the ledger's head; --date to today."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("--consortium", metavar="SLUG")
        parser.add_argument("--partner", action="append", default=[], metavar="ORG")
        parser.add_argument("--from", dest="period_start", metavar="YYYY-MM-DD")
        parser.add_argument("--to", dest="period_end", metavar="YYYY-MM-DD")
        parser.add_argument("--call", metavar="ID")
        parser.add_argument("--asset", metavar="ID")
        parser.add_argument(
            "--format", dest="formats", action="append", default=[], choices=FORMATS
        )
        parser.add_argument("--position", type=int, metavar="N")
        parser.add_argument("--date", metavar="YYYY-MM-DD", help="The report date.")

    def handle(self, *args: Any, **options: Any) -> None:
        kind = options["kind"]
        try:
            report_date = dt.date.fromisoformat(options["date"]) if options["date"] else None
        except ValueError:
            raise CommandError(
                f"--date {options['date']!r} is not a date; write YYYY-MM-DD."
            ) from None
        parameters = _parameters(kind, options)
        try:
            formats = options["formats"] or formats_for(kind)
            reports = generate_reports(
                kind=kind,
                parameters=parameters,
                formats=formats,
                requested_by=REQUESTED_BY,
                report_date=report_date,
                position=options["position"],
                progress=self._progress(kind) if kind in ("statement", "notice") else None,
            )
        except ReportError as error:
            raise CommandError(str(error)) from None
        for report in reports:
            self.stdout.write(
                f"{report.pk}\t{report.kind}\t{report.organisation_id or '-'}\t{report.format}"
                f"\t{report.file.name}\tsha256:{report.checksum}"
            )
        if reports:
            anchor = f"{reports[0].position}:{reports[0].chain_hash}"
            self.stdout.write(
                f"Anchor {anchor} (report date {reports[0].report_date.isoformat()}); "
                f"check it with: manage.py verify_ledger --expect {anchor}"
            )

    def _progress(self, kind: str) -> Any:
        def show(done: int, total: int) -> None:
            self.stderr.write(f"{kind} {done}/{total}")

        return show


def _parameters(kind: str, options: dict[str, Any]) -> dict[str, str]:
    """The service's parameters from the options; an option the kind does not take is an
    error rather than silently ignored."""
    given = {
        "consortium": options["consortium"],
        "period_start": options["period_start"],
        "period_end": options["period_end"],
        "call": options["call"],
        "asset": options["asset"],
        "organisation": ",".join(options["partner"]) or None,
    }
    takes = {
        "progress": {"consortium"},
        "statement": {"consortium", "period_start", "period_end", "organisation"},
        "notice": {"consortium", "call", "organisation"},
        "ownership": {"asset"},
    }[kind]
    flags = {"period_start": "--from", "period_end": "--to", "organisation": "--partner"}
    extra = [
        flags.get(name, f"--{name}") for name, value in given.items() if value and name not in takes
    ]
    if extra:
        raise CommandError(f"A {kind} report does not take {', '.join(extra)}.")
    return {name: value for name, value in given.items() if value and name in takes}
