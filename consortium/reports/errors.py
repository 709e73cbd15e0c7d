"""The one error of report generation: bad input, said in words a deal-team member
understands (``consortium.reports.services.ReportError`` is this class)."""


class ReportError(ValueError):
    """A report cannot be made as asked (unknown consortium, partner, call or asset, bad
    dates, a position beyond the ledger, a format the kind does not come in...). Nothing
    is stored when it is raised."""
