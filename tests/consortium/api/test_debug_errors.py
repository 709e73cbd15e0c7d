"""Under ``/api/``, Django's own error pages are problems even with ``DEBUG`` on (the
embedded default), where Django renders its debug pages instead of the error handlers."""

import pytest
from django.test import Client


@pytest.mark.django_db
def test_an_unknown_api_path_in_debug_mode_is_a_problem_not_the_debug_page(settings) -> None:
    settings.DEBUG = True
    response = Client().get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"].endswith("/not-found")


@pytest.mark.django_db
def test_outside_the_api_debug_pages_stay_as_django_renders_them(settings) -> None:
    settings.DEBUG = True
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
