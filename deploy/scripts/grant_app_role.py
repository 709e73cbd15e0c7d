#!/usr/bin/env python
"""Give the application's database role what it needs, and on the ledger no more.

Run by ``migrate.sh`` after ``manage.py migrate``, connected as the schema owner, so that
tables added by new migrations are covered the moment they exist:

    python deploy/scripts/grant_app_role.py consortium_app

The role web, worker and beat connect as may read and write ordinary tables, but on the
ledger it may only read and append: no UPDATE, DELETE or TRUNCATE on ``ledger_event``
(the triggers refuse them too; this is the second lock on the same door). PostgreSQL only.
The same statements are in deploy/README.md for databases provisioned by hand.
"""

import os
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# Table -> the only privileges the application role keeps on it.
RESTRICTED: dict[str, str] = {
    "ledger_event": "SELECT, INSERT",
    "ledger_head": "SELECT, INSERT, UPDATE",
    "ledger_receipt": "SELECT, INSERT",
    "django_migrations": "SELECT",
}

_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def statements(role: str) -> list[str]:
    """The SQL, in order; ``role`` must already be a safe, quoted identifier."""
    sql = [
        "GRANT USAGE ON SCHEMA public TO {role}",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    ]
    for table, privileges in RESTRICTED.items():
        sql.append(f"REVOKE ALL ON {table} FROM {{role}}")
        sql.append(f"GRANT {privileges} ON {table} TO {{role}}")
    return [line.format(role=role) for line in sql]


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not _ROLE_NAME.match(argv[1]):
        sys.stderr.write("usage: grant_app_role.py ROLE  (a lower-case PostgreSQL role name)\n")
        return 2
    role = argv[1]

    sys.path.insert(0, str(REPO_ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        sys.stderr.write("DATABASE_APP_ROLE is set, but DATABASE_URL is not PostgreSQL.\n")
        return 2
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        row = cursor.fetchone()
        if row is not None and row[0] == role:
            sys.stderr.write(
                f"Connected as {role} itself: run migrations as the owner role "
                "(MIGRATE_DATABASE_URL), never as the application role.\n"
            )
            return 2
        for statement in statements(connection.ops.quote_name(role)):
            cursor.execute(statement)
    sys.stdout.write(f"Privileges of {role} set: the ledger is read-and-append only.\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
