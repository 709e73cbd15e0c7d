"""Workspace room: commands, one form per service in ``consortium.services``.

- ``framework``: the declarative form framework (hidden version and token, fields,
  pickers, refusals shown beside their field);
- ``catalogue``: the forms, one per service, and their groups;
- ``pickers``: what a form offers to pick, read from the current folded state;
- ``views``: the pages (the list of forms, a form, its confirm step, the redirect with
  what was recorded).

URLs (under ``/admin/``): ``workspace-consortium-form`` (form a consortium),
``workspace-commands`` [slug] (the forms the user may use there) and
``workspace-command`` [slug, command] (one form; ``command`` is the service's name with
dashes; GET parameters prefill its fields, ``asset_id`` chooses a stake form's asset).
"""

from django.urls import URLPattern, path

from consortium.admin.commands import views


def urls() -> list[URLPattern]:
    return [
        path(
            "consortia/new/",
            views.consortium_form_page,
            name="workspace-consortium-form",
        ),
        path(
            "consortia/<slug:slug>/record/",
            views.commands_index,
            name="workspace-commands",
        ),
        path(
            "consortia/<slug:slug>/record/<slug:command>/",
            views.command_page,
            name="workspace-command",
        ),
        *_placeholder_urls(),
    ]


# --- PLACEHOLDERS: to be dropped at merge ---------------------------------------------------
# ``workspace-consortium`` (the dashboard) and ``workspace-event`` (one event) belong to the
# dashboards and journal rooms; this branch adds stand-ins only so that the forms' redirect
# and the links in their messages can be built (``reverse``) before those rooms exist.


def _placeholder_urls() -> list[URLPattern]:
    from django.contrib import admin
    from django.http import HttpRequest, HttpResponse
    from django.shortcuts import render
    from django.urls import reverse

    def consortium(request: HttpRequest, slug: str) -> HttpResponse:
        context = {
            **admin.site.each_context(request),
            "title": f"Consortium {slug} (placeholder)",
            "link": reverse("admin:workspace-commands", args=[slug]),
        }
        return render(request, "workspace/commands/placeholder.html", context)

    return [
        path("consortia/<slug:slug>/", consortium, name="workspace-consortium"),
    ]
