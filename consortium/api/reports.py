"""``/api/v1/reports/``: the stored reports, their descriptions and their files.

Who reads which report is ``consortium.reports.access`` (the workspace and the partner
view ask the same): the deal team, finance and auditors read the reports of the consortia
they hold the role in; a ``partner:<org>`` key reads only its organisation's own
statements and capital call notices. A report the key may not read is 404, as if it did
not exist; a key with no role that reads any report is 403. ``POST reports/`` generates
reports now (the deal team and finance, in the report's consortium) through
``consortium.reports.services.generate_reports``.

The list pages by cursor, newest first (a report stored while a client pages appears on
a newer page, never twice). The file is the stored bytes, streamed from the storage
backend, with its SHA-256 as a strong ``ETag`` and as ``Repr-Digest`` (RFC 9530).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any, cast

import django_filters  # type: ignore[import-untyped]
from django.core.validators import RegexValidator
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

from consortium.api import idempotency
from consortium.api import read_serializers as rs
from consortium.api.access import client_id
from consortium.api.errors import PROBLEM, Unprocessable, problem
from consortium.api.pagination import ReportCursorPagination
from consortium.domain.identifiers import IDENTIFIER_PATTERN, SLUG_PATTERN
from consortium.models import StoredReport
from consortium.reports import access, services
from consortium.reports.document import FORMATS, KINDS
from consortium.reports.rendering import CONTENT_TYPES
from consortium.streams import load_asset

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


# --- generating on demand ------------------------------------------------------------------

_ID = RegexValidator(IDENTIFIER_PATTERN, "Not an id: letters, digits and . _ : - only.")
_ORGANISATIONS = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}(,[A-Za-z0-9][A-Za-z0-9._:-]{0,99}){0,49}$",
    "One organisation id, or several separated by commas.",
)


class ReportParametersIn(serializers.Serializer[Any]):
    """What a report is about; which ones a kind needs is the service's to say (422)."""

    consortium = serializers.RegexField(SLUG_PATTERN, max_length=64, required=False)
    period_start = serializers.DateField(required=False, help_text="A statement's first day.")
    period_end = serializers.DateField(required=False, help_text="A statement's last day.")
    call = serializers.CharField(max_length=100, required=False, validators=[_ID])
    organisation = serializers.CharField(
        max_length=5050,
        required=False,
        validators=[_ORGANISATIONS],
        help_text="Statements and notices: one partner, or several separated by commas "
        "(left out: every partner).",
    )
    asset = serializers.CharField(max_length=100, required=False, validators=[_ID])

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(str(name) for name in data if name not in self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Not a parameter of any report."] for name in unknown}
                )
        return super().to_internal_value(data)


class ReportIn(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=KINDS)
    parameters = ReportParametersIn(
        help_text="progress: consortium; statement: consortium, period_start, period_end "
        "(organisation optional); notice: consortium, call (organisation optional); "
        "ownership: asset."
    )
    formats = serializers.ListField(
        child=serializers.ChoiceField(choices=FORMATS), min_length=1, max_length=len(FORMATS)
    )
    report_date = serializers.DateField(
        required=False, help_text="Figures as of this date (default today; not after it)."
    )
    position = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**62,
        help_text="The ledger position to compute at (default the head).",
    )


class ReportsMadeSerializer(serializers.Serializer[Any]):
    results = ReportSerializer(many=True)


# --- access -------------------------------------------------------------------------------


class ReadsSomeReports(permissions.BasePermission):
    """A key whose grants let it read some stored report, or for a POST generate some
    (401 without a valid key); which ones is the queryset's, and the consortium's, to
    say. A method the view does not have is its 405, for any valid key."""

    message = "Your role does not allow reading reports."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        method = (request.method or "GET").lower()
        if method != "options" and not hasattr(view, method):
            return True
        if method == "post":
            self.message = "Your role does not allow generating reports."
            return access.may_generate_somewhere(request.user)
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
    400: "An unknown kind or format, or a cursor this API did not give; for a POST, "
    "malformed JSON, a wrong type, a bad date or id, or a bad header.",
    401: "No API key, or an unknown, revoked or expired one.",
    403: "The key's roles read no report at all (POST: generate none, or not there).",
    404: "No such report, or none this key may read.",
    413: "The body is larger than the limit (256 KiB).",
    415: "The body is not JSON.",
    422: "The service refuses what was asked, in words (an unknown consortium, partner, "
    "call or asset, a period that ends before it starts, a date after today, a position "
    "beyond the ledger's head, a format the kind does not come in), or an "
    "Idempotency-Key reused with another body. Nothing is stored.",
    429: "Too many requests from this client.",
}
IDEMPOTENCY_KEY = OpenApiParameter(
    idempotency.HEADER,
    {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$", "maxLength": 255},
    OpenApiParameter.HEADER,
    description="Per client. A repeat with the same body answers the reports stored the "
    "first time (201, `Idempotent-Replayed: true`), storing nothing; with another body it "
    "is 422.",
)


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

    @extend_schema(
        operation_id="reports_generate",
        request=ReportIn,
        parameters=[IDEMPOTENCY_KEY],
        responses=_responses(
            {
                (201, "application/json"): OpenApiResponse(
                    ReportsMadeSerializer,
                    "Generated and stored: one report per document (a statement or notice "
                    "per partner) and format, in that order.",
                )
            },
            (400, 401, 403, 413, 415, 422, 429),
        ),
        description="Generate reports now (deal team and finance, in the report's consortium; "
        "an asset's ownership report: in its sponsor's), computed at one ledger position and "
        "stored as a schedule's would be, `requested_by` naming the key's user.",
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = ReportIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        parameters = {
            name: value.isoformat() if isinstance(value, dt.date) else str(value)
            for name, value in data["parameters"].items()
        }
        where = _consortium_of(data["kind"], parameters)
        if not access.may_generate(request.user, where):
            raise exceptions.PermissionDenied(
                f"Your role does not allow generating reports {'in ' + where if where else 'here'}."
            )
        key, replayed = _key(request, data)
        try:
            made = services.generate_reports(
                kind=data["kind"],
                parameters=parameters,
                formats=data["formats"],
                requested_by=f"user:{request.user.get_username()}",
                report_date=data.get("report_date"),
                position=data.get("position"),
                key=key,
            )
        except services.ReportError as error:
            return problem(
                422,
                "The report cannot be made",
                str(error),
                kind="report-refused",
                errors={"non_field_errors": [str(error)]},
            )
        response = Response(
            {"results": [report_body(report, request) for report in made]},
            status=201,
        )
        if replayed:
            response[idempotency.REPLAYED] = "true"
        return response


def _consortium_of(kind: str, parameters: dict[str, str]) -> str | None:
    """Where generating the report is decided: its consortium, an asset's sponsor (None
    when unknown: only a global grant may ask, and the service says it is unknown)."""
    if kind == "ownership":
        asset = parameters.get("asset")
        return (load_asset(asset).state.sponsor or None) if asset else None
    return parameters.get("consortium") or None


def _key(request: Request, data: dict[str, Any]) -> tuple[str | None, bool]:
    """The service's ``key`` for the request's ``Idempotency-Key`` (scoped to the client,
    naming the body), and whether reports are stored under it already; the same key with
    another body is 422."""
    given = idempotency.key_of(request)
    if given is None:
        return None, False
    scope = f"api:{client_id(request)}:{hashlib.sha256(given.encode()).hexdigest()[:24]}"
    canonical = json.dumps(data, sort_keys=True, default=str).encode()
    key = f"{scope}:{hashlib.sha256(canonical).hexdigest()[:16]}"
    stored = StoredReport.objects.filter(key__startswith=f"{scope}:")
    if stored.exclude(key__startswith=f"{key}:").exists():
        raise Unprocessable(
            f"The {idempotency.HEADER} {given!r} was used with another request; "
            "use a new key for this one."
        )
    return key, stored.exists()


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
