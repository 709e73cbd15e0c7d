"""App configuration for the ledger's test-only support."""

from django.apps import AppConfig


class LedgerTestingConfig(AppConfig):
    name = "ledger.testing"
    label = "ledger_testing"
    verbose_name = "Ledger (test support)"

    def ready(self) -> None:
        from ledger.projections import registry
        from ledger.testing.models import TallyProjection

        registry.register(TallyProjection())
