"""``manage.py verify_ledger``: recompute the hash chain and print the anchor to publish."""

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger.verification import Anchor, verify


class Command(BaseCommand):
    help = (
        "Recompute the ledger's hash chain from the first event, print the head position and "
        "hash (publish them elsewhere as an anchor), and exit non-zero naming the first "
        "position that does not match."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--expect",
            action="append",
            default=[],
            metavar="POSITION:HASH",
            help="A previously published anchor the ledger must still extend (repeatable).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            anchors = [Anchor.parse(text) for text in options["expect"]]
        except ValueError as error:
            raise CommandError(str(error)) from None

        def progress(position: int) -> None:
            sys.stderr.write(f"  verified up to position {position:,}\n")

        report = verify(expect=anchors, progress=progress)
        if not report.chain_ok:
            raise CommandError(
                f"Ledger verification FAILED at position {report.failed_at}: that event "
                f"{report.problem}. {report.checked:,} events before it verified."
            )
        self.stdout.write(
            f"Ledger verified: {report.checked:,} events, hash chain intact"
            + (f", {len(anchors)} anchor(s) matched" if anchors else "")
            + "."
        )
        for hook in report.hooks:  # the domain's checks (verification hooks)
            self.stdout.write(f"{hook.name}: {len(hook.lines)} checked")
            for line in hook.lines:
                self.stdout.write(f"  {line}")
        if report.hook_problems:
            raise CommandError(
                "Ledger verification FAILED: the hash chain is intact, but "
                + "; ".join(
                    f"{name} found: {problem.text}" for name, problem in report.hook_problems
                )
            )
        self.stdout.write(f"head position: {report.head_position}")
        self.stdout.write(f"head hash:     {report.head_hash}")
        self.stdout.write(f"anchor:        {report.head_position}:{report.head_hash}")
