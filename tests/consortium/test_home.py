"""``/``: links to where a visitor can go, and who is signed in."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import NoReverseMatch, reverse

pytestmark = pytest.mark.django_db


def test_the_home_page_links_to_the_workspace_and_the_api_docs(client):
    page = client.get("/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'href="/admin/"' in html and 'href="/api/v1/docs/"' in html
    assert "Sign in" in html
    # Styled like the admin: the theme's colours and the workspace's stylesheet are there.
    assert 'id="unfold-theme-colors"' in html and "workspace/workspace.css" in html
    try:
        partner = reverse("partner:index")
    except NoReverseMatch:
        assert "Partner view" not in html
    else:
        assert f'href="{partner}"' in html


def test_the_home_page_names_the_signed_in_user(client):
    user = get_user_model().objects.create_user("dana", first_name="Dana", last_name="Reyes")
    client.force_login(user)
    html = client.get("/").content.decode()
    assert "Dana Reyes" in html and "(dana)" in html
    assert "Sign out" in html
