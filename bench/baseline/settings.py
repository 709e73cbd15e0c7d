"""Bench settings: production's (``config.settings.base``) plus the bench-only baselines.

Static files are named by the apps' own finders rather than a ``collectstatic`` manifest
(as the test settings do): a page's static URLs are the same lookups either way, and a
bench needs no collected files."""

from config.settings.base import *  # noqa: F403
from config.settings.base import INSTALLED_APPS, STORAGES

INSTALLED_APPS = [*INSTALLED_APPS, "bench.baseline"]
ROOT_URLCONF = "bench.baseline.urls"
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_ROOT = None  # nothing collected: WhiteNoise serves from the finders
WHITENOISE_USE_FINDERS = True
