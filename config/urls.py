"""URL map: the home page, the workspace (the admin), the partner view (``/partner/``),
the health probes and the API (under ``/api/v1/``).

Django's own error answers (an unknown path, a request it refuses, a server error) are
problem+json under ``/api/v1/`` (``consortium.api.errors.django_error``) and Django's
defaults elsewhere.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.views import defaults
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from consortium.api.errors import django_error
from consortium.home import home


def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive and serving requests."""
    return JsonResponse({"status": "ok"})


def bad_request(request: HttpRequest, exception: Any) -> HttpResponse:
    return django_error(request, 400) or defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Any) -> HttpResponse:
    return django_error(request, 403) or defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Any) -> HttpResponse:
    return django_error(request, 404) or defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    return django_error(request, 500) or defaults.server_error(request)


handler400 = bad_request
handler403 = permission_denied
handler404 = page_not_found
handler500 = server_error

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("partner/", include("consortium.partner.urls")),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include("consortium.api.urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
