"""Workspace room: operations. The projections page: where each projection stands against
the ledger, and a rebuild started from the browser and watched until it switches.

Any workspace user may look; a rebuild needs a deal-team grant (anywhere) or a superuser.
What the page shows is ``ledger.projections.runner.status`` (the same figures and words
as ``manage.py projections_status``); a rebuild is ``ledger.tasks.queue_rebuild``, the
same Celery task ``rebuild_projections --queue`` sends. The page then polls a fragment
(htmx, bundled with the theme) every second: "rebuilding generation N: X of Y events",
then "switched". On the embedded default (eager Celery, no broker) the rebuild runs in
the request that asked for it, and the page says so.
"""

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_POST

from consortium import roles
from ledger.projections import registry, runner

POLL_SECONDS = 1


def urls() -> list[URLPattern]:
    return [
        path("projections/", projections, name="workspace-projections"),
        path("projections/status/", projections_fragment, name="workspace-projections-status"),
        path("projections/rebuild/", rebuild, name="workspace-projections-rebuild"),
    ]


def may_rebuild(user: Any) -> bool:
    """A superuser, or a user with a deal-team grant (a rebuild changes no figure, but it
    costs the workers a full pass over the ledger)."""
    if getattr(user, "is_superuser", False):
        return True
    return any(grant.role == "deal_team" for grant in roles.grants_everywhere(user))


def _watched(request: HttpRequest) -> tuple[str, int] | None:
    """The rebuild the page follows (``?watch=<name>&generation=<N>``), if any."""
    name, generation = request.GET.get("watch", ""), request.GET.get("generation", "")
    if name in registry.names() and generation.isdigit():
        return name, int(generation)
    return None


def _rebuild_panel(statuses: list[runner.Status], watched: tuple[str, int] | None) -> Any:
    """Where the followed rebuild stands: queued, rebuilding (X of Y), or switched."""
    if watched is None:
        return None
    name, generation = watched
    (status,) = [s for s in statuses if s.name == name]
    if status.generation >= generation:
        phase = "switched"
    elif status.rebuild_generation == generation:
        phase = "rebuilding"
    else:
        phase = "queued"
    done = status.rebuild_checkpoint if phase == "rebuilding" else 0
    percent = round(100 * done / status.head, 1) if status.head else 100.0
    return {
        "name": name,
        "generation": generation,
        "phase": phase,
        "done": done,
        "head": status.head,
        "percent": percent,
    }


def _context(request: HttpRequest) -> dict[str, Any]:
    statuses = runner.status(held=True)
    panel = _rebuild_panel(statuses, _watched(request))
    polling = any(s.rebuilding for s in statuses) or (
        panel is not None and panel["phase"] != "switched"
    )
    query = request.GET.urlencode()
    return {
        "statuses": statuses,
        "panel": panel,
        "polling": polling,
        "poll_seconds": POLL_SECONDS,
        "fragment_url": reverse("admin:workspace-projections-status")
        + (f"?{query}" if query else ""),
        "may_rebuild": may_rebuild(request.user),
        "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    }


@require_GET
def projections(request: HttpRequest) -> HttpResponse:
    context = {
        **admin.site.each_context(request),
        "title": "Projections",
        **_context(request),
    }
    return render(request, "workspace/operations/projections.html", context)


@require_GET
def projections_fragment(request: HttpRequest) -> HttpResponse:
    """The status table and the followed rebuild, for the page to poll."""
    return render(request, "workspace/operations/projections_status.html", _context(request))


@require_POST
def rebuild(request: HttpRequest) -> HttpResponse:
    """Start the rebuild of one projection (``name``), unless one is running already."""
    if not may_rebuild(request.user):
        raise PermissionDenied("Rebuilding a projection needs a deal-team grant.")
    name = request.POST.get("name", "")
    if name not in registry.names():
        raise Http404(f"No projection named {name!r}.")
    page = reverse("admin:workspace-projections")
    status = next(s for s in runner.status(held=True) if s.name == name)
    if "rebuilding" in (status.held_by or ()) or (status.rebuilding and not status.rebuild_stale):
        messages.warning(request, str(runner.RebuildBusy([name])))
        generation = status.rebuild_generation or runner.next_generation(name)
        return HttpResponseRedirect(f"{page}?watch={name}&generation={generation}")
    from ledger.tasks import queue_rebuild  # the worker's side: only when a rebuild is asked

    try:
        generation = queue_rebuild(name)
    except Exception as error:  # the broker is down or hung: nothing was queued
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise
        messages.error(
            request,
            f"Could not reach the broker ({error}); nothing was queued. Try again, or run "
            f"manage.py rebuild_projections {name} where the workers run.",
        )
        return HttpResponseRedirect(page)
    if settings.CELERY_TASK_ALWAYS_EAGER:
        messages.success(
            request,
            f"{name}: rebuilt into generation {generation} and switched, within this request "
            "(this installation has no broker: tasks run in-process).",
        )
    else:
        messages.success(
            request, f"{name}: rebuild into generation {generation} handed to the workers."
        )
    return HttpResponseRedirect(f"{page}?watch={name}&generation={generation}")
