"""``manage.py make_notices [--call CONSORTIUM:CALL ...]``: make and send the capital call
notices a lost or failed task left unmade (or those of the calls named)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consortium.reports.errors import ReportError
from consortium.reports.notices import notices_make, unmade_notices


class Command(BaseCommand):
    help = (
        "Make and send the notices of issued capital calls that have none stored (a queued "
        "task was lost or gave up), or of the calls named with --call CONSORTIUM:CALL. "
        "Keyed like the consumer's task: nothing already stored or sent is made again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--call", action="append", default=[], metavar="CONSORTIUM:CALL", dest="calls"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        calls = [self._parse(text) for text in options["calls"]] or unmade_notices()
        if not calls:
            self.stdout.write("Every issued call has its notices.")
            return
        refused = []
        for consortium, call_id in calls:
            try:
                queued = notices_make(consortium=consortium, call_id=call_id)
            except ReportError as error:  # the others are still made
                refused.append(f"{consortium} {call_id}: {error}")
                continue
            sent = ", ".join(f"{org} ({len(to)})" for org, to in queued.items()) or "nobody"
            self.stdout.write(f"{consortium} {call_id}: notices made; sent to {sent}.")
        if refused:
            raise CommandError("Refused: " + "; ".join(refused))

    @staticmethod
    def _parse(text: str) -> tuple[str, str]:
        consortium, _, call_id = text.partition(":")
        if not consortium or not call_id:
            raise CommandError(
                f"Name a call as CONSORTIUM:CALL (such as aip:call-1), not {text!r}."
            )
        return consortium, call_id
