"""The ledger: an append-only, hash-chained event store and its projection machinery.

A reusable Django app: it knows nothing of consortia. The public API is ``ledger.store``.
"""
