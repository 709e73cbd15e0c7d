"""App configuration for the ledger's test-only support."""

from django.apps import AppConfig


class LedgerTestingConfig(AppConfig):
    name = "ledger.testing"
    label = "ledger_testing"
    verbose_name = "Ledger (test support)"
