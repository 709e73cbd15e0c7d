"""Bench settings: production's (``config.settings.base``) plus the bench-only baselines."""

from config.settings.base import *  # noqa: F403
from config.settings.base import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench.baseline"]
ROOT_URLCONF = "bench.baseline.urls"
