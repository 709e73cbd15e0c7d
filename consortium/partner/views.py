"""The partner view's pages: sign in, sign out, the organisation's own figures, and its
own statements and capital call notices to download."""

import dataclasses
import json
from typing import Any

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, LogoutView
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_safe
from unfold.widgets import BASE_INPUT_CLASSES

from consortium import roles
from consortium.projections import selectors
from consortium.projections.figures import AllocationRow, CallRow, PartnerPosition
from consortium.reports import access

TITLE = "Partner view"


def _theme(request: HttpRequest) -> dict[str, Any]:
    """The theme's context (colours, styles) as the admin's pages have it, retitled."""
    return {**admin.site.each_context(request), "site_title": TITLE, "site_header": TITLE}


class PartnerAuthenticationForm(AuthenticationForm):
    """Django's sign-in form (any active user; the admin's refuses non-staff), styled."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("username", "password"):
            self.fields[name].widget.attrs["class"] = " ".join(BASE_INPUT_CLASSES)
        self.fields["username"].widget.attrs["autofocus"] = ""


class PartnerLogin(LoginView):
    template_name = "partner/login.html"
    authentication_form = PartnerAuthenticationForm
    next_page = "partner:index"  # resolve_url takes a URL name

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**_theme(self.request), **super().get_context_data(**kwargs), "title": "Sign in"}


class PartnerLogout(LogoutView):
    next_page = "partner:login"


@dataclasses.dataclass(frozen=True)
class OwnCall:
    """A capital call as one partner sees it: the call, and its own allocation."""

    call: CallRow
    allocation: AllocationRow
    overdue: bool


@dataclasses.dataclass(frozen=True)
class Holding:
    """One consortium the partner belongs to: its own positions and calls there."""

    slug: str
    name: str
    positions: list[PartnerPosition]
    calls: list[OwnCall]


def holdings(user: Any) -> list[Holding]:
    """The user's organisations' positions and call allocations, per consortium, from the
    live projections; only the organisations its partner grants name there."""
    found = []
    names = selectors.consortium_names()
    for slug in sorted(names):
        only = roles.partner_organisations(user, slug)
        if not only:
            continue
        positions = [p for p in selectors.positions(slug) if p.figures.organisation_id in only]
        calls = [
            OwnCall(call.figures, part.figures, part.overdue)
            for call in selectors.capital_calls(slug)
            for part in call.allocations
            if part.figures.organisation_id in only
        ]
        if positions or calls:
            found.append(Holding(slug, names[slug], positions, calls))
    return found


@dataclasses.dataclass(frozen=True)
class Download:
    format: str
    link: str
    filename: str
    size: int


@dataclasses.dataclass(frozen=True)
class Statement:
    """One statement or notice, in every format it was stored in (one row, a link each)."""

    kind: str
    consortium: str
    organisation_id: str
    report_date: Any
    parameters: dict[str, Any]
    anchor: str
    downloads: list[Download]

    @property
    def title(self) -> str:
        return "Partner statement" if self.kind == "statement" else "Capital call notice"


def statements(user: Any, names: dict[str, str]) -> list[Statement]:
    """The user's organisations' own statements and notices, newest first; the formats of
    one report (same parameters, date and ledger position) side by side."""
    found: dict[tuple[Any, ...], Statement] = {}
    for report in access.partner_reports(user):
        key = (
            report.kind,
            report.consortium,
            report.organisation_id,
            report.report_date,
            report.position,
            json.dumps(report.parameters, sort_keys=True),
        )
        if key not in found:
            found[key] = Statement(
                kind=report.kind,
                consortium=names.get(report.consortium, report.consortium),
                organisation_id=report.organisation_id,
                report_date=report.report_date,
                parameters=report.parameters,
                anchor=f"{report.position}:{report.chain_hash}",
                downloads=[],
            )
        found[key].downloads.append(
            Download(
                report.format,
                reverse("partner:report-file", args=[report.pk]),
                report.filename,
                report.size,
            )
        )
    for statement in found.values():
        statement.downloads.sort(key=lambda d: d.format)
    return list(found.values())


@never_cache
@login_required(login_url=reverse_lazy("partner:login"))
@require_safe
def report_file(request: HttpRequest, report_id: int) -> HttpResponseBase:
    """One of the signed-in partner's own statements or notices; anyone else's is 404."""
    report = access.partner_reports(request.user).filter(pk=report_id).first()
    if report is None:
        raise Http404("No such statement or notice of yours.")
    return access.download(request, report)


@never_cache
@login_required(login_url=reverse_lazy("partner:login"))
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The signed-in partner's organisations' figures; 403 for anyone without a partner
    grant (deal teams, finance and auditors use the workspace)."""
    organisations = sorted(
        {g.organisation_id for g in roles.grants_everywhere(request.user) if g.role == "partner"}
    )
    context = {**_theme(request), "title": TITLE, "organisations": organisations}
    if not organisations:
        return render(request, "partner/denied.html", context, status=403)
    known = selectors.organisations()
    names = [known.get(organisation, organisation) for organisation in organisations]
    context = {
        **context,
        "organisation_names": names,
        "holdings": holdings(request.user),
        "statements": statements(request.user, selectors.consortium_names()),
    }
    return render(request, "partner/index.html", context)
