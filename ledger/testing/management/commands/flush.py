"""Django's ``flush``, able to empty the append-only ledger: test settings only.

pytest-django and ``TransactionTestCase`` flush the database between tests; the ledger's
triggers would (rightly) refuse that. This override flushes inside the explicit bypass,
then restores the ledger's head row.
"""

from typing import Any

from django.core.management.commands import flush
from django.db import DEFAULT_DB_ALIAS, transaction

from ledger.testing.bypass import immutability_bypassed, reset_head


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        database = options.get("database", DEFAULT_DB_ALIAS)
        with transaction.atomic(using=database), immutability_bypassed(database):
            super().handle(**options)
            reset_head(database)
