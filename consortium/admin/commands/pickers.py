"""What a command form offers to pick, read from the current folded state of the stream
it writes (``consortium.streams``), never from projections, which may lag: partners,
commitments, calls in the states a command accepts, contributions, facilities, assets
and holders; and suggested ids for new things.

Only the lists of consortia and of assets come from the ledger itself, from their
formation and registration events (``consortium.streams.formed_consortia`` and
``registered_assets``): no state holds
them, and the projections that do may be behind.
"""

from collections.abc import Collection

from consortium import formatting
from consortium.domain.state import AssetState, CallState, ConsortiumState
from consortium.domain.values import Holder
from consortium.domain.vocabulary import CallStatus, label
from consortium.streams import formed_consortia, load_asset, load_consortium, registered_assets

Choices = list[tuple[str, str]]


def consortium_slugs() -> list[str]:
    """Every formed consortium's slug, sorted."""
    return sorted(formed_consortia())


def asset_ids(sponsor: str | None = None) -> list[str]:
    """Every registered asset's id (those ``sponsor`` sponsors, if given), sorted."""
    return sorted(registered_assets(None if sponsor is None else [sponsor]))


def names(state: ConsortiumState) -> dict[str, str]:
    """Display names by organisation id (and the consortium's own, by slug)."""
    found = {org: partner.name for org, partner in state.partners.items()}
    if state.slug:
        found[state.slug] = state.name
    return found


def _money(minor: int, currency: str) -> str:
    return formatting.exact_minor(minor, currency)


def partners(state: ConsortiumState, *, active: bool = True) -> Choices:
    return [
        (org, f"{p.name} ({org}, {label(p.role)})")
        for org, p in sorted(state.partners.items(), key=lambda item: item[1].name.lower())
        if p.is_active or not active
    ]


def commitments(state: ConsortiumState) -> Choices:
    """Commitments not withdrawn."""
    who = names(state)
    return [
        (
            cid,
            f"{cid}: {who.get(c.organisation_id, c.organisation_id)}, {label(c.instrument)} "
            f"{_money(c.amount_minor, c.currency)}, {label(c.stage)}",
        )
        for cid, c in sorted(state.commitments.items())
        if c.stage != "withdrawn"
    ]


def _call_label(call: CallState, currency: str) -> str:
    return (
        f"{call.call_id}: {_money(call.amount_minor, currency)} due {formatting.iso(call.due_on)}, "
        f"{call.status}, prepared by {call.prepared_by}"
    )


def calls(state: ConsortiumState, statuses: Collection[CallStatus]) -> Choices:
    """Calls in one of ``statuses``, by the date they were prepared."""
    chosen = sorted(
        (c for c in state.calls.values() if c.status in statuses),
        key=lambda c: (c.prepared_on, c.call_id),
    )
    return [(c.call_id, _call_label(c, state.base_currency)) for c in chosen]


def calls_owed(state: ConsortiumState) -> Choices:
    """Issued calls on which some partner still owes something (issued or partly paid)."""
    owing = [
        c
        for c in state.calls.values()
        if c.status == "issued" and any(c.owed_minor(org) > 0 for org in c.allocations)
    ]
    owing.sort(key=lambda c: (c.due_on, c.call_id))
    who = names(state)

    def owed(call: CallState) -> str:
        return ", ".join(
            f"{who.get(org, org)} {_money(call.owed_minor(org), state.base_currency)}"
            for org in sorted(call.allocations)
            if call.owed_minor(org) > 0
        )

    return [
        (
            c.call_id,
            f"{c.call_id}: {formatting.summary_minor(c.amount_minor, state.base_currency)} due "
            f"{formatting.iso(c.due_on)}; owed: {owed(c)}",
        )
        for c in owing
    ]


def contributions(state: ConsortiumState) -> Choices:
    """Contributions not reversed."""
    who = names(state)
    return [
        (
            cid,
            f"{cid}: {who.get(c.organisation_id, c.organisation_id)} "
            f"{_money(c.amount_minor, state.base_currency)} on {c.call_id}, received "
            f"{formatting.iso(c.received_on)}",
        )
        for cid, c in sorted(state.contributions.items())
        if c.reversed_on is None
    ]


def facilities(state: ConsortiumState, *, drawn_only: bool = False) -> Choices:
    """Debt facilities (only those with something drawn and not repaid, if asked)."""
    who = names(state)
    return [
        (
            fid,
            f"{fid}: {who.get(f.lender, f.lender)}, {_money(f.amount_minor, f.currency)}, "
            f"available {_money(f.available_minor, f.currency)}, outstanding "
            f"{_money(f.outstanding_minor, f.currency)}",
        )
        for fid, f in sorted(state.facilities.items())
        if not drawn_only or f.outstanding_minor > 0
    ]


def currencies(state: ConsortiumState) -> Choices:
    """The base currency first, then those with a recorded rate."""
    return [(code, code) for code in [state.base_currency, *sorted(state.fx_rates)]]


def assets(sponsor: str) -> Choices:
    """Assets ``sponsor`` sponsors (each read from its own stream)."""
    found = []
    for asset_id in asset_ids(sponsor):
        asset = load_asset(asset_id).state
        found.append(
            (asset_id, f"{asset.name} ({asset_id}, {formatting.percent(asset.total_percent)} held)")
        )
    return found


def holder_value(holder: Holder) -> str:
    return f"{holder.kind}:{holder.id}"


def every_holder() -> Choices:
    """Every consortium, and every organisation partner of one, as stake holders."""
    consortia: Choices = []
    organisations: dict[str, str] = {}
    for slug in consortium_slugs():
        state = load_consortium(slug).state
        consortia.append((f"consortium:{slug}", f"Consortium: {state.name} ({slug})"))
        for org, partner in state.partners.items():
            organisations.setdefault(org, partner.name)
    orgs = sorted(organisations.items(), key=lambda item: item[1].lower())
    return consortia + [(f"organisation:{org}", f"Organisation: {n} ({org})") for org, n in orgs]


def holders_of(asset: AssetState, every: Choices | None = None) -> Choices:
    """The asset's current holders, with what each holds (named from ``every``, the
    result of ``every_holder``, when the caller has it)."""
    known = dict(every if every is not None else every_holder())
    return [
        (
            holder_value(holder),
            f"{known.get(holder_value(holder), str(holder))}: holds {formatting.percent(percent)}",
        )
        for holder, percent in sorted(asset.holdings.items())
    ]


def suggest_id(prefix: str, taken: Collection[str]) -> str:
    """``<prefix>-<n>``: the first n from one more than those taken that is free."""
    number = len(taken) + 1
    while f"{prefix}-{number}" in taken:
        number += 1
    return f"{prefix}-{number}"


# --- interest and equalisation ---------------------------------------------------------


def late_interest(state: ConsortiumState, *, proposed: bool) -> Choices:
    """Late-payment interest still owed: with a waiver proposed (``proposed``) or without."""
    who = names(state)
    return [
        (
            cid,
            f"{cid}: {who.get(c.organisation_id, c.organisation_id)} owes "
            f"{_money(c.amount_minor, state.base_currency)} interest"
            + (f", waiver proposed by {c.waiver_proposed_by}" if c.waiver_proposed_by else ""),
        )
        for cid, c in sorted(state.late_interest.items())
        if c.is_owed and (c.waiver_proposed_by is not None) == proposed
    ]


def equalisation_drafts(state: ConsortiumState) -> Choices:
    """Equalisation calls prepared and not yet approved."""
    who = names(state)
    return [
        (
            cid,
            f"{cid}: {who.get(e.organisation_id, e.organisation_id)} "
            f"{_money(e.amount_minor, state.base_currency)} + "
            f"{_money(e.interest_minor, state.base_currency)} interest, due "
            f"{formatting.iso(e.due_on)}, prepared by {e.prepared_by}",
        )
        for cid, e in sorted(state.equalisations.items())
        if e.approved_on is None
    ]


# --- distributions ---


def held_assets(slug: str) -> Choices:
    """Every registered asset (proceeds may come from one the consortium no longer
    holds, or does not sponsor: the service checks the stake)."""
    found = []
    for asset_id in asset_ids():
        asset = load_asset(asset_id).state
        held = asset.holdings.get(Holder.consortium(slug))
        note = f"{formatting.percent(held)} held" if held is not None else "no stake held now"
        found.append((asset_id, f"{asset.name} ({asset_id}, {note})"))
    return found


def distributions(state: ConsortiumState, statuses: Collection[str]) -> Choices:
    """Distributions in one of ``statuses``, by the date they were prepared."""
    chosen = sorted(
        (d for d in state.distributions.values() if d.status in statuses),
        key=lambda d: (d.prepared_on, d.distribution_id),
    )
    return [
        (
            d.distribution_id,
            f"{d.distribution_id}: {_money(d.amount_minor, state.base_currency)} "
            f"({label(d.kind)}), {d.status}, prepared by {d.prepared_by}",
        )
        for d in chosen
    ]
