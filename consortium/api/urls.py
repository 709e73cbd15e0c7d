"""``/api/v1/``: the routes of the finance systems' API, one per resource.

A route's view answers every method the resource has: where a resource is both read and
written (``consortia/``, ``consortia/{slug}/capital-calls/``, ``assets/``) its view is
the read view and the command view in one class, and any other method is 405 with an
``Allow`` header naming those it has.

Every route also answers without its trailing slash (a client that drops it gets the same
answer, never a redirect, which would lose a POST's body); the schema lists the canonical
form only (``consortium.api.schema.canonical_paths``).
"""

from django.urls import URLPattern, URLResolver, path

from consortium.api import health, reads, reports, writes
from consortium.roles import READ, WRITE


class Consortia(writes.ConsortiumForm, reads.ConsortiumList):
    """``consortia/``: list (GET) and form (POST) consortia."""

    capability = {"GET": READ, "POST": WRITE}


class CapitalCalls(writes.CallPrepare, reads.ConsortiumCalls):
    """``consortia/{slug}/capital-calls/``: list (GET) and prepare (POST) capital calls."""

    capability = {**reads.ConsortiumCalls.capability, "POST": WRITE}


class Assets(writes.AssetRegister, reads.AssetList):
    """``assets/``: list (GET) and register (POST) assets."""

    capability = {"GET": READ, "POST": WRITE}


_C = "consortia/<str:slug>/"
_CALL = _C + "capital-calls/<str:call>/"
_FAC = _C + "facilities/<str:facility>/"
_DIST = _C + "distributions/<str:distribution>/"  # --- distributions ---

_ROUTES: list[URLPattern] = [
    path("whoami/", health.WhoAmI.as_view(), name="api-whoami"),
    path("healthz/", health.Healthz.as_view(), name="api-healthz"),
    path("readyz/", health.Readyz.as_view(), name="api-readyz"),
    path("consortia/", Consortia.as_view(), name="api-consortia"),
    path(_C, reads.ConsortiumDetail.as_view(), name="api-consortium"),
    path(_C + "progress/", reads.ConsortiumProgress.as_view(), name="api-progress"),
    path(_C + "positions/", reads.ConsortiumPositions.as_view(), name="api-positions"),
    path(_C + "events/", reads.ConsortiumEventFeed.as_view(), name="api-stream"),
    path(_C + "targets/", writes.TargetSet.as_view(), name="api-targets"),
    path(_C + "partners/", writes.PartnerAdmit.as_view(), name="api-partners"),
    path(
        _C + "partners/<str:partner>/role/", writes.PartnerRole.as_view(), name="api-partner-role"
    ),
    path(_C + "commitments/", writes.CommitmentRecord.as_view(), name="api-commitments"),
    path(
        _C + "commitments/<str:commitment>/stage/",
        writes.CommitmentStage.as_view(),
        name="api-commitment-stage",
    ),
    path(
        _C + "commitments/<str:commitment>/amend/",
        writes.CommitmentAmend.as_view(),
        name="api-commitment-amend",
    ),
    path(_C + "capital-calls/", CapitalCalls.as_view(), name="api-calls"),
    path(_CALL + "approve/", writes.CallApprove.as_view(), name="api-call-approve"),
    path(_CALL + "issue/", writes.CallIssue.as_view(), name="api-call-issue"),
    path(_CALL + "cancel/", writes.CallCancel.as_view(), name="api-call-cancel"),
    path(_CALL + "contributions/", writes.ContributionReceive.as_view(), name="api-contributions"),
    path(
        _CALL + "contributions/<str:contribution>/reverse/",
        writes.ContributionReverse.as_view(),
        name="api-contribution-reverse",
    ),
    path(_C + "facilities/", writes.FacilityArrange.as_view(), name="api-facilities"),
    path(_FAC + "draws/", writes.FacilityDraw.as_view(), name="api-facility-draws"),
    path(_FAC + "repayments/", writes.FacilityRepay.as_view(), name="api-facility-repayments"),
    path(_C + "fx-rates/", writes.FxRateRecord.as_view(), name="api-fx-rates"),
    # --- sealed periods ---
    path(_C + "periods/close/", writes.PeriodClose.as_view(), name="api-period-close"),
    path(_C + "periods/reopen/", writes.PeriodReopenPropose.as_view(), name="api-period-reopen"),
    path(
        _C + "periods/reopen/approve/",
        writes.PeriodReopenApprove.as_view(),
        name="api-period-reopen-approve",
    ),
    # --- interest and equalisation ---
    path(_C + "interest-rates/", writes.InterestRateSet.as_view(), name="api-interest-rates"),
    path(
        _C + "equalisation-calls/", writes.EqualisationPrepare.as_view(), name="api-equalisations"
    ),
    path(
        _C + "equalisation-calls/<str:call>/approve/",
        writes.EqualisationApprove.as_view(),
        name="api-equalisation-approve",
    ),
    path(
        _C + "contributions/<str:contribution>/late-interest/waiver/",
        writes.LateInterestWaiverPropose.as_view(),
        name="api-late-interest-waiver",
    ),
    path(
        _C + "contributions/<str:contribution>/late-interest/waiver/approve/",
        writes.LateInterestWaiverApprove.as_view(),
        name="api-late-interest-waiver-approve",
    ),
    # --- distributions ---
    path(_C + "proceeds/", writes.ProceedsRecord.as_view(), name="api-proceeds"),
    path(_C + "distributions/", writes.DistributionPrepare.as_view(), name="api-distributions"),
    path(_DIST + "approve/", writes.DistributionApprove.as_view(), name="api-distribution-approve"),
    path(_DIST + "pay/", writes.DistributionPay.as_view(), name="api-distribution-pay"),
    path("assets/", Assets.as_view(), name="api-assets"),
    path("assets/<str:asset>/stakes/", writes.AssetStake.as_view(), name="api-asset-stakes"),
    path("assets/<str:id>/ownership/", reads.AssetOwnershipView.as_view(), name="api-ownership"),
    path("events/", reads.EventFeed.as_view(), name="api-events"),
    path("reports/", reports.ReportList.as_view(), name="api-reports"),
    path("reports/<int:id>/", reports.ReportDetail.as_view(), name="api-report"),
    path("reports/<int:id>/file/", reports.ReportFile.as_view(), name="api-report-file"),
]


def _without_slash(route: URLPattern) -> URLPattern:
    """The same route without its trailing slash (unnamed: ``reverse`` gives the canonical)."""
    return path(str(route.pattern).rstrip("/"), route.callback)


urlpatterns: list[URLPattern | URLResolver] = [
    *_ROUTES,
    *(_without_slash(route) for route in _ROUTES),
]
