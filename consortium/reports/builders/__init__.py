"""Report builders: the figures of each kind of report at one ledger position, as a
``Document`` (``consortium.reports.document``) every renderer lays out.

Every builder takes the anchor (position and chain hash) and the report date and folds
the ledger through ``consortium.projections.asof`` with ``upto_position`` = the anchor's
position and ``effective_on`` (and ``today``, for overdue) = the report date, through the
same row functions the API's progress, positions and ownership answer with: the reports
and the API reconcile by construction. Nothing here reads the clock; all arithmetic is
done here, on exact minor units, never in a renderer.

- ``progress``: ``build_progress`` (a consortium's fundraising progress pack);
- ``statements``: ``build_statements`` (partner statements for a period, one run for
  any number of partners: two folds, not two per partner);
- ``notices``: ``build_notices`` (capital call notices, one fold per call);
- ``ownership``: ``build_ownership`` (an asset's holders, direct and look-through).
"""

from consortium.reports.builders.notices import NO_INSTRUCTIONS, PaymentDetails, build_notices
from consortium.reports.builders.ownership import build_ownership
from consortium.reports.builders.progress import build_progress
from consortium.reports.builders.statements import build_statements

__all__ = [
    "NO_INSTRUCTIONS",
    "PaymentDetails",
    "build_notices",
    "build_ownership",
    "build_progress",
    "build_statements",
]
