"""Scheduled reports: figures computed once at a ledger position, rendered per format,
stored with their anchor, and delivered.

- ``document``: the format-free report a builder makes and every renderer reads;
- ``builders``: the figures of each kind at one position (progress pack, partner
  statement, capital call notice, asset ownership);
- ``rendering``: XLSX, CSV, HTML and PDF from a document (no arithmetic);
- ``services``: generate and store reports (``generate_reports``);
- ``schedules``, ``delivery``, ``notices``, ``tasks``: when they are made and who gets them.
"""
