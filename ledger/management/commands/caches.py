"""``manage.py caches``: every process cache and speed mechanism, and what each moves."""

from typing import Any

from django.core.management.base import BaseCommand
from django.urls import get_resolver

from ledger import caches, speed


class Command(BaseCommand):
    help = (
        "List the per-process caches (``ledger.caches``: what each holds, its bound, the "
        "benchmark figure it moves) and the speed mechanisms (``ledger.speed``: what each "
        "does, where, the figure it moves, and whether CONSORTIUM_SPEED_OFF turned it off), "
        "as a web process has them: the README's 'How it is fast' table is checked "
        "against this."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        get_resolver().url_patterns  # noqa: B018 - import every view, as a web process does
        self.stdout.write("Caches (emptied together by ledger.caches.clear()):")
        for cache in caches.registered():
            self.stdout.write(f"- {cache.name}: {cache.holds}")
            self.stdout.write(f"    bound: {cache.bound}")
            self.stdout.write(f"    moves: {cache.moves}")
        self.stdout.write("")
        self.stdout.write("Speed mechanisms (turn off with CONSORTIUM_SPEED_OFF=name,...):")
        for mechanism in speed.MECHANISMS.values():
            state = "on" if speed.enabled(mechanism.name) else "OFF"
            self.stdout.write(f"- {mechanism.name} [{state}] in {mechanism.where}")
            self.stdout.write(f"    {mechanism.does}")
            self.stdout.write(f"    moves: {mechanism.moves}")
