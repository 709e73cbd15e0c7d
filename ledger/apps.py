"""Django app configuration for the ledger."""

from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = "Ledger"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from celery.signals import task_prerun

        from ledger import connections, signals, speed
        from ledger.projections import triggers

        speed.check()
        signals.events_appended.connect(
            triggers.on_events_appended, dispatch_uid="ledger-projection-catch-up"
        )
        task_prerun.connect(connections.before_task, dispatch_uid="ledger-connections")
