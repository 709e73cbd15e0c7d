"""``/``: where a visitor goes from here (the workspace, the partner view, the API docs)."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse


def home(request: HttpRequest) -> HttpResponse:
    try:
        partner_url: str | None = reverse("partner:index")
    except NoReverseMatch:
        partner_url = None
    context = {
        # The theme's colours, stylesheets and titles, as on the admin's own pages.
        **admin.site.each_context(request),
        "title": "Welcome",
        "site_url": None,  # no "Return to site" link on the site's own front page
        "partner_url": partner_url,
    }
    return render(request, "consortium/home.html", context)
