"""``manage.py projections_status``: checkpoints, lag and errors of every projection."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ledger.projections import runner


class Command(BaseCommand):
    help = (
        "Show each projection's checkpoint, the ledger head, the lag in events and seconds, "
        "rebuild progress and the last error. Exits non-zero when a projection is stopped "
        "on an error."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        rows = runner.status()
        self.stdout.write(
            f"{'projection':<16} {'checkpoint':>10} {'head':>10} {'lag':>8} {'lag s':>8}  state"
        )
        failed = []
        for row in rows:
            if row.error_position is not None:
                state = f"STOPPED at {row.error_position}: {row.last_error}"
                failed.append(row.name)
            elif row.rebuilding:
                state = f"rebuilding (at {row.rebuild_checkpoint:,})"
            else:
                state = "ok" if row.lag_events == 0 else "catching up"
            self.stdout.write(
                f"{row.name:<16} {row.checkpoint:>10,} {row.head:>10,} {row.lag_events:>8,} "
                f"{row.lag_seconds:>8.1f}  {state} (generation {row.generation})"
            )
        if failed:
            raise CommandError(f"Stopped on an error: {', '.join(failed)}.")
