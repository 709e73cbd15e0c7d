"""Workspace room: the history, the ledger read like a journal (newest first, in words).

- ``admin:workspace-journal``: who, when recorded, effective date, what happened (in the
  words of ``consortium.admin.narration``) and the stream, newest first, filtered by GET
  ``consortium``, ``type``, ``partner``, ``actor``, ``effective_from``/``effective_to``,
  ``recorded_from``/``recorded_to`` and a search box ``q``; paged by position
  (``before``/``after``), never counted.
- ``admin:workspace-event`` [position]: one event's raw data, metadata, hash and
  prev_hash, with the stream's previous and next events.

Who sees what (``event_scope``): a superuser everything; a READ grant in every
consortium (deal team, finance, auditor) every stream but ``access`` (users, grants and
API clients: superusers only); a READ grant in some consortia only those consortia's
streams and the streams of the assets they sponsor. The ledger's raw ``EventAdmin`` asks
the same question through the workspace site (``site.Workspace.event_scope``).

The consortium filter covers the consortium's own stream and the streams of the assets
it sponsors (an asset's stream holds every stake in it, whoever the holder). The partner
filter keeps the events that name the organisation (admitted, role, withdrawal,
commitments, contributions, facilities it lends, its direct stakes) and those of its
commitments and contributions and the calls issued with a share for it (ids found in
the folded consortium states): JSON key lookups that read the same on SQLite and
PostgreSQL.

Cost does not grow with the ledger: a page is one keyset query on position (``ORDER BY
position DESC LIMIT 51``, no OFFSET, no COUNT), which PostgreSQL answers by walking the
primary key backwards (or the ``(type, position)`` index for a type filter) and stopping at
the page's end. Recorded dates become position bounds by bisection on the primary key, as
``recorded_at`` never decreases with position (the append lock reads the clock). The
filters no index serves (partner, actor, effective dates, search) read at most ``WINDOW``
positions a page, a range of the primary key; a short or empty page links on to the next
window, so a rare match costs more clicks, never a scan of the whole ledger.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from unfold.widgets import INPUT_CLASSES, SELECT_CLASSES

from consortium import roles
from consortium.access_log import EVENT_TYPE as ACCESS_CHANGED
from consortium.access_log import STREAM as ACCESS_STREAM
from consortium.domain.events import (
    ASSET_STREAM_PREFIX,
    CONSORTIUM_STREAM_PREFIX,
    EVENT_TYPES,
    CapitalCallIssued,
)
from consortium.narration import describe, names_for, type_words
from consortium.projections.common import slug_of
from consortium.streams import formed_consortia, load_consortium, registered_assets
from ledger.models import Event
from ledger.store import RecordedEvent, head
from ledger.upcasting import upcast

PAGE = 50
# Positions one page reads at most when a filter no index serves is on (partner, actor,
# effective dates, search): bounds a page's cost whatever the ledger's length.
WINDOW = 10_000
COLUMNS = (
    "position",
    "stream",
    "version",
    "type",
    "schema_version",
    "data",
    "metadata",
    "effective_on",
    "recorded_at",
    "prev_hash",
    "hash",
)


# --- who sees which streams --------------------------------------------------------------


def readable_consortia(user: Any, formed: Collection[str] | None = None) -> list[str]:
    """Slugs of the consortia whose history the user may read (of ``formed``, the slugs
    of every consortium formed, when the caller has read them already)."""
    slugs = sorted(formed_consortia() if formed is None else formed)
    if getattr(user, "is_superuser", False):
        return slugs
    return roles.visible_consortia(user, slugs, roles.READ)


def streams_of(slugs: list[str]) -> list[str]:
    """The consortia's streams and the streams of the assets they sponsor."""
    assets = [f"{ASSET_STREAM_PREFIX}{asset_id}" for asset_id in registered_assets(slugs)]
    return [f"{CONSORTIUM_STREAM_PREFIX}{slug}" for slug in slugs] + sorted(assets)


def event_scope(user: Any) -> Q | None:
    """The events the user may read, as a filter on the ledger; None: none at all."""
    if not roles.may_use_workspace(user):
        return None
    if user.is_superuser:
        return Q()
    if roles.has_capability(user, roles.READ, None):
        return ~Q(stream=ACCESS_STREAM)
    slugs = readable_consortia(user)
    return Q(stream__in=streams_of(slugs)) if slugs else None


# --- filters -----------------------------------------------------------------------------


def _text(placeholder: str) -> forms.TextInput:
    return forms.TextInput(attrs={"class": " ".join(INPUT_CLASSES), "placeholder": placeholder})


def _date() -> forms.DateInput:
    """Typed as ISO, as every page writes dates (a browser's picker shows its locale's)."""
    attrs = {"class": " ".join(INPUT_CLASSES), "placeholder": "YYYY-MM-DD", "inputmode": "numeric"}
    return forms.DateInput(attrs=attrs, format="%Y-%m-%d")


def _select() -> forms.Select:
    return forms.Select(attrs={"class": " ".join(SELECT_CLASSES)})


class JournalFilters(forms.Form):
    q = forms.CharField(required=False, max_length=200, widget=_text("Search ids, names, text"))
    consortium = forms.ChoiceField(required=False, widget=_select())
    type = forms.ChoiceField(required=False, widget=_select())
    partner = forms.ChoiceField(required=False, widget=_select())
    actor = forms.CharField(required=False, max_length=150, widget=_text("Username"))
    effective_from = forms.DateField(required=False, widget=_date())
    effective_to = forms.DateField(required=False, widget=_date())
    recorded_from = forms.DateField(required=False, widget=_date())
    recorded_to = forms.DateField(required=False, widget=_date())

    def __init__(
        self, data: Any, consortia: dict[str, str], partners: dict[str, str], superuser: bool
    ) -> None:
        super().__init__(data)
        types = sorted(EVENT_TYPES) + ([ACCESS_CHANGED] if superuser else [])
        choices = {
            "consortium": [("", "All consortia"), *sorted(consortia.items())],
            "type": [("", "All types"), *((t, type_words(t)) for t in types)],
            "partner": [
                ("", "All partners"),
                *((org, f"{name} ({org})") for org, name in sorted(partners.items())),
            ],
        }
        for name, options in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = options


def partners_of(slugs: list[str]) -> dict[str, str]:
    """Every partner of the consortia ``slugs``: organisation id -> name (folded states)."""
    partners: dict[str, str] = {}
    for slug in slugs:
        for org, partner in load_consortium(slug).state.partners.items():
            partners.setdefault(org, partner.name)
    return partners


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def first_position_recorded_from(moment: dt.datetime) -> int:
    """The first position recorded at or after ``moment`` (head + 1 if none): bisection on
    the primary key, as ``recorded_at`` never decreases with position (no gaps either)."""
    low, high = 1, head() + 1
    while low < high:
        middle = (low + high) // 2
        at = Event.objects.filter(position=middle).values_list("recorded_at", flat=True).first()
        if at is not None and at >= moment:
            high = middle
        else:
            low = middle + 1
    return low


def partner_filter(organisation_id: str, slugs: list[str]) -> Q:
    """Events that name the organisation, or concern its commitments, contributions and
    the calls issued with a share for it (in the consortia ``slugs``)."""
    org = organisation_id
    named = (
        Q(data__organisation_id=org)
        | Q(data__lender=org)
        | Q(data__holder__kind="organisation", data__holder__id=org)
        | Q(data__from_holder__kind="organisation", data__from_holder__id=org)
        | Q(data__to_holder__kind="organisation", data__to_holder__id=org)
    )
    for slug in slugs:
        state = load_consortium(slug).state
        stream = f"{CONSORTIUM_STREAM_PREFIX}{slug}"
        commitments = [c for c, v in state.commitments.items() if v.organisation_id == org]
        contributions = [c for c, v in state.contributions.items() if v.organisation_id == org]
        calls = [c for c, v in state.calls.items() if v.allocations.get(org, 0) > 0]
        if commitments:
            named |= Q(stream=stream, data__commitment_id__in=commitments)
        if contributions:
            named |= Q(stream=stream, data__contribution_id__in=contributions)
        if calls:
            named |= Q(stream=stream, type=CapitalCallIssued.TYPE, data__call_id__in=calls)
    return named


@dataclass(frozen=True)
class Selection:
    """The filtered events, the positions they can lie within (inclusive), and whether a
    filter no index serves is on, so that a page reads a bounded window of positions."""

    events: QuerySet[Event]
    low: int
    high: int
    windowed: bool


def filtered(slugs: list[str], cleaned: dict[str, Any], scope: Q) -> Selection:
    """The events of ``scope`` (the user's; ``slugs``, the consortia the user may read)
    narrowed by the filters (unordered, unsliced)."""
    events = Event.objects.filter(scope)
    low, high = 1, head()
    if cleaned.get("consortium"):
        slugs = [cleaned["consortium"]]
        events = events.filter(stream__in=streams_of(slugs))
    if cleaned.get("type"):
        events = events.filter(type=cleaned["type"])
    if cleaned.get("recorded_from"):
        low = first_position_recorded_from(_day_start(cleaned["recorded_from"]))
    if cleaned.get("recorded_to"):
        day_after = _day_start(cleaned["recorded_to"] + dt.timedelta(days=1))
        high = first_position_recorded_from(day_after) - 1
    # No index serves these: each page reads at most WINDOW positions (see ``page``).
    unindexed = Q()
    if cleaned.get("partner"):
        unindexed &= partner_filter(cleaned["partner"], slugs)
    if cleaned.get("actor"):
        unindexed &= Q(metadata__actor=cleaned["actor"].strip())
    if cleaned.get("effective_from"):
        unindexed &= Q(effective_on__gte=cleaned["effective_from"])
    if cleaned.get("effective_to"):
        unindexed &= Q(effective_on__lte=cleaned["effective_to"])
    if cleaned.get("q"):
        unindexed &= _search(cleaned["q"].strip())
    return Selection(events.filter(unindexed), low, high, bool(unindexed))


def _search(text: str) -> Q:
    """A position, or text in the type, stream, actor or data (ids, names, references)."""
    found = (
        Q(type__icontains=text)
        | Q(stream__icontains=text)
        | Q(metadata__actor__icontains=text)
        | Q(data__icontains=text)
    )
    digits = text.removeprefix("#")
    if digits.isdigit():
        found |= Q(position=int(digits))
    return found


# --- reading rows ------------------------------------------------------------------------


def to_recorded(row: tuple[Any, ...]) -> RecordedEvent:
    """A row of ``COLUMNS`` as the store reads it (upcast to the current shape)."""
    position, stream, version, kind, schema, data, metadata, effective, at, prev, hash_ = row
    kind, schema, data = upcast(kind, schema, data)
    return RecordedEvent(
        position, stream, version, kind, schema, data, metadata, effective, at, prev, hash_
    )


@dataclass(frozen=True)
class Line:
    """One journal row."""

    event: RecordedEvent
    sentence: str
    actor: str
    source: str


@dataclass(frozen=True)
class Page:
    """Up to PAGE events, newest first; ``older``/``newer``: the position to page from
    (``before``/``after``), None at either end; ``searched``: the window read, if any."""

    events: list[RecordedEvent]
    older: int | None
    newer: int | None
    searched: tuple[int, int] | None


def page(selection: Selection, *, before: int | None, after: int | None) -> Page:
    """One page by position (keyset: no OFFSET, no COUNT). With an unindexed filter only
    WINDOW positions are read, so a rare match costs a few pages, never a whole-ledger
    scan; an empty or short page then links on to the next window."""
    low, high, span = selection.low, selection.high, WINDOW if selection.windowed else None
    if after is not None:
        start = max(after + 1, low)
        end = min(high, start + span - 1) if span else high
        rows = _rows(selection.events, start, end, "position")
        newer = rows[PAGE - 1][0] if len(rows) > PAGE else (end if end < high else None)
        rows = rows[:PAGE][::-1]
        older = rows[-1][0] if rows else start
        older = older if older > low else None
    else:
        end = min(before - 1, high) if before is not None else high
        start = max(low, end - span + 1) if span else low
        rows = _rows(selection.events, start, end, "-position")
        older = rows[PAGE - 1][0] if len(rows) > PAGE else (start if start > low else None)
        rows = rows[:PAGE]
        newer = (rows[0][0] if rows else end) if before is not None and end < high else None
    searched = (start, end) if span and start <= end else None
    return Page([to_recorded(row) for row in rows], older, newer, searched)


def _rows(events: QuerySet[Event], start: int, end: int, order: str) -> list[tuple[Any, ...]]:
    if start > end:
        return []
    window = events.filter(position__gte=start, position__lte=end).order_by(order)
    return list(window.values_list(*COLUMNS)[: PAGE + 1])


def _position(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _query(request: HttpRequest, **changes: Any) -> str:
    params = request.GET.copy()
    for key in ("before", "after"):
        params.pop(key, None)
    for key, value in changes.items():
        params[key] = str(value)
    return params.urlencode()


def journal_view(request: HttpRequest) -> HttpResponse:
    scope = event_scope(request.user)
    if scope is None:
        raise Http404("No history you may read.")
    consortia = formed_consortia()
    readable = readable_consortia(request.user, consortia)
    form = JournalFilters(
        request.GET or None,
        {slug: consortia[slug] for slug in readable},
        partners_of(readable),
        bool(request.user.is_superuser),
    )
    cleaned = form.cleaned_data if form.is_bound and form.is_valid() else {}
    selection = (
        filtered(readable, cleaned, scope)
        if not form.errors
        else Selection(Event.objects.none(), 1, 0, False)
    )
    shown = page(
        selection,
        before=_position(request.GET.get("before")),
        after=_position(request.GET.get("after")),
    )
    recorded = shown.events
    names = names_for(readable)
    lines = [
        Line(
            event,
            describe(event, names),
            str(event.metadata.get("actor", "")),
            str(event.metadata.get("source", "")),
        )
        for event in recorded
    ]
    context = {
        **admin.site.each_context(request),
        "title": "History",
        "crumbs": [("History", None)],
        "page_size": PAGE,
        "window": f"{WINDOW:,}",
        "form": form,
        "lines": lines,
        "older": _query(request, before=shown.older) if shown.older is not None else None,
        "newer": _query(request, after=shown.newer) if shown.newer is not None else None,
        "newest": _query(request) if shown.newer is not None else None,
        "searched": shown.searched,
        "filtered": bool(cleaned and any(cleaned.values())),
        "raw_ledger": reverse("admin:ledger_event_changelist"),
    }
    return render(request, "workspace/journal/journal.html", context)


def _neighbour(event: RecordedEvent, version: int, scope: Q) -> int | None:
    found = Event.objects.filter(scope, stream=event.stream, version=version)
    return found.values_list("position", flat=True).first()


def event_view(request: HttpRequest, position: int) -> HttpResponse:
    scope = event_scope(request.user)
    if scope is None:
        raise Http404("No history you may read.")
    rows = list(Event.objects.filter(scope, position=position).values_list(*COLUMNS)[:1])
    if not rows:
        raise Http404("No such event in the history you may read.")
    event = to_recorded(rows[0])
    stored_type, stored_schema, stored_data = rows[0][3], rows[0][4], rows[0][5]
    slug = slug_of(event.stream)
    names = names_for(readable_consortia(request.user))
    context = {
        **admin.site.each_context(request),
        "title": f"Event {event.position}",
        "crumbs": [("History", reverse("admin:workspace-journal")), (f"Event {position}", None)],
        "event": event,
        "sentence": describe(event, names),
        "data": json.dumps(event.data, indent=2, sort_keys=True),
        "metadata": json.dumps(event.metadata, indent=2, sort_keys=True),
        "upcast": (stored_type, stored_schema) != (event.type, event.schema_version),
        "stored_data": json.dumps(stored_data, indent=2, sort_keys=True),
        "previous": _neighbour(event, event.version - 1, scope) if event.version > 1 else None,
        "next": _neighbour(event, event.version + 1, scope),
        "stream_history": reverse("admin:workspace-journal")
        + "?"
        + (
            f"consortium={slug}"
            if event.stream.startswith(CONSORTIUM_STREAM_PREFIX)
            else f"q={event.stream}"
        ),
        "raw": reverse("admin:ledger_event_change", args=[event.position]),
        "raw_stream": reverse("admin:ledger_event_changelist") + f"?stream={event.stream}",
    }
    return render(request, "workspace/journal/event.html", context)


def urls() -> list[URLPattern]:
    return [
        path("history/", journal_view, name="workspace-journal"),
        path("history/<int:position>/", event_view, name="workspace-event"),
    ]
