"""The deal-team workspace: the Django admin, themed with django-unfold.

Where each room is (the URLs are under ``/admin/``; ``site.Workspace`` mounts them):

- ``site``: the admin site itself: who may enter (``consortium.roles``), the rooms' URLs;
- ``navigation``: the sidebar;
- ``formatting``: how amounts, percentages and dates are written on every page (kept in
  ``consortium.formatting``, shared with the reports; the
  template filters in ``consortium.templatetags.workspace`` are thin wrappers);
- ``dashboards``: the landing page and a consortium's dashboard, live and as of a date;
- ``commands``: one form per service in ``consortium.services``;
- ``approvals``: the maker-checker queue of capital calls awaiting approval;
- ``journal``: the history, events in words;
- ``reports``: stored reports, their downloads and a form to generate one;
- ``operations``: projections, their lag and rebuilds;
- ``people``: users, role grants and API clients (superusers only);
- ``recipients``: partner recipients and payment instructions (a second person approves).

Every page reads the projections through ``consortium.projections.selectors`` (only the
as-of view folds the ledger) and every write goes through ``consortium.services``, as
the signed-in user with ``source="admin"``; no ModelAdmin adds, changes or deletes
anything of the domain.
"""
