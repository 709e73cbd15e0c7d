"""``manage.py grant_role USER ROLE [--consortium SLUG ...]``: for people using the admin."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from consortium.management.commands.create_api_client import parse_role
from consortium.models import RoleGrant


class Command(BaseCommand):
    help = "Grant a role (deal_team, finance, auditor, partner:<org>) globally or per consortium."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user")
        parser.add_argument("role")
        parser.add_argument("--consortium", action="append", default=[], metavar="SLUG")

    def handle(self, *args: Any, **options: Any) -> None:
        role, organisation = parse_role(options["role"])
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"There is no user {options['user']!r}.")
        for consortium in options["consortium"] or [""]:
            RoleGrant.objects.get_or_create(
                user=user, role=role, organisation_id=organisation, consortium=consortium
            )
        self.stdout.write(f"{user.get_username()}: {options['role']} granted.")
