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
    ]
