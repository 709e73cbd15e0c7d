"""Fixtures of the schedule and delivery tests (``delivery_support``): a real SMTP
server, a temporary media root, eager Celery."""

from tests.consortium.reports.delivery_support import eager, media, smtp  # noqa: F401
