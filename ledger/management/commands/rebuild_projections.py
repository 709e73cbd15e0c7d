"""``manage.py rebuild_projections [NAME ...]``: rebuild beside the live tables, then switch."""

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger.projections import registry, runner


class Command(BaseCommand):
    help = (
        "Rebuild projections from position 0 into a new generation beside the live one, "
        "showing progress, then switch atomically; readers see the old tables until then. "
        "An interrupted rebuild resumes where it stopped. With no names, rebuilds them all."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", metavar="NAME")
        parser.add_argument(
            "--queue", action="store_true", help="Hand the rebuilds to the Celery workers."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        names = options["names"] or registry.names()
        unknown = sorted(set(names) - set(registry.names()))
        if unknown:
            known = ", ".join(registry.names())
            raise CommandError(f"No projection named {', '.join(unknown)}; known: {known}.")
        if options["queue"]:
            from ledger.tasks import queue_rebuild

            for name in names:
                queue_rebuild(name)
                self.stdout.write(f"{name}: rebuild queued for the workers.")
            return
        for name in names:
            try:
                applied = runner.rebuild(name, progress=self._progress)
            except runner.RebuildBusy as busy:
                raise CommandError(str(busy)) from None
            sys.stderr.write("\n")
            self.stdout.write(f"{name}: rebuilt from {applied:,} events and switched live.")

    def _progress(self, p: runner.Progress) -> None:
        left = f", {p.seconds_left:,.0f} s left" if p.seconds_left is not None else ""
        sys.stderr.write(
            f"\r  {p.name}: {p.done:,} / {p.head:,} events, {p.per_second:,.0f} events/s{left}   "
        )
