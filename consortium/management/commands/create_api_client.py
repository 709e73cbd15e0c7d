"""``manage.py create_api_client NAME --user U --role ROLE [--consortium SLUG ...]``."""

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from consortium import access_log
from consortium.models import ApiClient


class Command(BaseCommand):
    help = (
        "Create an API key for a user (a person or a named system account), grant it a role "
        "globally or in the named consortia, and print the key once (only its SHA-256 "
        "digest is stored). Use --revoke NAME to revoke a key. Every change is recorded in "
        "the ledger (stream 'access', source 'cli')."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="A name for the client, e.g. treasury-erp.")
        parser.add_argument("--user", help="The username the key acts as (created if new).")
        parser.add_argument("--role", help="deal_team, finance, auditor or partner:<org>.")
        parser.add_argument("--consortium", action="append", default=[], metavar="SLUG")
        parser.add_argument("--expires-in-days", type=int, default=None)
        parser.add_argument("--revoke", action="store_true", help="Revoke the named key.")

    def handle(self, *args: Any, **options: Any) -> None:
        name, acting = options["name"], access_log.Acting.cli()
        if options["revoke"]:
            clients = ApiClient.objects.filter(name=name)
            if not access_log.revoke_api_clients(acting, clients):
                raise CommandError(f"No active API client is named {name!r}.")
            self.stdout.write(f"{name}: revoked.")
            return
        if not options["user"] or not options["role"]:
            raise CommandError("--user and --role are required to create a client.")
        try:
            role, organisation = access_log.parse_role(options["role"])
        except access_log.GrantRefused as refused:
            raise CommandError(str(refused)) from None
        days = options["expires_in_days"]
        try:
            with transaction.atomic():
                user, created = get_user_model().objects.get_or_create(username=options["user"])
                if created:
                    access_log.user_created(acting, user)
                _, key = access_log.create_api_client(
                    acting,
                    name=name,
                    user=user,
                    expires_at=timezone.now() + dt.timedelta(days=days) if days else None,
                )
                for consortium in options["consortium"] or [""]:
                    access_log.grant_role(acting, user, role, organisation, consortium)
        except access_log.ClientRefused as refused:
            raise CommandError(str(refused)) from None
        warn_unknown_consortia(self, options["consortium"])
        scope = ", ".join(options["consortium"]) or "all consortia"
        self.stdout.write(f"{name}: {options['role']} for {user.get_username()} in {scope}.")
        self.stdout.write("Key (shown once; send it as 'Authorization: Bearer <key>'):")
        self.stdout.write(key)


def warn_unknown_consortia(command: BaseCommand, slugs: list[str]) -> None:
    """A grant may name a consortium not formed yet (it applies once it is); say so, as a
    typo would look the same."""
    for slug in slugs:
        if not access_log.consortium_known(slug):
            command.stderr.write(
                f"Note: the ledger has no consortium {slug!r} yet; the grant applies once it "
                "is formed (check the spelling)."
            )
