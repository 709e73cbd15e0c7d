"""The API's read endpoints: projections, as-of views, and the event feed.

- A live read answers from the projection tables; its ``position`` is the projection's
  checkpoint. With ``as_of`` (a business date) and/or ``known_at`` (a recording time) the
  answer is folded from the ledger (``consortium.projections.asof``), and ``position`` is
  the ledger head.
- ``min_position=N``: wait up to one second for the projections to have applied N, else
  ``503`` with ``Retry-After: 1``. A position beyond the ledger's head is refused at once
  (422, ``position-beyond-head``): no wait can reach it.
- Amounts are decimal strings in the row's ``currency`` (see ``read_serializers``).
- The event feed pages by ledger ``position``: ``after`` is always a position, also on a
  consortium's own feed, and ``next_after`` is the last position returned.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import django_filters  # type: ignore[import-untyped]
from django.db.models import QuerySet
from django.http import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from consortium.api import read_serializers as rs
from consortium.api import rendered
from consortium.api.errors import PROBLEM, check_path_ids, problem
from consortium.api.pagination import AssetCursorPagination, SlugCursorPagination
from consortium.api.read_serializers import amount, percent
from consortium.domain.events import consortium_stream_id
from consortium.models import AssetOwnership, FundraisingProgress
from consortium.projections import asof, selectors
from consortium.projections.figures import (
    CallAllocation,
    CapitalCall,
    Ownership,
    PartnerPosition,
    Progress,
)
from consortium.roles import PARTNER_READ, READ, is_partner_only, partner_organisations
from ledger import store
from ledger.projections import runner
from ledger.projections.runner import live_generation

T = TypeVar("T")
WAIT_SECONDS = 1.0
CONSORTIUM_PROJECTION = "consortium"
OWNERSHIP_PROJECTION = "ownership"

# --- shared parameters and responses -------------------------------------------------

SLUG = OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH)
ASSET_ID = OpenApiParameter("id", OpenApiTypes.STR, OpenApiParameter.PATH)
AS_OF = OpenApiParameter(
    "as_of",
    OpenApiTypes.DATE,
    description="Answer as of this business date (events effective on or before it), "
    "folded from the ledger rather than the projection tables.",
)
KNOWN_AT = OpenApiParameter(
    "known_at",
    OpenApiTypes.DATETIME,
    description="Answer as known at this time (events recorded by then), folded from the "
    "ledger. Without a timezone it is read as UTC. An empty value is refused (400).",
)
MIN_POSITION = OpenApiParameter(
    "min_position",
    {"type": "integer", "minimum": 0, "maximum": 2**62},
    description="Wait up to 1 s for the figures to reflect this ledger position (e.g. one "
    "a write returned); else 503 with `Retry-After: 1`. A position beyond the ledger's "
    "head is 422 at once.",
)
VIEW_PARAMS = [AS_OF, KNOWN_AT, MIN_POSITION]
AFTER = OpenApiParameter(
    "after",
    {"type": "integer", "minimum": 0, "maximum": 2**62, "default": 0},
    description="A ledger position (default 0): only events after it. Pass the previous "
    "page's `next_after`.",
)
LIMIT = OpenApiParameter(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
    description="Events per page, 1 to 1000 (default 100).",
)

_PROBLEM_TEXT = {
    400: "Invalid query parameters.",
    401: "No API key, or an unknown, revoked or expired one.",
    403: "The key's role does not allow this read here.",
    404: "No such consortium or asset.",
    422: "`min_position` is beyond the ledger's head (`position-beyond-head`).",
    429: "Too many requests from this client.",
    503: "The projections have not reached `min_position` within 1 s (see `Retry-After`).",
}


def responses(
    body: Any, codes: Iterable[int] = (400, 401, 403, 404, 422, 429, 503)
) -> dict[Any, Any]:
    """A 200 body and the problem+json errors of a read."""
    result: dict[Any, Any] = {(200, "application/json"): body}
    for code in codes:
        result[(code, PROBLEM)] = OpenApiResponse(rs.ProblemSerializer, _PROBLEM_TEXT[code])
    return result


# --- helpers --------------------------------------------------------------------------


class View:
    """The as-of coordinates of one read (None, None: live)."""

    __slots__ = ("as_of", "known_at", "min_position")

    def __init__(
        self, as_of: dt.date | None, known_at: dt.datetime | None, min_position: int | None
    ) -> None:
        self.as_of, self.known_at, self.min_position = as_of, known_at, min_position

    @property
    def folded(self) -> bool:
        return self.as_of is not None or self.known_at is not None

    def header(self, position: int) -> dict[str, Any]:
        return {
            "position": position,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "known_at": self.known_at.isoformat() if self.known_at else None,
        }


def _validated(serializer: type[Serializer[Any]], request: Request) -> dict[str, Any]:
    params = serializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    return dict(params.validated_data)


def _view(request: Request) -> View:
    if not request.query_params:
        return View(None, None, None)
    data = _validated(rs.ReadParams, request)
    return View(data.get("as_of"), data.get("known_at"), data.get("min_position"))


def _not_caught_up(position: int) -> Response:
    response = problem(
        503,
        "Not caught up yet",
        f"The figures have not reached ledger position {position} yet; retry shortly.",
        kind="not-caught-up",
        errors={"min_position": [f"Not reached within {WAIT_SECONDS:g} s."]},
    )
    response["Retry-After"] = "1"
    return response


def _beyond_head(position: int, head: int) -> Response:
    message = (
        f"Ledger position {position} does not exist yet (the head is {head}); ask for a "
        "position a write returned."
    )
    return problem(
        422,
        "Position beyond the head",
        message,
        kind="position-beyond-head",
        errors={"min_position": [message]},
    )


def _reached(view: View, projection: str) -> Response | None:
    """None once the projection has applied ``min_position``; else the answer: 422 if
    the ledger does not have that position, 503 if it was not applied within the wait."""
    if view.min_position is None:
        return None
    head = store.head()
    if view.min_position > head:
        return _beyond_head(view.min_position, head)
    if view.folded or runner.wait_for(view.min_position, names=[projection], timeout=WAIT_SECONDS):
        return None
    return _not_caught_up(view.min_position)


def _position(view: View, projection: str) -> tuple[int, Response | None]:
    """The position the read reflects, after waiting for ``min_position`` (or a 422/503)."""
    waited = _reached(view, projection)
    if waited is not None:
        return 0, waited
    if view.folded:
        return store.head(), None
    return runner.live_state(projection)[0], None


def _single_read(
    view: View,
    projection: str,
    key: tuple[str, str],
    *,
    live: Callable[[int], T | None],
    folded: Callable[[], T | None],
    body: Callable[[T], dict[str, Any]],
    missing: str,
) -> HttpResponseBase:
    """One object of a projection (or 404): ``live(generation)`` from the tables, rendered
    once per projection state (``consortium.api.rendered``), or ``folded()`` as of."""

    def answer(position: int, found: T | None) -> dict[str, Any]:
        if found is None:
            raise _not_found(missing)
        return {**view.header(position), **body(found)}

    if view.folded:
        position, waited = _position(view, projection)
        if waited is not None:
            return waited
        return Response(answer(position, folded()))
    waited = _reached(view, projection)
    if waited is not None:
        return waited
    state = runner.live_state(projection)
    cache_key = (key, state)
    content = rendered.answers.get(cache_key)
    if content is None:
        position, generation = state
        content = rendered.render(answer(position, live(generation)))
        if runner.live_state(projection) == state:  # no catch-up committed meanwhile
            rendered.answers.put(cache_key, content)
    return rendered.json_response(content)


def _not_found(what: str) -> exceptions.NotFound:
    return exceptions.NotFound(f"{what} is not known.")


def progress_row(row: Any) -> dict[str, Any]:
    """A ``ProgressRow`` (or its stored model row) as JSON."""
    c = row.currency
    return {
        "instrument": row.instrument,
        "currency": c,
        "target": amount(row.target_minor, c),
        "deadline": row.deadline.isoformat() if row.deadline else None,
        "indicated": amount(row.indicated_minor, c),
        "soft_circled": amount(row.soft_circled_minor, c),
        "signed": amount(row.signed_minor, c),
        "called": amount(row.called_minor, c),
        "contributed": amount(row.contributed_minor, c),
        "unfunded": amount(row.unfunded_minor, c),
        "outstanding": amount(row.outstanding_minor, c),
        "signed_percent": percent(row.signed_percent),
        "contributed_percent": percent(row.contributed_percent),
        # --- distributions ---
        "distributed": amount(row.distributed_minor, c),
        "net_invested": amount(row.net_invested_minor, c),
        "dpi": percent(row.dpi),
    }


def progress_body(found: Progress) -> dict[str, Any]:
    return {
        "slug": found.slug,
        "name": found.name,
        "currency": found.currency,
        "instruments": [progress_row(r) for r in found.instruments],
        "tranches": [
            {
                "instrument": t.instrument,
                "number": t.number,
                "currency": t.currency,
                "amount": amount(t.amount_minor, t.currency),
                "available_from": t.available_from.isoformat(),
                "cumulative": amount(t.cumulative_minor, t.currency),
                "signed": amount(t.signed_minor, t.currency),
                "contributed": amount(t.contributed_minor, t.currency),
            }
            for t in found.tranches
        ],
        "months": [
            {
                "month": m.month.isoformat(),
                "currency": m.currency,
                "signed": amount(m.signed_minor, m.currency),
                "contributed": amount(m.contributed_minor, m.currency),
            }
            for m in found.months
        ],
    }


def position_body(item: PartnerPosition) -> dict[str, Any]:
    f, c = item.figures, item.figures.currency
    return {
        "organisation_id": f.organisation_id,
        "name": f.name,
        "role": f.role,
        "is_active": f.is_active,
        "currency": c,
        "equity_signed": amount(f.equity_signed_minor, c),
        "asset_contribution_signed": amount(f.asset_contribution_signed_minor, c),
        "corporate_partnership_signed": amount(f.corporate_partnership_signed_minor, c),
        "debt_signed": amount(f.debt_signed_minor, c),
        "debt_drawn": amount(f.debt_drawn_minor, c),
        "called": amount(f.called_minor, c),
        "contributed": amount(f.contributed_minor, c),
        "unfunded": amount(f.unfunded_minor, c),
        "outstanding": amount(f.outstanding_minor, c),
        "overdue": amount(item.overdue_minor, c),
        "equity_share_percent": percent(f.equity_share_percent),
        # --- interest and equalisation ---
        "late_interest_owed": amount(f.late_interest_owed_minor, c),
        "late_interest_waived": amount(f.late_interest_waived_minor, c),
        "equalisation_called": amount(f.equalisation_called_minor, c),
        "equalisation_owed": amount(f.equalisation_owed_minor, c),
        "equalisation_interest_paid": amount(f.equalisation_interest_paid_minor, c),
        "equalisation_interest_received": amount(f.equalisation_interest_received_minor, c),
        # --- distributions ---
        "distributed": amount(f.distributed_minor, c),
        "distributed_capital": amount(f.distributed_capital_minor, c),
        "recallable": amount(f.recallable_minor, c),
        "net_invested": amount(f.net_invested_minor, c),
        "dpi": percent(f.dpi),
    }


def _allocation_body(item: CallAllocation) -> dict[str, Any]:
    a, c = item.figures, item.figures.currency
    return {
        "organisation_id": a.organisation_id,
        "currency": c,
        "amount": amount(a.amount_minor, c),
        "contributed": amount(a.contributed_minor, c),
        "outstanding": amount(a.outstanding_minor, c),
        "status": a.status,
        "due_on": a.due_on.isoformat(),
        "overdue": item.overdue,
    }


def call_body(call: CapitalCall, only: set[str] | None = None) -> dict[str, Any] | None:
    """A call as JSON; narrowed to ``only``'s allocations (and their sums), None if none."""
    f, c = call.figures, call.figures.currency
    parts = list(call.allocations)
    total, contributed, outstanding, overdue = (
        f.amount_minor,
        f.contributed_minor,
        f.outstanding_minor,
        call.overdue,
    )
    if only is not None:
        parts = [p for p in parts if p.figures.organisation_id in only]
        if not parts:
            return None
        total = sum(p.figures.amount_minor for p in parts)
        contributed = sum(p.figures.contributed_minor for p in parts)
        outstanding = sum(p.figures.outstanding_minor for p in parts)
        overdue = any(p.overdue for p in parts)
    return {
        "call_id": f.call_id,
        "currency": c,
        "amount": amount(total, c),
        "due_on": f.due_on.isoformat(),
        "purpose": f.purpose,
        "status": f.status,
        "prepared_by": f.prepared_by,
        "prepared_on": f.prepared_on.isoformat() if f.prepared_on else None,
        "approved_by": f.approved_by,
        "approved_on": f.approved_on.isoformat() if f.approved_on else None,
        "issued_on": f.issued_on.isoformat() if f.issued_on else None,
        "cancelled_on": f.cancelled_on.isoformat() if f.cancelled_on else None,
        "contributed": amount(contributed, c),
        "outstanding": amount(outstanding, c),
        "overdue": overdue,
        "allocations": [_allocation_body(p) for p in parts],
    }


def asset_body(a: Any) -> dict[str, Any]:
    """An ``AssetRow`` (or its stored model row) as JSON."""
    return {
        "asset_id": a.asset_id,
        "sponsor": a.sponsor,
        "kind": a.kind,
        "name": a.name,
        "location": a.location,
        "capacity_mw": format(a.capacity_mw, "f"),
        "currency": a.currency,
        "estimated_cost": amount(a.estimated_cost_minor, a.currency),
        "stakes_percent": percent(a.stakes_percent),
        "look_through_percent": percent(a.look_through_percent),
    }


def ownership_body(found: Ownership) -> dict[str, Any]:
    return {
        "asset": asset_body(found.asset),
        "stakes": [
            {
                "holder_kind": s.holder_kind,
                "holder_id": s.holder_id,
                "percent": percent(s.percent),
                "held_since": s.held_since.isoformat(),
            }
            for s in found.stakes
        ],
        "look_through": [
            {
                "organisation_id": r.organisation_id,
                "direct_percent": percent(r.direct_percent),
                "indirect_percent": percent(r.indirect_percent),
                "total_percent": percent(r.total_percent),
            }
            for r in found.look_through
        ],
    }


def _progress(slug: str, view: View) -> Progress | None:
    if view.folded:
        return asof.progress_as_of(slug, effective_on=view.as_of, known_at=view.known_at)
    return selectors.progress(slug)


def _known_consortium(slug: str, view: View) -> bool:
    if view.folded:
        state = asof.consortium_as_of(slug, effective_on=view.as_of, known_at=view.known_at)
        return state.slug is not None
    return FundraisingProgress.objects.filter(
        generation=live_generation(CONSORTIUM_PROJECTION), consortium=slug
    ).exists()


class ReadView(APIView):
    """A read: a slug or id that cannot name a ledger stream names nothing (404), and is
    refused before the ledger is asked."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        check_path_ids(kwargs)


def _narrowing(request: Request, slug: str) -> set[str] | None:
    """The organisations a partner-only reader may see (None: everything)."""
    if is_partner_only(request.user, slug):
        return partner_organisations(request.user, slug)
    return None


# --- consortia --------------------------------------------------------------------------


class ConsortiumFilter(django_filters.FilterSet):  # type: ignore[misc]
    slug = django_filters.CharFilter(field_name="consortium", help_text="Exact slug.")
    base_currency = django_filters.CharFilter(
        field_name="currency", help_text="ISO 4217 base currency."
    )

    class Meta:
        model = FundraisingProgress
        fields: Sequence[str] = []


def _page(view: View, position: int, paginator: Any, results: list[dict[str, Any]]) -> Response:
    """A cursor-paginated list response, with the view's header (``position`` and so on)."""
    return Response(
        {
            **view.header(position),
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "results": results,
        }
    )


class ConsortiumList(ReadView, generics.GenericAPIView[FundraisingProgress]):
    """Every consortium the projection knows, with its total progress, in slug order."""

    capability = {"GET": READ}
    pagination_class = SlugCursorPagination
    filterset_class = ConsortiumFilter
    serializer_class = rs.ConsortiumListItemSerializer

    def get_queryset(self) -> QuerySet[FundraisingProgress]:
        return FundraisingProgress.objects.filter(
            generation=live_generation(CONSORTIUM_PROJECTION), instrument="total"
        )

    @extend_schema(
        operation_id="consortia_list",
        parameters=VIEW_PARAMS,
        responses=responses(rs.ConsortiumPageSerializer, (400, 401, 403, 422, 429, 503)),
        description="Consortia (cursor-paginated, filterable by `slug` and `base_currency`) "
        "with their total progress. With `as_of`/`known_at`, each consortium on the page is "
        "folded from the ledger, and those not formed in that view are left out.",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        view = _view(request)
        position, waited = _position(view, CONSORTIUM_PROJECTION)
        if waited is not None:
            return waited
        paginator = self.paginator
        assert isinstance(paginator, CursorPagination)
        page = paginator.paginate_queryset(self.filter_queryset(self.get_queryset()), request)
        results = []
        total: Any
        for row in page or []:
            if view.folded:
                found = _progress(row.consortium, view)
                if found is None:
                    continue
                name, currency, total = found.name, found.currency, found.instrument("total")
            else:
                name, currency, total = row.name, row.currency, row
            results.append(
                {
                    "slug": row.consortium,
                    "name": name,
                    "base_currency": currency,
                    "total": progress_row(total),
                }
            )
        return _page(view, position, paginator, results)


class ConsortiumDetail(ReadView):
    capability = {"GET": READ}

    @extend_schema(
        operation_id="consortia_retrieve",
        parameters=[SLUG, *VIEW_PARAMS],
        responses=responses(rs.ConsortiumSerializer),
        description="One consortium: its partners and its progress totals by instrument.",
    )
    def get(self, request: Request, slug: str) -> Response:
        view = _view(request)
        position, waited = _position(view, CONSORTIUM_PROJECTION)
        if waited is not None:
            return waited
        found = _progress(slug, view)
        if found is None:
            raise _not_found(f"The consortium {slug!r}")
        if view.folded:
            partners = asof.positions_as_of(slug, effective_on=view.as_of, known_at=view.known_at)
        else:
            partners = selectors.positions(slug)
        return Response(
            {
                **view.header(position),
                "slug": found.slug,
                "name": found.name,
                "base_currency": found.currency,
                "partners": [
                    {
                        "organisation_id": p.figures.organisation_id,
                        "name": p.figures.name,
                        "role": p.figures.role,
                        "is_active": p.figures.is_active,
                    }
                    for p in partners
                ],
                "total": progress_row(found.instrument("total")),
                "instruments": [progress_row(r) for r in found.instruments],
            }
        )


class ConsortiumProgress(ReadView):
    capability = {"GET": READ}

    @extend_schema(
        operation_id="consortia_progress",
        parameters=[SLUG, *VIEW_PARAMS],
        responses=responses(rs.ProgressSerializer),
        description="Fundraising progress: per instrument, tranche waterfall, month ends.",
    )
    def get(self, request: Request, slug: str) -> HttpResponseBase:
        view = _view(request)
        return _single_read(
            view,
            CONSORTIUM_PROJECTION,
            ("progress", slug),
            live=lambda generation: selectors.progress(slug, generation=generation),
            folded=lambda: _progress(slug, view),
            body=progress_body,
            missing=f"The consortium {slug!r}",
        )


class ConsortiumPositions(ReadView):
    capability = {"GET": PARTNER_READ}

    @extend_schema(
        operation_id="consortia_positions",
        parameters=[SLUG, *VIEW_PARAMS],
        responses=responses(rs.PositionsSerializer),
        description="Every partner's position (withdrawn partners included). A partner "
        "reads only its own organisation's row.",
    )
    def get(self, request: Request, slug: str) -> Response:
        view = _view(request)
        position, waited = _position(view, CONSORTIUM_PROJECTION)
        if waited is not None:
            return waited
        if not _known_consortium(slug, view):
            raise _not_found(f"The consortium {slug!r}")
        if view.folded:
            rows = asof.positions_as_of(slug, effective_on=view.as_of, known_at=view.known_at)
        else:
            rows = selectors.positions(slug)
        only = _narrowing(request, slug)
        if only is not None:
            rows = [r for r in rows if r.figures.organisation_id in only]
        return Response(
            {**view.header(position), "slug": slug, "results": [position_body(r) for r in rows]}
        )


class ConsortiumCalls(ReadView):
    capability = {"GET": PARTNER_READ}

    @extend_schema(
        operation_id="consortia_capital_calls",
        parameters=[SLUG, *VIEW_PARAMS],
        responses=responses(rs.CapitalCallsSerializer),
        description="Every capital call with its allocations. A partner reads only the calls "
        "allocated to it, with only its own allocation (the call's amounts are then its own).",
    )
    def get(self, request: Request, slug: str) -> Response:
        view = _view(request)
        position, waited = _position(view, CONSORTIUM_PROJECTION)
        if waited is not None:
            return waited
        if not _known_consortium(slug, view):
            raise _not_found(f"The consortium {slug!r}")
        if view.folded:
            calls = asof.calls_as_of(slug, effective_on=view.as_of, known_at=view.known_at)
        else:
            calls = selectors.capital_calls(slug)
        only = _narrowing(request, slug)
        bodies = [body for call in calls if (body := call_body(call, only)) is not None]
        return Response({**view.header(position), "slug": slug, "results": bodies})


# --- assets -------------------------------------------------------------------------


class AssetFilter(django_filters.FilterSet):  # type: ignore[misc]
    sponsor = django_filters.CharFilter(help_text="The sponsoring consortium's slug.")
    kind = django_filters.CharFilter()

    class Meta:
        model = AssetOwnership
        fields: Sequence[str] = []


class AssetList(ReadView, generics.GenericAPIView[AssetOwnership]):
    capability = {"GET": READ}
    pagination_class = AssetCursorPagination
    filterset_class = AssetFilter
    serializer_class = rs.AssetSerializer

    def get_queryset(self) -> QuerySet[AssetOwnership]:
        return AssetOwnership.objects.filter(generation=live_generation(OWNERSHIP_PROJECTION))

    @extend_schema(
        operation_id="assets_list",
        parameters=VIEW_PARAMS,
        responses=responses(rs.AssetPageSerializer, (400, 401, 403, 422, 429, 503)),
        description="Assets (cursor-paginated, filterable by `sponsor` and `kind`). With "
        "`as_of`/`known_at`, assets not registered in that view are left out.",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        view = _view(request)
        position, waited = _position(view, OWNERSHIP_PROJECTION)
        if waited is not None:
            return waited
        paginator = self.paginator
        assert isinstance(paginator, CursorPagination)
        page = paginator.paginate_queryset(self.filter_queryset(self.get_queryset()), request)
        results = []
        for row in page or []:
            if view.folded:
                found = asof.ownership_as_of(
                    row.asset_id, effective_on=view.as_of, known_at=view.known_at
                )
                if found is not None:
                    results.append(asset_body(found.asset))
            else:
                results.append(asset_body(row))
        return _page(view, position, paginator, results)


class AssetOwnershipView(ReadView):
    capability = {"GET": READ}

    @extend_schema(
        operation_id="assets_ownership",
        parameters=[ASSET_ID, *VIEW_PARAMS],
        responses=responses(rs.OwnershipSerializer),
        description="Direct stakes and look-through ownership of one asset.",
    )
    def get(self, request: Request, id: str) -> HttpResponseBase:
        view = _view(request)
        return _single_read(
            view,
            OWNERSHIP_PROJECTION,
            ("ownership", id),
            live=lambda generation: selectors.ownership(id, generation=generation),
            folded=lambda: asof.ownership_as_of(
                id, effective_on=view.as_of, known_at=view.known_at
            ),
            body=ownership_body,
            missing=f"The asset {id!r}",
        )


# --- the event feed ---------------------------------------------------------------------


def _event_body(event: store.RecordedEvent) -> dict[str, Any]:
    return {
        "position": event.position,
        "stream": event.stream,
        "version": event.version,
        "type": event.type,
        "schema_version": event.schema_version,
        "data": event.data,
        "metadata": event.metadata,
        "effective_on": event.effective_on.isoformat() if event.effective_on else None,
        "recorded_at": event.recorded_at.isoformat(),
        "hash": event.hash,
    }


def _event_json(event: store.RecordedEvent) -> bytes:
    """The event as rendered JSON, kept by position (events never change)."""
    content = rendered.render(_event_body(event))
    rendered.events.put(event.position, content)
    return content


_DIGITS = re.compile(r"[0-9]{1,18}")


def _feed_params(request: Request) -> tuple[int, int]:
    """``after`` and ``limit``: plain numbers in range are read directly, anything else
    goes through ``FeedParams`` (and its error messages)."""
    query = request.query_params
    after, limit = query.get("after", "0"), query.get("limit", "100")
    if (
        query.keys() <= {"after", "limit"}
        and _DIGITS.fullmatch(after)
        and _DIGITS.fullmatch(limit)
        and 1 <= int(limit) <= 1000
        and len(query.getlist("after")) <= 1
        and len(query.getlist("limit")) <= 1
    ):
        return int(after), int(limit)
    params = _validated(rs.FeedParams, request)
    return params["after"], params["limit"]


def _feed(
    request: Request, read: Callable[[int, int], list[store.RecordedEvent]] | None = None
) -> HttpResponseBase:
    """A page of events after ``after``. On the whole ledger's feed every position up to
    the head exists, so a page of rendered events the process already keeps needs no rows."""
    after, limit = _feed_params(request)
    head = store.head()  # read first: the page never claims more than it saw
    fragments = None
    if read is None and after < head:
        fragments = rendered.events.get_many(range(after + 1, min(after + limit, head) + 1))
    if fragments is not None:
        last = min(after + limit, head)
    else:
        events = (read or (lambda a, n: store.read_all(after=a, limit=n)))(after, limit)
        fragments = [_event_json(e) for e in events]
        last = events[-1].position if events else after
        head = max(head, last)
    content = b"".join(
        (
            b'{"results":[',
            b",".join(fragments),
            b'],"next_after":%d,"head":%d}' % (last, head),
        )
    )
    return rendered.json_response(content)


class EventFeed(ReadView):
    capability = {"GET": READ}

    @extend_schema(
        operation_id="events_list",
        parameters=[AFTER, LIMIT],
        responses=responses(rs.EventPageSerializer, (400, 401, 403, 429)),
        description="Every event of the ledger in position order, `limit` at a time after "
        "`after`. A client that follows `next_after` sees every event exactly once.",
    )
    def get(self, request: Request) -> HttpResponseBase:
        return _feed(request)


class ConsortiumEventFeed(ReadView):
    capability = {"GET": READ}

    @extend_schema(
        operation_id="consortia_events",
        parameters=[SLUG, AFTER, LIMIT],
        responses=responses(rs.EventPageSerializer, (400, 401, 403, 404, 429)),
        description="The consortium's own stream, paged like `events/`: `after` and "
        "`next_after` are ledger positions here too.",
    )
    def get(self, request: Request, slug: str) -> HttpResponseBase:
        _feed_params(request)
        stream = consortium_stream_id(slug)
        if not store.stream_exists(stream):
            raise _not_found(f"The consortium {slug!r}")

        def read(after: int, limit: int) -> list[store.RecordedEvent]:
            return store.read_stream(stream, after_position=after, limit=limit)

        return _feed(request, read)
