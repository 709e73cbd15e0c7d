"""The workspace site: every room's pages are mounted, and none hides another's."""

from typing import Any

from django.urls import resolve, reverse

from consortium.admin.commands import views as command_views
from consortium.admin.dashboards import consortium_view


def view_of(path: str) -> Any:
    """The room's view behind the site's ``admin_view`` wrapper."""
    return getattr(resolve(path).func, "__wrapped__", None)


def test_forming_a_consortium_is_not_taken_for_a_consortium_called_new():
    assert view_of(reverse("admin:workspace-consortium-form")) is (
        command_views.consortium_form_page
    )
    assert view_of(reverse("admin:workspace-consortium", args=["aip"])) is consortium_view


def test_every_room_is_mounted():
    rooms: list[tuple[str, list[Any]]] = [
        ("admin:index", []),
        ("admin:workspace-consortium", ["aip"]),
        ("admin:workspace-commands", ["aip"]),
        ("admin:workspace-command", ["aip", "commitment-record"]),
        ("admin:workspace-approvals", []),
        ("admin:workspace-journal", []),
        ("admin:workspace-event", [1]),
        ("admin:workspace-projections", []),
        ("partner:index", []),
    ]
    for name, args in rooms:
        assert reverse(name, args=args)
