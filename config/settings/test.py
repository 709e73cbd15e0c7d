"""Test settings: ``base`` plus the test-only ledger bypass and a fixed secret key.

Never a developer's ``.env``: what tests see comes from the environment alone.
"""

import os

from config.env import ignore_env_file

ignore_env_file()
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-any-deployment")

from config.settings.base import *  # noqa: E402, F403
from config.settings.base import INSTALLED_APPS, STORAGES  # noqa: E402

# The only way to empty the append-only ledger: test flushes go through it.
INSTALLED_APPS = ["ledger.testing", *INSTALLED_APPS]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
# Static files from the apps themselves (no collectstatic before a test run); the
# production storage is tested on collected files (tests/config/test_static.py).
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
