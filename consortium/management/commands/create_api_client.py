"""``manage.py create_api_client NAME --user U --role ROLE [--consortium SLUG ...]``."""

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from consortium.api.access import digest, new_key
from consortium.models import ApiClient, RoleGrant


def parse_role(text: str) -> tuple[str, str]:
    """``deal_team``, ``finance``, ``auditor`` or ``partner:<organisation id>``."""
    role, _, organisation = text.partition(":")
    if role not in RoleGrant.ROLES or (role == "partner") != bool(organisation):
        raise CommandError(
            f"{text!r} is not a role: use deal_team, finance, auditor or partner:<organisation>."
        )
    return role, organisation


class Command(BaseCommand):
    help = (
        "Create an API key for a user (a person or a named system account), grant it a role "
        "globally or in the named consortia, and print the key once (only its SHA-256 "
        "digest is stored). Use --revoke NAME to revoke a key."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="A name for the client, e.g. treasury-erp.")
        parser.add_argument("--user", help="The username the key acts as (created if new).")
        parser.add_argument("--role", help="deal_team, finance, auditor or partner:<org>.")
        parser.add_argument("--consortium", action="append", default=[], metavar="SLUG")
        parser.add_argument("--expires-in-days", type=int, default=None)
        parser.add_argument("--revoke", action="store_true", help="Revoke the named key.")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"]
        if options["revoke"]:
            updated = ApiClient.objects.filter(name=name, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )
            if not updated:
                raise CommandError(f"No active API client is named {name!r}.")
            self.stdout.write(f"{name}: revoked.")
            return
        if not options["user"] or not options["role"]:
            raise CommandError("--user and --role are required to create a client.")
        role, organisation = parse_role(options["role"])
        if ApiClient.objects.filter(name=name).exists():
            raise CommandError(f"An API client named {name!r} exists already.")
        key = new_key()
        days = options["expires_in_days"]
        with transaction.atomic():
            user, _ = get_user_model().objects.get_or_create(username=options["user"])
            ApiClient.objects.create(
                name=name,
                user=user,
                key_prefix=key[:12],
                key_digest=digest(key),
                expires_at=timezone.now() + dt.timedelta(days=days) if days else None,
            )
            for consortium in options["consortium"] or [""]:
                RoleGrant.objects.get_or_create(
                    user=user, role=role, organisation_id=organisation, consortium=consortium
                )
        scope = ", ".join(options["consortium"]) or "all consortia"
        self.stdout.write(f"{name}: {options['role']} for {user.get_username()} in {scope}.")
        self.stdout.write("Key (shown once; send it as 'Authorization: Bearer <key>'):")
        self.stdout.write(key)
