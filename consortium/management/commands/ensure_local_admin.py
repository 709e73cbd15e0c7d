"""``manage.py ensure_local_admin``: a login for the admin on a local, debug-mode install."""

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from consortium import access_log
from consortium.management.commands.seed_demo_users import write_private


class Command(BaseCommand):
    help = (
        "Create the superuser 'admin' with a random password kept in var/ (DEBUG only), "
        "grant it the deal_team role in every consortium (so the API docs page can be tried "
        "with its browser session), and print how to log in. Production creates users with "
        "createsuperuser and grants roles with grant_role instead. The password is printed "
        "when set; later runs say where it is."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("ensure_local_admin is for local development (DJANGO_DEBUG=true).")
        password_file = settings.VAR_DIR / "admin-password.txt"
        users = get_user_model().objects
        password = None
        acting = access_log.Acting.cli()
        admin = users.filter(username="admin").first()
        if admin is None or not password_file.exists():
            password = secrets.token_urlsafe(12)
            with transaction.atomic():
                if admin is None:
                    admin = users.create_superuser("admin", "admin@localhost", password)
                    access_log.user_created(acting, admin, ["email", "is_staff", "is_superuser"])
                else:
                    admin.set_password(password)
                    admin.save()
                    access_log.user_changed(acting, admin, ["password"])
            write_private(password_file, password + "\n")
        access_log.grant_role(acting, admin, "deal_team", "", "")
        who = "a superuser, and deal_team in every consortium"
        if password is not None:
            self.stdout.write(
                f"Admin: log in at /admin/ as 'admin' with password {password!r} ({who}); "
                f"it is kept in {password_file} (not printed again)."
            )
        else:
            self.stdout.write(
                f"Admin: log in at /admin/ as 'admin' ({who}); its password is in {password_file}."
            )
