"""Workspace room: report schedules, their runs and their deliveries.

- **Report schedules** (``admin:consortium_reportschedule_changelist``): list, add,
  change and delete, every save and delete through ``consortium.reports.schedules`` (which
  keeps each schedule's beat entry in step); its refusals are shown beside the field they
  concern. A schedule that has run is kept (its runs are the record): disable it instead.
- **Report runs**: one per schedule and period, read-only: status, period, error; the
  deal team may run a failed one again (an action, queued as a task).
- **Deliveries**: one per e-mail and recipient, read-only: status, attempts, last error,
  Message-ID.

Only the deal team (``roles.WRITE`` in the schedule's consortium) adds, changes or deletes
schedules; finance and auditors read them, their runs and deliveries, in the consortia
they read. django-celery-beat's own admin is taken off the workspace: its rows are kept
by the schedules' services and by beat (``consortium.reports.beat``), never by hand.

Registered on the workspace by ``consortium.apps``.
"""

from __future__ import annotations

import functools
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django_celery_beat import models as beat_models
from unfold import widgets as unfold
from unfold.admin import ModelAdmin

from consortium import roles, streams
from consortium.models import Delivery, ReportRun, ReportSchedule
from consortium.reports import schedules
from consortium.reports.document import FORMATS

KIND_WORDS = {
    "progress": "Fundraising progress",
    "statement": "Partner statements",
    "ownership": "Asset ownership",
}
FORMAT_WORDS = {"xlsx": "Excel (XLSX)", "csv": "CSV", "html": "HTML", "pdf": "PDF"}

# django-celery-beat's tables are not edited by hand here: the schedules' services and
# beat keep them (the code's own entries cannot be switched off).
for _model in (
    beat_models.PeriodicTask,
    beat_models.IntervalSchedule,
    beat_models.CrontabSchedule,
    beat_models.SolarSchedule,
    beat_models.ClockedSchedule,
):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


def _scope(request: HttpRequest, capability: str = roles.READ) -> set[str] | None:
    """The consortia where the user has ``capability`` (None: every one, a global grant),
    from its grants alone: the index asks this of every room, and reads no ledger."""
    allowed = roles.CAPABILITIES[capability]
    grants = [g for g in roles.grants_everywhere(request.user) if g.role in allowed]
    if any(not g.consortium for g in grants):
        return None
    return {g.consortium for g in grants}


def _may(request: HttpRequest, consortium: str | None, capability: str = roles.READ) -> bool:
    """May the user (in the workspace) use ``capability`` in ``consortium`` (None: in some)?"""
    if not roles.may_use_workspace(request.user):
        return False
    scope = _scope(request, capability)
    return scope is None or (bool(scope) if consortium is None else consortium in scope)


def _within(queryset: QuerySet[Any], request: HttpRequest, *fields: str) -> QuerySet[Any]:
    """Rows whose consortium (any of ``fields``) the user reads."""
    scope = _scope(request)
    if scope is None:
        return queryset
    match = Q()
    for field in fields:
        match |= Q(**{f"{field}__in": scope})
    return queryset.filter(match)


def _queue_retry(run_id: int) -> None:
    from consortium.reports.tasks import retry_run

    retry_run.delay(run_id)


def _writable(request: HttpRequest) -> list[str]:
    scope = _scope(request, roles.WRITE)
    formed = list(streams.formed_consortia())
    return formed if scope is None else [slug for slug in formed if slug in scope]


class ReadersOnly:
    """The workspace's readers (any role there) view; nobody adds, changes or deletes."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _may(request, None)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may(request, None)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- schedules ----------------------------------------------------------------------------


class ReportScheduleForm(forms.ModelForm[ReportSchedule]):
    """A schedule, checked by ``schedules.check_schedule`` (the services' own rules)."""

    kind = forms.ChoiceField(
        choices=list(KIND_WORDS.items()),
        widget=unfold.UnfoldAdminSelectWidget(),
        help_text="Capital call notices are made when a call is issued, not on a schedule.",
    )
    consortium = forms.ChoiceField(widget=unfold.UnfoldAdminSelectWidget())
    asset_id = forms.ChoiceField(
        required=False,
        label="Asset",
        widget=unfold.UnfoldAdminSelectWidget(),
        help_text="Only for an asset ownership report.",
    )
    formats = forms.MultipleChoiceField(
        choices=[(f, FORMAT_WORDS[f]) for f in FORMATS],
        widget=unfold.UnfoldAdminCheckboxSelectMultipleWidget(),
        help_text="PDF: partner statements only.",
    )
    cadence = forms.ChoiceField(
        choices=[("daily", "Daily"), ("monthly", "Monthly")],
        widget=unfold.UnfoldAdminSelectWidget(),
        help_text="Daily: reports the previous day. Monthly: reports the previous calendar "
        "month, on the day of the month below.",
    )
    timezone = forms.ChoiceField(
        label="Time zone",
        widget=unfold.UnfoldAdminSelectWidget(),
        help_text="The schedule's time is local time there; its periods are days and "
        "months there too.",
    )

    class Meta:
        model = ReportSchedule
        fields = [
            "name",
            "kind",
            "consortium",
            "asset_id",
            "formats",
            "cadence",
            "timezone",
            "hour",
            "minute",
            "day_of_month",
            "recipients",
            "send_to_partners",
            "enabled",
        ]
        help_texts = {
            "hour": "0 to 23, local time.",
            "day_of_month": "Monthly schedules: 1 to 28.",
        }

    def __init__(self, *args: Any, writable: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        consortia = streams.formed_consortia()
        allowed = writable if writable is not None else list(consortia)
        if self.instance.consortium and self.instance.consortium not in allowed:
            allowed = [*allowed, self.instance.consortium]
        self._choices("consortium", [(s, consortia.get(s, s)) for s in allowed])
        assets = streams.registered_assets()
        self._choices("asset_id", [("", "—"), *((a, f"{n} ({a})") for a, n in assets.items())])
        self._choices("timezone", [(z, z) for z in sorted(schedules.known_time_zones())])
        if not self.instance.pk:
            self.initial.setdefault("timezone", "Europe/London")

    def _choices(self, name: str, choices: list[tuple[str, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def _post_clean(self) -> None:  # after the instance has the form's values
        super()._post_clean()  # type: ignore[misc]
        if self.errors:
            return
        try:
            schedules.check_schedule(self.instance)
        except schedules.ScheduleError as refused:
            for field, message in refused.errors.items():
                self.add_error(field if field in self.fields else None, message)


@admin.register(ReportSchedule)
class ReportScheduleAdmin(ModelAdmin):
    form = ReportScheduleForm
    list_display = ["name", "kind_words", "consortium", "when", "timezone", "enabled"]
    list_filter = ["kind", "cadence", "enabled", "consortium"]
    search_fields = ["name", "recipients"]
    readonly_fields = ["beat_entry", "last_runs", "created_by", "created_at", "updated_at"]
    actions = None  # deleting goes through the service, one schedule at a time
    fieldsets = [
        (None, {"fields": ["name", "kind", "consortium", "asset_id", "formats"]}),
        ("When", {"fields": ["cadence", "timezone", "hour", "minute", "day_of_month"]}),
        ("Who receives it", {"fields": ["recipients", "send_to_partners"]}),
        ("State", {"fields": ["enabled", "beat_entry", "last_runs"]}),
        ("Record", {"fields": ["created_by", "created_at", "updated_at"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReportSchedule]:
        return _within(super().get_queryset(request), request, "consortium")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _may(request, None)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may(request, obj.consortium if obj is not None else None)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _may(request, None, roles.WRITE)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _may(request, obj.consortium if obj is not None else None, roles.WRITE)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.runs.exists():
            return False  # its runs are the record: disable it instead
        return self.has_change_permission(request, obj)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        writable = _writable(request)

        class WithConsortia(form):  # type: ignore[misc, valid-type]
            def __init__(self, *args: Any, **inner: Any) -> None:
                super().__init__(*args, writable=writable, **inner)

        return WithConsortia

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            schedules.report_schedule_update(schedule=obj)
        else:
            schedules.report_schedule_create(schedule=obj, created_by=f"user:{request.user}")

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        try:
            schedules.report_schedule_delete(schedule=obj)
        except schedules.ScheduleError as refused:
            self.message_user(request, str(refused), messages.ERROR)

    @admin.display(description="Kind", ordering="kind")
    def kind_words(self, obj: ReportSchedule) -> str:
        return KIND_WORDS.get(obj.kind, obj.kind)

    @admin.display(description="When")
    def when(self, obj: ReportSchedule) -> str:
        time = f"{obj.hour:02d}:{obj.minute:02d}"
        if obj.cadence == "monthly":
            return f"Monthly on day {obj.day_of_month} at {time}"
        return f"Daily at {time}"

    @admin.display(description="Beat entry")
    def beat_entry(self, obj: ReportSchedule) -> str:
        task = obj.periodic_task
        if task is None:
            return "None yet (saved with the schedule)."
        fired = task.last_run_at.isoformat(" ", "minutes") if task.last_run_at else "never"
        state = "on" if task.enabled else "off"
        return f"{task.name}: {state}, fired {task.total_run_count} time(s), last {fired} (UTC)"

    @admin.display(description="Latest runs")
    def last_runs(self, obj: ReportSchedule) -> str:
        runs = list(obj.runs.order_by("-due_at")[:5]) if obj.pk else []
        if not runs:
            return "None yet."
        return format_html(
            "<br>".join(["{} {}"] * len(runs)),
            *(value for run in runs for value in (run.period, run.status)),
        )


# --- runs and deliveries --------------------------------------------------------------------


DELIVERY_FIELDS = (
    "recipient",
    "subject",
    "status",
    "attempts",
    "last_error",
    "last_attempt_at",
    "sent_at",
    "message_id",
    "run",
    "files",
    "created_at",
)


RUN_FIELDS = (
    "schedule",
    "period",
    "period_start",
    "period_end",
    "due_at",
    "started_at",
    "finished_at",
    "status",
    "error",
)


@admin.register(ReportRun)
class ReportRunAdmin(ReadersOnly, ModelAdmin):  # type: ignore[misc]
    list_display = ["schedule", "period", "status", "due_at", "finished_at", "short_error"]
    list_filter = ["status", "schedule__consortium"]
    search_fields = ["schedule__name", "period", "error"]
    list_select_related = ["schedule"]
    fields = RUN_FIELDS
    readonly_fields = RUN_FIELDS

    actions = ["run_again"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReportRun]:
        return _within(super().get_queryset(request), request, "schedule__consortium")

    def has_run_again_permission(self, request: HttpRequest) -> bool:
        return _may(request, None, roles.WRITE)

    @admin.action(description="Run the selected failed runs again", permissions=["run_again"])
    def run_again(self, request: HttpRequest, queryset: QuerySet[ReportRun]) -> None:
        writable = set(_writable(request))
        chosen = list(queryset.select_related("schedule"))
        failed = [r for r in chosen if r.status == "failed" and r.schedule.consortium in writable]
        for run in failed:
            transaction.on_commit(functools.partial(_queue_retry, run.pk))
        skipped = len(chosen) - len(failed)
        self.message_user(
            request,
            f"{len(failed)} run(s) queued to run again"
            + (f"; {skipped} left (only failed runs, in your consortia)." if skipped else "."),
            messages.SUCCESS if failed else messages.WARNING,
        )

    @admin.display(description="Error")
    def short_error(self, obj: ReportRun) -> str:
        return obj.error if len(obj.error) <= 80 else obj.error[:79] + "…"


@admin.register(Delivery)
class DeliveryAdmin(ReadersOnly, ModelAdmin):  # type: ignore[misc]
    list_display = ["recipient", "subject", "status", "attempts", "last_attempt_at", "sent_at"]
    list_filter = ["status"]
    search_fields = ["recipient", "subject", "message_id"]
    fields = DELIVERY_FIELDS
    readonly_fields = DELIVERY_FIELDS

    def get_queryset(self, request: HttpRequest) -> QuerySet[Delivery]:
        ids = _within(
            Delivery.objects.all(), request, "run__schedule__consortium", "reports__consortium"
        ).values("id")
        return super().get_queryset(request).filter(id__in=ids)

    @admin.display(description="Files")
    def files(self, obj: Delivery) -> str:
        return ", ".join(report.filename for report in obj.reports.order_by("id")) or "—"
