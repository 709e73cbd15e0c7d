"""The admin app, with the deal-team workspace (``consortium.admin.site.Workspace``) as
its default site, so every ``admin.register`` (the ledger's too) lands in it."""

from django.contrib.admin.apps import AdminConfig


class WorkspaceAdminConfig(AdminConfig):
    default_site = "consortium.admin.site.Workspace"
