"""The service's routes plus the bench-only baselines under ``/bench/``."""

from django.urls import path

from bench.baseline import views
from config.urls import urlpatterns as service_urlpatterns

urlpatterns = [
    path("bench/trivial/", views.Trivial.as_view()),
    path("bench/consortia/<slug:slug>/commitments/", views.PlainCommitmentCreate.as_view()),
    *service_urlpatterns,
]
