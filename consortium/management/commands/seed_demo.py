"""``manage.py seed_demo``: load the AIP and Stargate demo data (twice changes nothing)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from consortium.demo import load_demo
from consortium.domain.errors import DomainError


class Command(BaseCommand):
    help = (
        "Load the AI Infrastructure Partnership and Stargate as demo data (partner amounts "
        "are illustrative). Every step is a real command with its own idempotency key, so "
        "running it again appends nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(line: str) -> None:
            if options["verbosity"] >= 2:
                self.stdout.write(line)

        try:
            appended, replayed = load_demo(progress)
        except DomainError as error:
            raise CommandError(f"The demo data were refused: {error}") from error
        if appended:
            self.stdout.write(f"Demo data loaded: {appended} commands recorded.")
        else:
            self.stdout.write(f"Demo data already loaded ({replayed} commands); nothing changed.")
