"""``/api/v1/reports/``: the stored reports, their descriptions and their files.

Who reads which report is ``consortium.reports.access`` (the workspace and the partner
view ask the same): the deal team, finance and auditors read the reports of the consortia
they hold the role in; a ``partner:<org>`` key reads only its organisation's own
statements and capital call notices. A report the key may not read is 404, as if it did
not exist; a key with no role that reads any report is 403.

The list pages by cursor, newest first (a report stored while a client pages appears on
a newer page, never twice). The file is the stored bytes, streamed from the storage
backend, with its SHA-256 as a strong ``ETag`` and as ``Repr-Digest`` (RFC 9530).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

import django_filters  # type: ignore[import-untyped]
from django.db.models import QuerySet
from django.http import HttpResponseBase
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, permissions, serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import CursorPagination
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from consortium.api import read_serializers as rs
from consortium.api.errors import PROBLEM
from consortium.api.pagination import ReportCursorPagination
from consortium.models import StoredReport
from consortium.reports import access
from consortium.reports.document import FORMATS, KINDS
from consortium.reports.rendering import CONTENT_TYPES

# The media types a file is served as (its stored ``content_type`` less any charset).
FILE_MEDIA_TYPES = sorted({value.split(";")[0] for value in CONTENT_TYPES.values()})

# --- bodies -------------------------------------------------------------------------------


class ReportSerializer(serializers.Serializer[Any]):
    """A stored report: what it is, what it was computed from, and where its file is."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=KINDS)
    format = serializers.ChoiceField(choices=FORMATS)
    consortium = serializers.CharField(
        allow_null=True, help_text="The consortium's slug (null: an asset's ownership report)."
    )
    organisation_id = serializers.CharField(
        allow_null=True, help_text="The partner a statement or notice is addressed to."
    )
    parameters = serializers.DictField(help_text="What was asked for (kind-specific).")
    report_date = serializers.DateField(help_text="Figures as of this date.")
    position = serializers.IntegerField(help_text="The ledger position the figures are at.")
    chain_hash = serializers.CharField(help_text="The ledger's chain hash at `position`.")
    anchor = serializers.CharField(
        help_text="`POSITION:HASH`, which `manage.py verify_ledger --expect` checks."
    )
    checksum = serializers.CharField(help_text="SHA-256 of the file, hex.")
    size = serializers.IntegerField(help_text="The file's size in bytes.")
    content_type = serializers.CharField()
    filename = serializers.CharField()
    requested_by = serializers.CharField(
        help_text="Who or what asked: `user:<name>`, `schedule:<id>`, `notices`, `command`."
    )
    created_at = serializers.DateTimeField()
    file = serializers.URLField(help_text="Where to download the file.")


class ReportPageSerializer(serializers.Serializer[Any]):
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = ReportSerializer(many=True)


def report_body(report: StoredReport, request: Request) -> dict[str, Any]:
    return {
        "id": report.pk,
        "kind": report.kind,
        "format": report.format,
        "consortium": report.consortium or None,
        "organisation_id": report.organisation_id or None,
        "parameters": report.parameters,
        "report_date": report.report_date.isoformat(),
        "position": report.position,
        "chain_hash": report.chain_hash,
        "anchor": f"{report.position}:{report.chain_hash}",
        "checksum": report.checksum,
        "size": report.size,
        "content_type": report.content_type,
        "filename": report.filename,
        "requested_by": report.requested_by,
        "created_at": report.created_at.isoformat(),
        # Django's reverse: DRF's would carry a ``?format=`` filter over into the link.
        "file": request.build_absolute_uri(reverse("api-report-file", args=[report.pk])),
    }


# --- access -------------------------------------------------------------------------------


class ReadsSomeReports(permissions.BasePermission):
    """A key whose grants let it read some stored report (401 without a valid key);
    which ones is the queryset's to say."""

    message = "Your role does not allow reading reports."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        return access.report_scope(request.user) is not None


class _FormatIsAFilter:
    """DRF's settings, less ``URL_FORMAT_OVERRIDE``: ``?format=`` filters reports here."""

    URL_FORMAT_OVERRIDE = None

    def __getattr__(self, name: str) -> Any:
        return getattr(api_settings, name)


class ListNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, except that ``?format=pdf`` asks for PDF reports, not for a
    renderer of that name."""

    settings = cast(Any, _FormatIsAFilter())


class FileNegotiation(DefaultContentNegotiation):
    """The file is the file whatever ``Accept`` says (a client asking for
    ``application/pdf`` gets it, not 406); errors are still problem+json."""

    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        first = next(iter(renderers))
        return first, first.media_type


class ReportFilter(django_filters.FilterSet):  # type: ignore[misc]
    kind = django_filters.ChoiceFilter(choices=[(k, k) for k in KINDS])
    format = django_filters.ChoiceFilter(choices=[(f, f) for f in FORMATS])
    consortium = django_filters.CharFilter(help_text="The consortium's slug.")
    organisation = django_filters.CharFilter(field_name="organisation_id")

    class Meta:
        model = StoredReport
        fields: Sequence[str] = []


# --- schema -------------------------------------------------------------------------------

REPORT_ID = OpenApiParameter(
    "id",
    {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
    OpenApiParameter.PATH,
    description="The report's id.",
)
LIST_PARAMS = [
    OpenApiParameter(
        "kind", {"type": "string", "enum": list(KINDS)}, description="Only this kind."
    ),
    OpenApiParameter(
        "format", {"type": "string", "enum": list(FORMATS)}, description="Only this format."
    ),
    OpenApiParameter("consortium", OpenApiTypes.STR, description="Only this consortium's."),
    OpenApiParameter(
        "organisation", OpenApiTypes.STR, description="Only those addressed to this partner."
    ),
    OpenApiParameter(
        "cursor", OpenApiTypes.STR, description="Where a page starts: follow `next`/`previous`."
    ),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": ReportCursorPagination.max_page_size},
        description=f"Reports per page (default {ReportCursorPagination.page_size}).",
    ),
]
_PROBLEMS = {
    400: "An unknown kind or format, or a cursor this API did not give.",
    401: "No API key, or an unknown, revoked or expired one.",
    403: "The key's roles read no report at all.",
    404: "No such report, or none this key may read.",
    429: "Too many requests from this client.",
}


def _responses(ok: dict[Any, Any], codes: Sequence[int]) -> dict[Any, Any]:
    problems = {
        (code, PROBLEM): OpenApiResponse(rs.ProblemSerializer, _PROBLEMS[code]) for code in codes
    }
    return {**ok, **problems}


# --- views --------------------------------------------------------------------------------


class ReportView(APIView):
    permission_classes = [ReadsSomeReports]

    def readable(self) -> QuerySet[StoredReport]:
        return access.readable_reports(self.request.user)

    def report(self, report_id: int) -> StoredReport:
        found = self.readable().filter(pk=report_id).first()
        if found is None:
            raise exceptions.NotFound(f"No report {report_id} exists, or you may not read it.")
        return found


class ReportList(ReportView, generics.GenericAPIView[StoredReport]):
    content_negotiation_class = ListNegotiation
    pagination_class = ReportCursorPagination
    filterset_class = ReportFilter
    serializer_class = ReportSerializer

    def get_queryset(self) -> QuerySet[StoredReport]:
        return self.readable()

    @extend_schema(
        operation_id="reports_list",
        parameters=LIST_PARAMS,
        responses=_responses(
            {(200, "application/json"): ReportPageSerializer}, (400, 401, 403, 429)
        ),
        description="The stored reports this key may read, newest first (cursor-paginated, "
        "filterable by `kind`, `format`, `consortium` and `organisation`). A partner's key "
        "lists only its own statements and capital call notices.",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        paginator = self.paginator
        assert isinstance(paginator, CursorPagination)
        page = paginator.paginate_queryset(self.filter_queryset(self.get_queryset()), request)
        return Response(
            {
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "results": [report_body(report, request) for report in page or []],
            }
        )


class ReportDetail(ReportView):
    @extend_schema(
        operation_id="reports_retrieve",
        parameters=[REPORT_ID],
        responses=_responses({(200, "application/json"): ReportSerializer}, (401, 403, 404, 429)),
        description="One stored report: its kind, parameters, ledger anchor and checksum.",
    )
    def get(self, request: Request, id: int) -> Response:
        return Response(report_body(self.report(id), request))


class ReportFile(ReportView):
    content_negotiation_class = FileNegotiation

    @extend_schema(
        operation_id="reports_file",
        parameters=[REPORT_ID],
        responses=_responses(
            {
                (200, media): OpenApiResponse(
                    OpenApiTypes.BINARY,
                    "The file as stored (an attachment). `ETag` is its SHA-256 (hex, quoted); "
                    "`Repr-Digest` the same digest as RFC 9530 writes it.",
                )
                for media in FILE_MEDIA_TYPES
            }
            | {
                (304, "application/json"): OpenApiResponse(
                    None, "`If-None-Match` named this file's ETag: the client has it."
                )
            },
            (401, 403, 404, 429),
        ),
        description="The report's file, byte for byte as stored, with its content type and "
        "`Content-Disposition: attachment`. Check it against `checksum`.",
    )
    def get(self, request: Request, id: int) -> HttpResponseBase:
        return access.download(request, self.report(id))
