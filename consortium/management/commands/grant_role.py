"""``manage.py grant_role USER ROLE [--consortium SLUG ...]``: for people using the admin."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from consortium import access_log
from consortium.management.commands.create_api_client import warn_unknown_consortia


class Command(BaseCommand):
    help = (
        "Grant a role (deal_team, finance, auditor, partner:<org>) globally or per consortium, "
        "recorded in the ledger (stream 'access', source 'cli'). It never makes the user "
        "staff: a deal-team, finance or auditor user also needs is_staff to use the admin, "
        "and a partner user signs in to the partner view (/partner/) instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("user")
        parser.add_argument("role")
        parser.add_argument("--consortium", action="append", default=[], metavar="SLUG")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            role, organisation = access_log.parse_role(options["role"])
        except access_log.GrantRefused as refused:
            raise CommandError(str(refused)) from None
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"There is no user {options['user']!r}.")
        acting = access_log.Acting.cli()
        with transaction.atomic():
            for consortium in options["consortium"] or [""]:
                access_log.grant_role(acting, user, role, organisation, consortium)
        warn_unknown_consortia(self, options["consortium"])
        self.stdout.write(f"{user.get_username()}: {options['role']} granted.")
