"""Test settings: ``base`` plus the test-only ledger bypass and a fixed secret key."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-not-for-any-deployment")

from config.settings.base import *  # noqa: F403
from config.settings.base import INSTALLED_APPS

# The only way to empty the append-only ledger: test flushes go through it.
INSTALLED_APPS = ["ledger.testing", *INSTALLED_APPS]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
