"""The consortium read side: four projections, their selectors and the as-of views.

- ``consortium`` (``ConsortiumProjection``): one fold of each consortium stream writes
  four groups of tables: fundraising progress per instrument, tranches and monthly
  series (``fundraising``); positions per partner (``positions``); capital calls and
  their allocations (``capital_calls``); debt facilities (``facilities``).
- ``ownership`` (``OwnershipProjection``): per asset, stakes and look-through.

Read them with ``consortium.projections.selectors``; ask "as of" a date or "as known at" a
time with ``consortium.projections.asof``. Importing this package registers the
projections (``ConsortiumConfig.ready`` does).
"""

from consortium.projections.ownership import OwnershipProjection
from consortium.projections.read_models import ConsortiumProjection
from ledger.projections import registry

PROJECTIONS = (ConsortiumProjection, OwnershipProjection)
NAMES = tuple(p.name for p in PROJECTIONS)

for _projection in PROJECTIONS:
    registry.register(_projection())

__all__ = ["NAMES", "PROJECTIONS", "ConsortiumProjection", "OwnershipProjection"]
