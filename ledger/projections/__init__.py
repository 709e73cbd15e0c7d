"""Projections: read models kept up to date from the ledger, and their machinery.

A projection declares the event types it handles and the tables (models) it owns; the
runner (``ledger.projections.runner``) applies events after the projection's checkpoint,
in position order and in batches, in the same transaction that advances the checkpoint.
Rows carry the ``generation`` they belong to, so a rebuild writes a new generation beside
the live one and switches atomically.
"""
