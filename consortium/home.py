"""``/``: where a visitor goes from here (the workspace, the partner view, the API docs)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse


def home(request: HttpRequest) -> HttpResponse:
    try:
        partner_url: str | None = reverse("partner:index")
    except NoReverseMatch:
        partner_url = None
    return render(request, "consortium/home.html", {"partner_url": partner_url})
