"""Django app configuration for the consortium domain."""

from django.apps import AppConfig


class ConsortiumConfig(AppConfig):
    name = "consortium"
    verbose_name = "Consortia"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import consortium.admin.people  # (users, grants and API clients in the workspace)
        import consortium.admin.schedules  # (report schedules, runs and deliveries)
        import consortium.api.schema  # (registers the OpenAPI auth scheme)
        import consortium.periods  # (registers the seal check with ledger.verification)
        import consortium.projections  # (registers the projections)
        import consortium.reports.distribution_notices  # (--- distributions: its consumer)
        import consortium.reports.notices  # (the notices consumer and its task)
        import consortium.reports.tasks  # noqa: F401  (the reports' tasks, queued by name)
