"""``manage.py ledger_anchor``: print the ledger's current position and hash, to keep.

An anchor kept outside the database is what lets ``verify_ledger --expect POSITION:HASH``
catch a rewrite that recomputed every later hash (``ledger.verification``). This command
only reads the head (one statement, checked against the event it names), so it is cheap
enough to run every few minutes; ``verify_ledger`` recomputes the whole chain and prints
the same anchor at its end.
"""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger.verification import HeadMismatch, current_anchor


class Command(BaseCommand):
    help = (
        "Print the ledger's head position and hash (POSITION:HASH) for anyone to keep as an "
        "anchor; `verify_ledger --expect POSITION:HASH` later proves the ledger still extends "
        "it. Does not recompute the chain (verify_ledger does)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--format",
            choices=("text", "json"),
            default="text",
            help="json: one object with position, hash, anchor and recorded_at.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            current = current_anchor()
        except HeadMismatch as error:
            raise CommandError(str(error)) from None
        anchor = current.anchor
        recorded_at = current.recorded_at.isoformat() if current.recorded_at else None
        if options["format"] == "json":
            document = {
                "position": anchor.position,
                "hash": anchor.hash,
                "anchor": str(anchor),
                "recorded_at": recorded_at,
            }
            self.stdout.write(json.dumps(document, sort_keys=True))
            return
        self.stdout.write(f"head position: {anchor.position}")
        self.stdout.write(f"head hash:     {anchor.hash}")
        self.stdout.write(f"recorded at:   {recorded_at or '-'}")
        self.stdout.write(f"anchor:        {anchor}")
