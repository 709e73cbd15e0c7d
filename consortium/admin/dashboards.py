"""Workspace room: dashboards (see ``consortium.admin``).

- The landing page (``admin:index``, through ``UNFOLD["DASHBOARD_CALLBACK"]``): every
  consortium the user may read, with progress against each of its targets, and a warning
  naming each projection that is behind the ledger or stopped.
- A consortium's dashboard (``admin:workspace-consortium`` [slug]): targets and tranches,
  the pipeline, a monthly chart, partners' positions, open calls, debt facilities and
  assets. Live, it reads only the projections (a fixed number of queries, whatever the
  ledger's length); with ``?on=YYYY-MM-DD`` and/or ``?known_at=<position or ISO
  datetime>`` it shows the same page folded from the ledger (``projections.asof``),
  labelled as historical.

The figures are gathered here (``live_figures``, ``figures_as_of``) and shaped for the
templates by ``consortium.admin.dashboard_rows``; every amount is formatted by the
``workspace`` template filters.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import timezone

from consortium import roles
from consortium.admin import dashboard_rows as rows
from consortium.admin.dashboard_rows import AsOf, Figures
from consortium.projections import asof, selectors
from ledger import store
from ledger.projections import runner
from ledger.projections.runner import live_state


def urls() -> list[URLPattern]:
    return [path("consortia/<str:slug>/", consortium_view, name="workspace-consortium")]


# --- the landing page -------------------------------------------------------------------


def landing(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    """``UNFOLD["DASHBOARD_CALLBACK"]``: the landing page's context (the admin index)."""
    user = request.user
    slugs = roles.visible_consortia(user, selectors.consortia())
    progress = selectors.progress_many(slugs)
    context.update(
        {
            "consortia": [rows.landing_card(progress[slug]) for slug in slugs if slug in progress],
            "lag": rows.lag_warnings(runner.status()),
            "projections_url": rows.url("admin:workspace-projections"),
            "without_grants": bool(
                getattr(user, "is_superuser", False) and not roles.grants_everywhere(user)
            ),
            "grants_url": rows.url("admin:consortium_rolegrant_changelist"),
            "username": user.get_username(),
        }
    )
    return context


# --- a consortium's dashboard ------------------------------------------------------------


def live_figures(slug: str, generation: int | None = None) -> Figures | None:
    """The dashboard's figures from the live projections (None if it knows no such
    consortium): a fixed number of queries, none of them on the ledger's events.
    ``generation``: the ``consortium`` projection's live one, if the caller read it."""
    progress = selectors.progress(slug, generation=generation)
    if progress is None:
        return None
    return Figures(
        progress=progress,
        positions=selectors.positions(slug, generation=generation),
        calls=selectors.open_capital_calls(slug, generation=generation, allocations=False),
        facilities=selectors.facilities(slug, generation=generation),
        assets=selectors.consortium_assets(slug),
        periods=selectors.period_calendar(slug, generation=generation),  # sealed periods
    )


def figures_as_of(slug: str, view: AsOf) -> Figures | None:
    """The same figures folded from the ledger as of a date / as known at a moment (None
    if the consortium was not formed in that view)."""
    on, known = view.on, view.known_at
    found = asof.consortium_view_as_of(slug, effective_on=on, known_at=known)
    if found.progress is None:
        return None
    return Figures(
        progress=found.progress,
        positions=found.positions,
        calls=found.open_calls,
        facilities=found.facilities,
        assets=asof.consortium_assets_as_of(
            slug, effective_on=on, known_at=known, state=found.state
        ),
        periods=asof.period_calendar_as_of(slug, known_at=known),  # sealed periods
    )


def consortium_view(request: HttpRequest, slug: str) -> HttpResponse:
    """A consortium's dashboard, live or as of (READ capability in it, else 403)."""
    if not roles.has_capability(request.user, roles.READ, slug):
        raise PermissionDenied("Your roles do not let you read this consortium.")
    view, errors = rows.parse_as_of(request.GET, head=store.head)
    checkpoint, generation = live_state("consortium")
    figures = figures_as_of(slug, view) if view is not None else live_figures(slug, generation)
    if figures is None and view is not None:
        errors.append(f"{view.label}, the consortium was not formed yet: showing it live.")
        view, figures = None, live_figures(slug, generation)
    if figures is None:
        raise Http404("No such consortium.")
    today = view.on if view is not None and view.on is not None else timezone.now().date()
    journal = rows.url("admin:workspace-journal")  # once: hundreds of partners link to it
    context = {
        **_site_context(request),
        **rows.dashboard(figures, today=today),
        "slug": slug,
        "title": figures.progress.name,
        "as_of": view,
        "errors": errors,
        "picker": {
            "on": request.GET.get("on", ""),
            "known_at": request.GET.get("known_at", ""),
        },
        "live_url": request.path,
        "history_url": f"{journal}?{urlencode({'consortium': slug})}" if journal else None,
        "record_url": (
            rows.url("admin:workspace-commands", slug)
            if roles.has_capability(request.user, roles.FINANCE_WRITE, slug)
            else None
        ),
        "checkpoint": checkpoint,
        "head": store.head() if view is None else None,
    }
    for partner in context["partners"]:
        query = {"consortium": slug, "partner": partner["organisation_id"]}
        partner["history_url"] = f"{journal}?{urlencode(query)}" if journal else None
    context["partners_body"] = rows.partner_table_body(context["partners"])
    status = 400 if errors else 200
    return render(request, "workspace/dashboards/consortium.html", context, status=status)


def _site_context(request: HttpRequest) -> dict[str, Any]:
    from django.contrib import admin

    return dict(admin.site.each_context(request))
