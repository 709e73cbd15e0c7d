"""Signals the ledger sends; projections listen to them to catch up."""

from django.dispatch import Signal

# Sent after the transaction that appended events commits, with ``stream`` and
# ``positions``. Receivers must be quick and must not fail the caller: they run after the
# events are durable, so a failure there loses nothing (the periodic sweep catches up).
events_appended = Signal()
