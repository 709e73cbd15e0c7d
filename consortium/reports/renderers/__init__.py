"""The renderers of a report ``Document``, one module per format (``xlsx``, ``csv``, ``html``,
``pdf``), with the cell formatting (``cells``) and the SVG chart writer (``svg``) they share.

Callers use ``consortium.reports.rendering.render``; nothing here does arithmetic on the
figures, reads the clock, the machine's fonts or its locale.
"""
