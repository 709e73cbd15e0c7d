"""Test-only support for the ledger: the one sanctioned way to change or empty it.

Installed only by ``config.settings.test``. Production settings never include this app,
and the database role of a deployment cannot do what it does (see deploy/README.md).
"""
