"""The workspace site: every room's pages are mounted, and none hides another's."""

from django.urls import resolve, reverse

from consortium.admin.commands import views as command_views
from consortium.admin.dashboards import consortium_view


def test_forming_a_consortium_is_not_taken_for_a_consortium_called_new():
    assert resolve(reverse("admin:workspace-consortium-form")).func.__wrapped__ is (
        command_views.consortium_form_page
    )
    assert resolve(reverse("admin:workspace-consortium", args=["aip"])).func.__wrapped__ is (
        consortium_view
    )


def test_every_room_is_mounted():
    for name, args in [
        ("admin:index", []),
        ("admin:workspace-consortium", ["aip"]),
        ("admin:workspace-commands", ["aip"]),
        ("admin:workspace-command", ["aip", "commitment-record"]),
        ("admin:workspace-approvals", []),
        ("admin:workspace-journal", []),
        ("admin:workspace-event", [1]),
        ("admin:workspace-projections", []),
        ("partner:index", []),
    ]:
        assert reverse(name, args=args)
