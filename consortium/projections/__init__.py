"""The consortium read side: four projections, their selectors and the as-of views.

- ``fundraising`` (``FundraisingProjection``): progress per consortium and instrument,
  tranches, monthly series.
- ``positions`` (``PositionsProjection``): per consortium and partner.
- ``capital_calls`` (``CapitalCallsProjection``): per call and allocation.
- ``ownership`` (``OwnershipProjection``): per asset, stakes and look-through.

Read them with ``consortium.projections.selectors``; ask "as of" a date or "as known at" a
time with ``consortium.projections.asof``. Importing this package registers the
projections (``ConsortiumConfig.ready`` does).
"""

from consortium.projections.capital_calls import CapitalCallsProjection
from consortium.projections.fundraising import FundraisingProjection
from consortium.projections.ownership import OwnershipProjection
from consortium.projections.positions import PositionsProjection
from ledger.projections import registry

PROJECTIONS = (
    FundraisingProjection,
    PositionsProjection,
    CapitalCallsProjection,
    OwnershipProjection,
)
NAMES = tuple(p.name for p in PROJECTIONS)

for _projection in PROJECTIONS:
    registry.register(_projection())

__all__ = [
    "NAMES",
    "PROJECTIONS",
    "CapitalCallsProjection",
    "FundraisingProjection",
    "OwnershipProjection",
    "PositionsProjection",
]
