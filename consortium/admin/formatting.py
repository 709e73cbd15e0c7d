"""The workspace's way of writing figures is ``consortium.formatting``, shared with the
reports' narration; this name stays so that workspace code may import it from the admin."""

from consortium.formatting import MISSING, exact, exact_minor, iso, percent, summary, summary_minor

__all__ = ["MISSING", "exact", "exact_minor", "iso", "percent", "summary", "summary_minor"]
