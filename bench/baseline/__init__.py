"""Bench-only baselines for ``bench/api.py``: never installed by the service's settings.

- ``GET /bench/trivial/``: the cheapest authenticated DRF endpoint (one key lookup, a
  constant answer), fixed here so the baseline does not move when ``whoami`` does.
- ``POST /bench/consortia/<slug>/commitments/``: a plain DRF create of one row through a
  ``ModelSerializer``, with the API's authentication, role check and throttle: what a
  commitment would cost as ordinary CRUD, to hold the event-sourced write against.
"""
