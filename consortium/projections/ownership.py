"""``ownership``: per asset, direct stakes and look-through ownership per organisation.

Look-through depends on the signed equity of every consortium holding a stake, so this
projection folds asset streams and the consortium events that change signed equity. At
the end of a batch it recomputes the assets the batch touched, and the assets held by a
consortium the batch touched. An asset's rows reflect (``position``) the latest of its
own last event and the last signed-equity event of each consortium holding a stake.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from django.db import connection

from consortium.domain.events import (
    ASSET_STREAM_PREFIX,
    CommitmentAmended,
    CommitmentRecorded,
    CommitmentStageAdvanced,
    ConsortiumFormed,
    PartnerAdmitted,
    asset_stream_id,
    consortium_stream_id,
)
from consortium.models import AssetLookThrough, AssetOwnership, AssetStake
from consortium.projections.cache import StreamStates
from consortium.projections.common import ASSET_TYPES, asset_of, row_values, slug_of
from consortium.projections.figures import (
    AssetTracker,
    StateTracker,
    consortium_holders,
    ownership_of,
    signed_equity_of,
)
from ledger.projections.base import Keys, Projection, ProjectionRow, replace_rows
from ledger.store import RecordedEvent

# What signed equity by partner needs from a consortium stream.
SIGNED_EQUITY_TYPES = frozenset(
    cls.TYPE
    for cls in (
        ConsortiumFormed,
        PartnerAdmitted,
        CommitmentRecorded,
        CommitmentStageAdvanced,
        CommitmentAmended,
    )
)


class OwnershipProjection(Projection):
    name: ClassVar[str] = "ownership"
    event_types: ClassVar[frozenset[str] | None] = ASSET_TYPES | SIGNED_EQUITY_TYPES
    models: ClassVar[tuple[type[ProjectionRow], ...]] = (
        AssetOwnership,
        AssetStake,
        AssetLookThrough,
    )

    def __init__(self) -> None:
        self.assets: StreamStates[AssetTracker] = StreamStates(
            AssetTracker, ASSET_TYPES, contiguous=True
        )
        # Only the signed-equity events of a consortium stream: versions have gaps.
        self.consortia: StreamStates[StateTracker] = StreamStates(
            StateTracker, SIGNED_EQUITY_TYPES, contiguous=False
        )

    def forget(self) -> None:
        self.assets.clear()
        self.consortia.clear()

    def apply(self, events: Sequence[RecordedEvent], *, generation: int, after: int) -> None:
        every = self.event_types or ()
        self.assets.begin(generation, after, every)
        self.consortia.begin(generation, after, every)
        touched_assets: set[str] = set()
        touched_consortia: set[str] = set()
        for event in events:
            if event.stream.startswith(ASSET_STREAM_PREFIX):
                self.assets.apply(event)
                touched_assets.add(asset_of(event.stream))
            else:
                self.consortia.apply(event)
                touched_consortia.add(slug_of(event.stream))
        if not events:
            return
        upto = events[-1].position
        self.assets.end(upto)
        self.consortia.end(upto)
        if touched_consortia:
            touched_assets.update(_held_by(sorted(touched_consortia), generation))
        self.write(sorted(touched_assets), generation, upto)

    def write(self, asset_ids: list[str], generation: int, upto: int) -> None:
        assets: list[dict[str, Any]] = []
        stakes: list[dict[str, Any]] = []
        look_through: list[dict[str, Any]] = []
        for asset_id in asset_ids:
            entry = self.assets.get(asset_stream_id(asset_id), upto)
            signed: dict[str, dict[str, int]] = {}
            position = entry.position
            for slug in consortium_holders(entry.tracker.state):
                holder = self.consortia.get(consortium_stream_id(slug), upto)
                signed[slug] = signed_equity_of(holder.tracker.state)
                position = max(position, holder.position)
            result = ownership_of(entry.tracker.state, signed)
            if result is None:
                continue
            common: dict[str, Any] = {
                "generation": generation,
                "position": position,
                "asset_id": asset_id,
            }
            assets.append(row_values(result.asset, generation=generation, position=position))
            stakes.extend(row_values(row, **common) for row in result.stakes)
            look_through.extend(row_values(row, **common) for row in result.look_through)
        keys = [(asset_id,) for asset_id in asset_ids]
        replace_rows(
            generation,
            [
                Keys(AssetOwnership, ("asset_id",), keys),
                Keys(AssetStake, ("asset_id",), keys),
                Keys(AssetLookThrough, ("asset_id",), keys),
            ],
            [(AssetOwnership, assets), (AssetStake, stakes), (AssetLookThrough, look_through)],
        )


def _held_by(slugs: list[str], generation: int) -> list[str]:
    """The assets in which any of the consortia ``slugs`` holds a stake (in ``generation``).

    Plain SQL: every catch-up round after a commitment asks this, and building the ORM
    query cost more than running it.
    """
    table = connection.ops.quote_name(AssetStake._meta.db_table)
    holders = ", ".join(["%s"] * len(slugs))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT asset_id FROM {table} WHERE generation = %s "  # noqa: S608
            f"AND holder_kind = 'consortium' AND holder_id IN ({holders})",
            [generation, *slugs],
        )
        return [row[0] for row in cursor.fetchall()]
