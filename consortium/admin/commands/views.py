"""The command forms' pages: the list of forms a user may use in a consortium, and one
page per form that renders it, asks to confirm when its stream moved on, records through
the service and redirects to the consortium's dashboard with what was recorded."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_http_methods

from consortium import services as s
from consortium.admin.commands import pickers
from consortium.admin.commands.catalogue import FORMS, GROUPS, ConsortiumForm
from consortium.admin.commands.framework import CommandForm, Page, Picker, new_token
from consortium.domain.errors import DomainError
from consortium.domain.events import asset_stream_id, consortium_stream_id
from consortium.domain.state import ConsortiumState
from consortium.narration import describe, names_for
from consortium.roles import READ, has_capability
from consortium.streams import load_asset, load_consortium
from ledger.store import IdempotencyConflict, RecordedEvent, read_stream

TEMPLATE = "workspace/commands/form.html"
CHANGES_SHOWN = 50  # newer events listed on a confirm page; more are counted


def key_of(token: str) -> str:
    """The idempotency key of a form's submit (``Actor.keyed``, scoped to the user)."""
    return f"admin-form:{token}"


# --- pages ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def command_page(request: HttpRequest, slug: str, command: str) -> HttpResponse:
    spec = FORMS.get(command)
    if spec is None:
        raise Http404(f"There is no form {command!r}.")
    return _serve(request, spec, slug)


@require_http_methods(["GET", "POST"])
def consortium_form_page(request: HttpRequest) -> HttpResponse:
    return _serve(request, ConsortiumForm, None)


@require_http_methods(["GET"])
def commands_index(request: HttpRequest, slug: str) -> HttpResponse:
    """The forms the user may use in the consortium, grouped."""
    if not has_capability(request.user, READ, slug):
        raise PermissionDenied("Your role does not allow you to see this consortium.")
    state = _formed(slug)
    groups = []
    for group in GROUPS:
        items = [
            {
                "title": form.title,
                "records": form.records,
                "link": reverse("admin:workspace-command", args=[slug, form.command]),
            }
            for form in FORMS.values()
            if form.group == group and has_capability(request.user, form.capability, slug)
        ]
        if items:
            groups.append({"title": group, "items": items})
    forming = has_capability(request.user, ConsortiumForm.capability, None)
    context = {
        **admin.site.each_context(request),
        "title": f"Record in {state.name}",
        "consortium": state,
        "groups": groups,
        "breadcrumbs": _breadcrumbs(slug, state.name, None),
        "forming_link": reverse("admin:workspace-consortium-form") if forming else None,
    }
    return render(request, "workspace/commands/index.html", context)


# --- serving a form ---------------------------------------------------------------------


def _serve(request: HttpRequest, spec: type[CommandForm], slug: str | None) -> HttpResponse:
    if not has_capability(request.user, spec.capability, slug):
        where = f"in {slug}" if slug else "everywhere (a global grant)"
        raise PermissionDenied(f"Your role does not allow {spec.title.lower()} {where}.")
    page = _page(request, spec, slug)
    if spec.stream == "asset" and page.asset is None:
        return _choose_asset(request, spec, page)
    if request.method == "POST":
        return _submit(request, spec, page)
    prefill = {
        name: value
        for name, value in request.GET.items()
        if name in spec.base_fields and name not in ("token", "version")
    }
    return _render(request, spec, page, spec(page=page, initial=prefill))


def _formed(slug: str) -> ConsortiumState:
    return _formed_or_404(load_consortium(slug).state, slug)


def _formed_or_404(state: ConsortiumState, slug: str) -> ConsortiumState:
    if not state.is_formed:
        raise Http404(f"There is no consortium {slug!r}.")
    return state


def _page(request: HttpRequest, spec: type[CommandForm], slug: str | None) -> Page:
    if slug is None:
        return Page(request.user, None, None, None, 0)
    loaded = load_consortium(slug)
    _formed_or_404(loaded.state, slug)
    if spec.stream == "consortium":
        return Page(request.user, slug, loaded.state, consortium_stream_id(slug), loaded.version)
    if spec.stream == "new":
        return Page(request.user, slug, loaded.state, None, 0)
    asset_id = request.GET.get("asset_id", "")
    if asset_id not in pickers.asset_ids(slug):
        return Page(request.user, slug, loaded.state, None, 0, asset_id=asset_id or None)
    asset = load_asset(asset_id)
    return Page(
        request.user,
        slug,
        loaded.state,
        asset_stream_id(asset_id),
        asset.version,
        asset_id=asset_id,
        asset=asset.state,
    )


class _ChooseAsset(forms.Form):
    asset_id = Picker("Asset")

    def layout(self) -> list[list[forms.BoundField]]:
        return [[field] for field in self.visible_fields()]


def _choose_asset(request: HttpRequest, spec: type[CommandForm], page: Page) -> HttpResponse:
    """A stake form is about one asset: choose it first (its stream's version is the
    form's)."""
    state = page.consortium
    chooser = _ChooseAsset()
    chooser.fields["asset_id"].choices = [("", "Choose…"), *pickers.assets(state.slug or "")]  # type: ignore[attr-defined]
    problems = []
    if page.asset_id:
        problems.append(f"No asset {page.asset_id!r} is sponsored by {state.name}; choose one.")
    if len(chooser.fields["asset_id"].choices) == 1:  # type: ignore[attr-defined]
        problems.append(f"{state.name} sponsors no asset yet; register one first.")
    context = _context(request, spec, page, chooser)
    context.update(method="get", submit_label="Continue", top_errors=problems, stale=None)
    return render(request, TEMPLATE, context)


def _submit(request: HttpRequest, spec: type[CommandForm], page: Page) -> HttpResponse:
    form = spec(request.POST, page=page)
    if not form.is_valid():
        if form.has_error("token") or form.has_error("version"):
            form = _renewed(spec, page, request.POST)
            form.add_error(
                None, "This form was incomplete or out of date; check it and submit it again."
            )
        return _render(request, spec, page, form)
    data = form.cleaned_data
    actor = s.Actor.keyed(
        request.user,
        key_of(data["token"]),
        source="admin",
        expected_version=None if spec.stream == "new" else data["version"],
    )
    try:
        result = form.record(actor, data)
    except s.StaleVersion as stale:
        return _confirm(request, spec, page, data["version"], stale.actual)
    except IdempotencyConflict:
        form = _renewed(spec, page, request.POST)
        form.add_error(
            None,
            "This form was already submitted, and recorded, with other values. Nothing new "
            "was recorded; submit it again to record these values as a new entry.",
        )
        return _render(request, spec, page, form)
    except s.ConcurrentChange as error:
        form.add_error(None, str(error))
        return _render(request, spec, page, form)
    except DomainError as error:
        form.refuse(error)
        return _render(request, spec, page, form)
    return _recorded(request, spec, page, form, result)


def _renewed(spec: type[CommandForm], page: Page, posted: QueryDict, **values: Any) -> CommandForm:
    """The posted form again, with a new token and the stream's current version (or the
    values given), validated so its other errors show."""
    data = posted.copy()
    data["token"] = values.get("token", new_token())
    data["version"] = str(values.get("version", page.version))
    form = spec(data, page=page)
    form.is_valid()
    return form


def _confirm(
    request: HttpRequest, spec: type[CommandForm], page: Page, since: int, now: int
) -> HttpResponse:
    """The stream moved on since the form was rendered: nothing is recorded; the newer
    events are listed in words and the same submit (same token) is offered again at the
    current version."""
    assert page.stream is not None
    newer = read_stream(page.stream, after_version=since, limit=CHANGES_SHOWN)
    names = names_for([page.slug]) if page.slug else {}
    form = _renewed(spec, page, request.POST, token=request.POST["token"], version=now)
    context = _context(request, spec, page, form)
    context["stale"] = {
        "events": [_event_line(event, names) for event in newer],
        "more": max(0, now - since - len(newer)),
    }
    context["submit_label"] = "Confirm and record"
    return render(request, TEMPLATE, context)


def _recorded(
    request: HttpRequest,
    spec: type[CommandForm],
    page: Page,
    form: CommandForm,
    result: s.CommandResult,
) -> HttpResponse:
    count = len(result.positions)
    events = read_stream(result.stream, after_version=result.version - count, limit=max(count, 1))
    slug = page.slug or form.cleaned_data["slug"]
    names = names_for([slug])
    lines = format_html_join("; ", "{}", ((_event_line(e, names)["html"],) for e in events))
    messages.success(request, format_html("Recorded: {}.", lines))
    return HttpResponseRedirect(reverse("admin:workspace-consortium", args=[slug]))


def _event_line(event: RecordedEvent, names: dict[str, str]) -> dict[str, Any]:
    text = describe(event, names)
    link = reverse("admin:workspace-event", args=[event.position])
    html = format_html('<a class="underline" href="{}">{}</a>', link, text)
    return {"text": text, "link": link, "html": html}


# --- rendering --------------------------------------------------------------------------


def _breadcrumbs(slug: str | None, name: str, title: str | None) -> list[dict[str, Any]]:
    crumbs: list[dict[str, Any]] = [{"name": "Consortia", "link": reverse("admin:index")}]
    if slug is not None:
        crumbs.append({"name": name, "link": reverse("admin:workspace-consortium", args=[slug])})
        crumbs.append(
            {
                "name": "Record",
                "link": reverse("admin:workspace-commands", args=[slug]) if title else None,
            }
        )
    if title:
        crumbs.append({"name": title, "link": None})
    return crumbs


def _context(
    request: HttpRequest, spec: type[CommandForm], page: Page, form: forms.Form
) -> dict[str, Any]:
    name = page.state.name if page.state is not None else ""
    subject = None
    if page.asset is not None:
        subject = f"Asset: {page.asset.name} ({page.asset_id})"
    return {
        **admin.site.each_context(request),
        "title": spec.title,
        "spec": spec,
        "records": spec.records,
        "subject": subject,
        "form": form,
        "top_errors": form.top_errors if isinstance(form, CommandForm) else [],
        "breadcrumbs": _breadcrumbs(page.slug, name, spec.title),
        "method": "post",
        "submit_label": "Record",
        "stale": None,
    }


def _render(
    request: HttpRequest, spec: type[CommandForm], page: Page, form: CommandForm
) -> HttpResponse:
    return render(request, TEMPLATE, _context(request, spec, page, form))


__all__ = [
    "command_page",
    "commands_index",
    "consortium_form_page",
    "key_of",
]
