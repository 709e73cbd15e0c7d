"""``/api/v1/``: the routes of the finance systems' API."""

from django.urls import URLPattern, URLResolver, path

from consortium.api import health, reads, writes

urlpatterns: list[URLPattern | URLResolver] = [
    path("whoami/", health.WhoAmI.as_view(), name="api-whoami"),
    *writes.urlpatterns,
    *reads.urlpatterns,
]
