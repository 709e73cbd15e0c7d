"""``/partner/``: the partner view's sign-in, sign-out and its one page."""

from django.urls import path

from consortium.partner import views

app_name = "partner"

urlpatterns = [
    path("", views.index, name="index"),
    path("login/", views.PartnerLogin.as_view(), name="login"),
    path("logout/", views.PartnerLogout.as_view(), name="logout"),
    path("reports/<int:report_id>/file/", views.report_file, name="report-file"),
]
