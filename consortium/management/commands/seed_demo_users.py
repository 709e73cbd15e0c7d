"""``manage.py seed_demo_users``: one sign-in per role for trying the demo (DEBUG only)."""

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from consortium import access_log
from consortium.demo import DEMO_USERS

PASSWORD_FILE = "demo-passwords.txt"  # noqa: S105 (a file name)


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: str  # deal_team, finance, auditor, partner
    organisation: str = ""  # for a partner
    consortia: tuple[str, ...] = ("",)  # "" is every consortium
    staff: bool = True  # the workspace is for staff; a partner uses the partner view

    @property
    def grant(self) -> str:
        role = f"partner:{self.organisation}" if self.organisation else self.role
        scope = ", ".join(self.consortia) if any(self.consortia) else "all consortia"
        return f"{role} in {scope}"


DEMO_CONSORTIA = ("aip", "stargate")
USERS = (
    # The demo's own actors (consortium.demo), who recorded its events, now able to sign in.
    DemoUser("alice.deal", *DEMO_USERS["alice.deal"], role="deal_team"),
    DemoUser("bob.finance", *DEMO_USERS["bob.finance"], role="finance"),
    DemoUser("carol.audit", "Carol", "Auditor", role="auditor", consortia=DEMO_CONSORTIA),
    DemoUser(
        "mgx.partner",
        "Maryam",
        "MGX investor relations",
        role="partner",
        organisation="mgx",
        consortia=DEMO_CONSORTIA,
        staff=False,
    ),
)


def read_passwords(path: Path) -> dict[str, str]:
    """username -> password, from the file's ``username password  # grant`` lines."""
    if not path.exists():
        return {}
    kept = {}
    for line in path.read_text().splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) == 2:
            kept[words[0]] = words[1]
    return kept


def write_private(path: Path, text: str) -> None:
    """Write ``path``, readable by its owner only from the moment it exists (and made so
    if it existed already: a mode given to ``open`` applies only to a new file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    path.chmod(0o600)


def write_passwords(path: Path, passwords: dict[str, str]) -> None:
    """The demo users' passwords, one line each with the user's grant."""
    grants = {user.username: user.grant for user in USERS}
    lines = ["# Demo users (manage.py seed_demo_users): username password  # role"]
    lines += [f"{name} {password}  # {grants[name]}" for name, password in passwords.items()]
    write_private(path, "\n".join(lines) + "\n")


class Command(BaseCommand):
    help = (
        "Create the demo's users, one per role (deal team, finance, auditor, an MGX "
        "partner), with random passwords kept in var/ (DEBUG only). Their passwords are "
        "printed when set; running it again changes nothing and says where they are."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo_users is for local development (DJANGO_DEBUG=true).")
        path = settings.VAR_DIR / PASSWORD_FILE
        kept = read_passwords(path)
        passwords: dict[str, str] = {}
        new: list[DemoUser] = []
        acting = access_log.Acting.cli()
        with transaction.atomic():
            for demo in USERS:
                user, created = get_user_model().objects.get_or_create(
                    username=demo.username,
                    defaults={"first_name": demo.first_name, "last_name": demo.last_name},
                )
                changed = set()
                password = kept.get(demo.username)
                if password is None or not user.has_usable_password():
                    password = secrets.token_urlsafe(12)
                    user.set_password(password)
                    new.append(demo)
                    changed.add("password")
                if user.is_staff != demo.staff:
                    user.is_staff = demo.staff
                    changed.add("is_staff")
                if not user.is_active:
                    user.is_active = True
                    changed.add("is_active")
                user.save()
                if created:
                    access_log.user_created(acting, user, sorted(changed | {"first_name"}))
                else:
                    access_log.user_changed(acting, user, sorted(changed))
                for consortium in demo.consortia:
                    access_log.grant_role(acting, user, demo.role, demo.organisation, consortium)
                passwords[demo.username] = password
            if new:
                write_passwords(path, passwords)
        for demo in new:
            self.stdout.write(
                f"Demo user {demo.username!r} ({demo.grant}): password {passwords[demo.username]!r}"
            )
        if new:
            self.stdout.write(f"These passwords are kept in {path} (not printed again).")
        else:
            names = ", ".join(demo.username for demo in USERS)
            self.stdout.write(f"Demo users {names}: their passwords are in {path}.")
