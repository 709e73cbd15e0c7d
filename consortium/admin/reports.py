"""Workspace room: reports, the stored reports and a form to generate one on demand.

- ``admin:workspace-reports`` lists the stored reports the user may read, newest first,
  filtered by kind, consortium and format, each with its ledger anchor, checksum, who
  asked and a download link;
- ``admin:workspace-report-file`` serves one report's file, after the same check as the
  API's (``consortium.reports.access``): a report the user may not read is 404;
- ``admin:workspace-report-generate`` is the "Generate a report" form: one call of
  ``consortium.reports.services.generate_reports`` for the partners chosen (every
  partner if none), as ``user:<username>``. The service's refusals are shown beside the
  field they concern, in its words, and nothing is stored; on success the list shows the
  new reports first.

Auditors read and download; only the deal team and finance see and use the form, in the
consortia their grants name.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_safe
from unfold import widgets as unfold

from consortium.admin.commands import pickers
from consortium.admin.journal import partners_of
from consortium.domain.vocabulary import CallStatus
from consortium.models import StoredReport
from consortium.reports import access, services
from consortium.streams import load_consortium

PAGE_SIZE = 50
ISSUED: tuple[CallStatus, ...] = ("issued",)  # a notice is made for an issued call
KIND_WORDS = {
    "progress": "Fundraising progress",
    "statement": "Partner statement",
    "notice": "Capital call notice",
    "ownership": "Asset ownership",
}
FORMAT_WORDS = {"xlsx": "Excel (XLSX)", "csv": "CSV", "html": "HTML", "pdf": "PDF"}
# What each kind needs besides its formats (the service's parameters, by form field).
NEEDS = {
    "progress": ("consortium",),
    "statement": ("consortium", "period_start", "period_end"),
    "notice": ("consortium", "call"),
    "ownership": ("asset",),
}
# A refusal of the service about one of its parameters is shown beside this form field.
ERROR_FIELDS = {
    "consortium": "consortium",
    "organisation": "partners",
    "period_start": "period_start",
    "period_end": "period_end",
    "call": "call",
    "asset": "asset",
    "report_date": "report_date",
    "position": "position",
    "formats": "formats",
    "kind": "kind",
}


def _names() -> dict[str, str]:
    """Consortium names by slug, from the ledger (the projections may lag)."""
    return {slug: load_consortium(slug).state.name for slug in pickers.consortium_slugs()}


# --- the list ----------------------------------------------------------------------------


def _select() -> forms.Select:
    return forms.Select(attrs={"class": " ".join(unfold.SELECT_CLASSES)})


class ReportFilters(forms.Form):
    kind = forms.ChoiceField(
        required=False, widget=_select(), choices=[("", "All kinds"), *KIND_WORDS.items()]
    )
    consortium = forms.ChoiceField(required=False, widget=_select())
    format = forms.ChoiceField(
        required=False, widget=_select(), choices=[("", "All formats"), *FORMAT_WORDS.items()]
    )

    def __init__(self, data: Any, consortia: dict[str, str]) -> None:
        super().__init__(data)
        field = self.fields["consortium"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "All consortia"), *sorted(consortia.items())]


@dataclasses.dataclass(frozen=True)
class Line:
    """One stored report as the list shows it."""

    report: StoredReport
    kind: str
    consortium: str
    partner: str
    link: str

    @property
    def short_hash(self) -> str:
        return self.report.chain_hash[:8]

    @property
    def short_checksum(self) -> str:
        return self.report.checksum[:10]


def lines(reports: list[StoredReport], consortia: dict[str, str]) -> list[Line]:
    partners = partners_of(sorted({r.consortium for r in reports if r.consortium in consortia}))
    return [
        Line(
            report=r,
            kind=KIND_WORDS.get(r.kind, r.kind),
            consortium=consortia.get(r.consortium, r.consortium),
            partner=partners.get(r.organisation_id, r.organisation_id),
            link=reverse("admin:workspace-report-file", args=[r.pk]),
        )
        for r in reports
    ]


def _filtered(request: HttpRequest, consortia: dict[str, str]) -> tuple[ReportFilters, Any]:
    filters = ReportFilters(request.GET or None, consortia)
    found = access.workspace_reports(request.user)
    if filters.is_valid():
        for name in ("kind", "consortium", "format"):
            if filters.cleaned_data.get(name):
                found = found.filter(**{name: filters.cleaned_data[name]})
    return filters, found


def _ids(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.isdigit()][:PAGE_SIZE]


@require_GET
def reports_view(request: HttpRequest) -> HttpResponse:
    consortia = _names()
    filters, found = _filtered(request, consortia)
    before = request.GET.get("before", "")
    page_query: QuerySet[StoredReport] = found
    if before.isdigit():
        page_query = page_query.filter(pk__lt=int(before))
    page = list(page_query[: PAGE_SIZE + 1])
    older = None
    if len(page) > PAGE_SIZE:
        page = page[:PAGE_SIZE]
        kept = {k: v for k, v in request.GET.items() if k in ReportFilters.base_fields and v}
        older = urlencode({**kept, "before": page[-1].pk})
    generated = _ids(request.GET.get("generated", ""))
    made = list(access.workspace_reports(request.user).filter(pk__in=generated))
    context = {
        **admin.site.each_context(request),
        "title": "Stored reports",
        "crumbs": [("Stored reports", None)],
        "form": filters,
        "filtered": any(request.GET.get(name) for name in ReportFilters.base_fields),
        "lines": lines(page, consortia),
        "generated": lines(made, consortia),
        "older": older,
        "newest": bool(before),
        "page_size": PAGE_SIZE,
        "may_generate": access.may_generate_somewhere(request.user),
    }
    return render(request, "workspace/reports/list.html", context)


@require_safe
def report_file(request: HttpRequest, report_id: int) -> HttpResponseBase:
    report = access.workspace_reports(request.user).filter(pk=report_id).first()
    if report is None:
        raise Http404("No such report, or not one you may read.")
    return access.download(request, report)


# --- generating ----------------------------------------------------------------------------


def _date_input() -> forms.DateInput:
    attrs = {
        "class": " ".join(unfold.INPUT_CLASSES),
        "placeholder": "YYYY-MM-DD",
        "inputmode": "numeric",
    }
    return forms.DateInput(attrs=attrs, format="%Y-%m-%d")


class GenerateForm(forms.Form):
    """What to generate; the choices are those of the consortia the user may generate in."""

    kind = forms.ChoiceField(
        choices=[("", "Choose…"), *KIND_WORDS.items()],
        widget=unfold.UnfoldAdminSelectWidget(attrs={"x-model": "kind"}),
    )
    consortium = forms.ChoiceField(required=False, widget=unfold.UnfoldAdminSelectWidget())
    partners = forms.MultipleChoiceField(
        required=False,
        widget=unfold.UnfoldAdminCheckboxSelectMultipleWidget(),
        help_text="None chosen: one for every partner.",
    )
    period_start = forms.DateField(required=False, widget=_date_input(), label="Period from")
    period_end = forms.DateField(required=False, widget=_date_input(), label="Period to")
    call = forms.ChoiceField(
        required=False, widget=unfold.UnfoldAdminSelectWidget(), label="Capital call"
    )
    asset = forms.ChoiceField(required=False, widget=unfold.UnfoldAdminSelectWidget())
    formats = forms.MultipleChoiceField(
        initial=["csv"], widget=unfold.UnfoldAdminCheckboxSelectMultipleWidget()
    )
    report_date = forms.DateField(
        required=False,
        widget=_date_input(),
        help_text="Figures as of this date (overdue judged on it). Empty: today.",
    )
    position = forms.IntegerField(
        required=False,
        min_value=1,
        widget=unfold.UnfoldAdminIntegerFieldWidget(),
        label="Ledger position",
        help_text="Compute at this position of the ledger. Empty: its head now.",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = _names()
        slugs = access.generating_consortia(user, sorted(names))
        self.sponsors = {asset: slug for slug in slugs for asset in pickers.asset_ids(slug)}
        calls = [
            (call_id, f"{names[slug]}: {label}")
            for slug in slugs
            for call_id, label in pickers.calls(load_consortium(slug).state, ISSUED)
        ]
        offered = {fmt for kind in KIND_WORDS for fmt in services.formats_for(kind)}
        formats = self.fields["formats"]
        assert isinstance(formats, forms.MultipleChoiceField)
        formats.choices = [(f, w) for f, w in FORMAT_WORDS.items() if f in offered]
        formats.help_text = "; ".join(
            f"{KIND_WORDS[kind]}: {', '.join(FORMAT_WORDS[f] for f in services.formats_for(kind))}"
            for kind in KIND_WORDS
        )
        if "xlsx" in offered:
            formats.initial = ["xlsx"]
        self._choose(
            consortium=[("", "Choose…"), *((slug, names[slug]) for slug in slugs)],
            partners=self._partners(slugs, names),
            call=[("", "Choose…"), *calls],
            asset=[
                ("", "Choose…"),
                *((a, f"{a} ({names[s]})") for a, s in sorted(self.sponsors.items())),
            ],
        )
        self.consortia = slugs

    @staticmethod
    def _partners(slugs: list[str], names: dict[str, str]) -> list[tuple[str, str]]:
        """Every partner of those consortia, by name, saying which of them it is in."""
        found: dict[str, tuple[str, list[str]]] = {}
        for slug in slugs:
            for org, partner in load_consortium(slug).state.partners.items():
                found.setdefault(org, (partner.name, []))[1].append(names[slug])
        return [
            (org, f"{name} ({org}): {', '.join(where)}")
            for org, (name, where) in sorted(found.items(), key=lambda item: item[1][0].lower())
        ]

    def _choose(self, **choices: list[tuple[str, str]]) -> None:
        for name, options in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = options

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        for name in NEEDS.get(kind or "", ()):
            if not data.get(name) and name not in self.errors:
                self.add_error(name, f"A {KIND_WORDS[kind or ''].lower()} needs this.")
        if kind in ("progress", "ownership") and data.get("partners"):
            self.add_error("partners", "Only statements and notices are addressed to partners.")
        return data

    def where(self) -> str:
        """The consortium the report is about (an asset's: its sponsor)."""
        data = self.cleaned_data
        if data["kind"] == "ownership":
            return self.sponsors.get(data["asset"], "")
        return str(data["consortium"])

    def parameters(self) -> dict[str, str]:
        """The service's parameters (the partners chosen, comma-separated)."""
        data = self.cleaned_data
        kind = data["kind"]
        if kind == "ownership":
            return {"asset": data["asset"]}
        asked = {"consortium": data["consortium"]}
        if kind == "statement":
            asked |= {
                "period_start": data["period_start"].isoformat(),
                "period_end": data["period_end"].isoformat(),
            }
        if kind == "notice":
            asked["call"] = data["call"]
        if kind != "progress" and data.get("partners"):
            asked["organisation"] = ",".join(data["partners"])
        return asked


def refused_field(form: GenerateForm, error: Exception) -> str | None:
    """The form field a refusal of the service concerns: its ``field`` when it names one,
    else the field whose value the message quotes or whose subject it names; None: the
    refusal is about the request as a whole."""
    named = ERROR_FIELDS.get(str(getattr(error, "field", "") or ""))
    if named:
        return named
    data, message = form.cleaned_data, str(error)
    quoted = [
        ("partners", data.get("partners") or []),
        ("call", [data.get("call")]),
        ("asset", [data.get("asset")]),
    ]
    for field, values in quoted:
        if any(value and repr(value) in message for value in values):
            return field
    subjects = [
        ("period_end", ("The period ends",)),
        ("period_start", ("The period start",)),
        ("report_date", ("The report date",)),
        ("position", ("Ledger position", "A ledger position")),
        ("consortium", (f"consortium {data.get('consortium')!r}",)),
        ("formats", ("format", "does not come as")),
    ]
    for field, starts in subjects:
        if any(start in message for start in starts):
            return field
    return None


def generate(form: GenerateForm, user: Any) -> list[StoredReport]:
    """The reports the form asks for (one per partner and format), or none at all."""
    data = form.cleaned_data
    return services.generate_reports(
        kind=data["kind"],
        parameters=form.parameters(),
        formats=list(data["formats"]),
        requested_by=f"user:{user.get_username()}",
        report_date=data.get("report_date"),
        position=data.get("position"),
    )


@require_http_methods(["GET", "POST"])
def generate_view(request: HttpRequest) -> HttpResponse:
    if not access.may_generate_somewhere(request.user):
        raise PermissionDenied("Your role reads reports; the deal team and finance make them.")
    form = GenerateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        if not access.may_generate(request.user, form.where()):
            form.add_error(None, "Your role does not allow generating reports there.")
        else:
            try:
                made = generate(form, request.user)
            except services.ReportError as error:
                form.add_error(refused_field(form, error), str(error))
            else:
                ids = ",".join(str(report.pk) for report in made)
                return HttpResponseRedirect(
                    reverse("admin:workspace-reports") + "?" + urlencode({"generated": ids})
                )
    context = {
        **admin.site.each_context(request),
        "title": "Generate a report",
        "crumbs": [("Stored reports", reverse("admin:workspace-reports")), ("Generate", None)],
        "form": form,
        "kind": form["kind"].value() or "",
    }
    return render(request, "workspace/reports/generate.html", context)


def urls() -> list[URLPattern]:
    return [
        path("reports/", reports_view, name="workspace-reports"),
        path("reports/generate/", generate_view, name="workspace-report-generate"),
        path("reports/<int:report_id>/file/", report_file, name="workspace-report-file"),
    ]
