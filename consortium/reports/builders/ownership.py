"""The ownership of one asset: its facts, its holders direct and look-through, as of the
report date at one ledger position (``asof.ownership_as_of``, the API's
``GET /api/v1/assets/<id>/ownership/?as_of=...`` in figures)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from consortium.domain.vocabulary import label
from consortium.projections import asof
from consortium.reports.builders.common import amount, anchor_note, file_part, percent
from consortium.reports.document import Anchor, Column, Document, Fact, Section, Table
from consortium.reports.errors import ReportError


def build_ownership(asset_id: str, anchor: Anchor, report_date: dt.date) -> Document:
    owned = asof.ownership_as_of(asset_id, effective_on=report_date, upto_position=anchor.position)
    if owned is None:
        raise ReportError(
            f"No asset {asset_id!r} was registered by {report_date.isoformat()} in the "
            f"ledger up to position {anchor.position}."
        )
    a = owned.asset
    facts = Section(
        "Asset",
        "Asset",
        facts=(
            Fact("Asset", a.asset_id),
            Fact("Name", a.name),
            Fact("Kind", label(a.kind)),
            Fact("Sponsor", a.sponsor),
            Fact("Location", a.location),
            Fact("Capacity (MW)", f"{a.capacity_mw:f}"),
            Fact("Estimated cost", amount(a.estimated_cost_minor, a.currency)),
        ),
    )
    stakes = Section(
        "Direct stakes",
        "Stakes",
        table=Table(
            columns=(
                Column("Holder kind"),
                Column("Holder"),
                Column("Stake", "percent"),
                Column("Held since", "date"),
            ),
            rows=tuple(
                (s.holder_kind, s.holder_id, percent(s.percent), s.held_since) for s in owned.stakes
            ),
            total=("Total", None, percent(a.stakes_percent), None),
        ),
    )
    rows = owned.look_through
    look_through = Section(
        "Look-through ownership",
        "Look-through",
        paragraphs=(
            "An organisation's effective share: its direct stake plus, for each consortium "
            "holding a stake, its share of that consortium's signed equity times the "
            "consortium's stake (rounded to 4 places so that the rows add up to the total).",
        ),
        table=Table(
            columns=(
                Column("Organisation"),
                Column("Direct", "percent"),
                Column("Via consortia", "percent"),
                Column("Effective share", "percent"),
            ),
            rows=tuple(
                (
                    r.organisation_id,
                    percent(r.direct_percent),
                    percent(r.indirect_percent),
                    percent(r.total_percent),
                )
                for r in rows
            ),
            total=(
                "Total",
                percent(sum((r.direct_percent for r in rows), Decimal(0))),
                percent(sum((r.indirect_percent for r in rows), Decimal(0))),
                percent(a.look_through_percent),
            ),
        ),
    )
    return Document(
        kind="ownership",
        name=f"ownership-{file_part(asset_id)}-{report_date.isoformat()}",
        title=f"Asset ownership: {a.name}",
        subtitle=f"As of {report_date.isoformat()}",
        consortium=a.sponsor,
        report_date=report_date,
        anchor=anchor,
        parameters=(Fact("Asset", f"{a.name} ({asset_id})"),),
        sections=(facts, stakes, look_through),
        notes=(anchor_note(anchor, report_date),),
    )
