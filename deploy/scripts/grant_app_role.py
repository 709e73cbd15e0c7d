#!/usr/bin/env python
"""Give the application's database role exactly what the application needs, table by table.

Run by ``migrate.sh`` after ``manage.py migrate``, connected as the schema owner, so that
tables added by new migrations are covered the moment they exist:

    python deploy/scripts/grant_app_role.py consortium_app            # apply
    python deploy/scripts/grant_app_role.py --dry-run consortium_app  # print the SQL only

The role web, worker and beat connect as gets, in the schema the owner's connection
works in (``current_schema()``: ``public`` unless the connection says otherwise):

- on the ledger's own tables (``ledger_event``, ``ledger_head``, ``ledger_receipt``),
  SELECT and nothing else, plus EXECUTE on ``ledger_append``: that function (migration
  0010, ``ledger/sql/append_v2.sql``) is SECURITY DEFINER, owned by the schema owner, and
  is the only way the application writes them, one whole chained append at a time;
- on every other table, the privileges in ``TABLES`` below, each with its reason, or, for
  a projection's read-model table (a ``ProjectionRow``), SELECT, INSERT, UPDATE, DELETE:
  read models are rebuilt from the ledger by design;
- USAGE, SELECT on the sequences of the tables it may INSERT into, and nothing on others.

Every privilege the role held before is revoked first, in the same transaction, so a
narrower rule takes effect on an existing database and no query sees the role between
the two. A table no rule names stops the script (exit 2, nothing changed): a migration
that adds a table must say here what the application may do with it.
PostgreSQL only. deploy/README.md explains the roles; tests/deploy/test_app_role.py
creates them as deploy/ does and checks every rule as that role.
"""

import os
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

SELECT = "SELECT"
READ_WRITE = "SELECT, INSERT, UPDATE, DELETE"

# Table -> the only privileges the application role has on it, and why.
TABLES: dict[str, tuple[str, str]] = {
    "ledger_event": (SELECT, "appended only by ledger_append, which runs as the owner"),
    "ledger_head": (SELECT, "moved only by ledger_append"),
    "ledger_receipt": (SELECT, "idempotency receipts: written only by ledger_append"),
    "ledger_snapshot": (
        READ_WRITE,
        "a cache: signed (HMAC), checked against the ledger's hash on every use, replaced "
        "or deleted freely; a bad or missing one is folded again from the ledger",
    ),
    "ledger_projection_state": (
        "SELECT, INSERT, UPDATE",
        "projection checkpoints: created, locked (FOR UPDATE) and advanced; never deleted",
    ),
    "django_migrations": (SELECT, "only the owner migrates"),
    "django_content_type": (SELECT, "created by migrate"),
    "auth_permission": (SELECT, "created by migrate"),
    "auth_user": (READ_WRITE, "people, managed in the admin and by manage.py commands"),
    "auth_group": (READ_WRITE, "managed in the admin"),
    "auth_group_permissions": (READ_WRITE, "managed in the admin"),
    "auth_user_groups": (READ_WRITE, "managed in the admin"),
    "auth_user_user_permissions": (READ_WRITE, "managed in the admin"),
    "django_admin_log": (
        "SELECT, INSERT, DELETE",
        "the admin's history: added to, never changed; rows go only with their user",
    ),
    "django_session": (READ_WRITE, "sign-in sessions"),
    "consortium_apiclient": (
        "SELECT, INSERT, UPDATE",
        "API keys: created and revoked (revoked_at), never deleted",
    ),
    "consortium_rolegrant": (READ_WRITE, "roles of people, granted and withdrawn"),
    "consortium_storedreport": (
        "SELECT, INSERT",
        "generated reports: stored as made and never changed or deleted by the application",
    ),
    "consortium_reportschedule": (READ_WRITE, "report schedules, managed in the admin"),
    "consortium_reportrun": (
        "SELECT, INSERT, UPDATE",
        "one row per schedule and period: started, then finished or failed; never deleted",
    ),
    "consortium_delivery": (
        "SELECT, INSERT, UPDATE",
        "one row per e-mail and recipient: attempted, sent or failed; never deleted",
    ),
    "consortium_delivery_reports": ("SELECT, INSERT", "which reports a delivery carried"),
    "consortium_partnerrecipient": (READ_WRITE, "partners' recipients, managed in the admin"),
    "consortium_paymentinstruction": (
        "SELECT, INSERT, UPDATE",
        "proposed, then approved or rejected by a second person; never deleted (the record "
        "of what notices said)",
    ),
    "django_celery_beat_periodictask": (
        READ_WRITE,
        "beat's entries: kept in step with the report schedules, run counts updated by beat",
    ),
    "django_celery_beat_periodictasks": (READ_WRITE, "beat's change marker"),
    "django_celery_beat_crontabschedule": (READ_WRITE, "the schedules' crontab times"),
    "django_celery_beat_intervalschedule": (READ_WRITE, "managed by beat and the admin"),
    "django_celery_beat_solarschedule": (READ_WRITE, "managed by beat and the admin"),
    "django_celery_beat_clockedschedule": (READ_WRITE, "managed by beat and the admin"),
}

# The functions the application role may execute beyond PUBLIC's: the definer append.
FUNCTIONS = (
    "ledger_append(text, text, integer, text, text[], integer[], text[], date[], text, "
    "integer, text, text, text, text, boolean)",
)

_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class UnknownTables(Exception):
    """Tables in the schema that no rule names."""


def privileges(tables: list[str], projection_tables: set[str]) -> dict[str, str]:
    """Each table of the schema -> the privileges the application role gets on it."""
    unknown = sorted(set(tables) - set(TABLES) - projection_tables)
    if unknown:
        raise UnknownTables(", ".join(unknown))
    return {table: TABLES[table][0] if table in TABLES else READ_WRITE for table in sorted(tables)}


def statements(
    role: str, schema: str, granted: dict[str, str], sequences: dict[str, list[str]]
) -> list[str]:
    """The SQL, in order; ``role`` and ``schema`` must already be quoted identifiers;
    ``sequences`` maps a table to its sequences (quoted, schema-qualified)."""
    sql = [
        f"REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}",
        f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {schema} FROM {role}",
        f"GRANT USAGE ON SCHEMA {schema} TO {role}",
    ]
    for table, table_privileges in granted.items():
        sql.append(f'GRANT {table_privileges} ON {schema}."{table}" TO {role}')
        if "INSERT" in table_privileges:
            sql.extend(
                f"GRANT USAGE, SELECT ON SEQUENCE {sequence} TO {role}"
                for sequence in sequences.get(table, [])
            )
    sql.extend(f"GRANT EXECUTE ON FUNCTION {schema}.{function} TO {role}" for function in FUNCTIONS)
    return sql


_SEQUENCES = """
SELECT t.relname, quote_ident(n.nspname) || '.' || quote_ident(s.relname)
FROM pg_class s
JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
    AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
JOIN pg_class t ON t.oid = d.refobjid
JOIN pg_namespace n ON n.oid = s.relnamespace
WHERE s.relkind = 'S' AND n.nspname = current_schema()
"""


def main(argv: list[str]) -> int:
    args = argv[1:]
    dry_run = "--dry-run" in args
    args = [arg for arg in args if arg != "--dry-run"]
    if len(args) != 1 or not _ROLE_NAME.match(args[0]):
        sys.stderr.write(
            "usage: grant_app_role.py [--dry-run] ROLE  (a lower-case PostgreSQL role name)\n"
        )
        return 2
    role = args[0]

    sys.path.insert(0, str(REPO_ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()
    from django.apps import apps
    from django.db import connection, transaction

    from ledger.projections.base import ProjectionRow

    if connection.vendor != "postgresql":
        sys.stderr.write("DATABASE_APP_ROLE is set, but DATABASE_URL is not PostgreSQL.\n")
        return 2
    projection_tables = {
        model._meta.db_table for model in apps.get_models() if issubclass(model, ProjectionRow)
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_schema()")
        user, schema = cursor.fetchone() or (None, None)
        if schema is None:
            sys.stderr.write("The connection has no current schema: check its search_path.\n")
            return 2
        if user == role:
            sys.stderr.write(
                f"Connected as {role} itself: run migrations as the owner role "
                "(MIGRATE_DATABASE_URL), never as the application role.\n"
            )
            return 2
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        tables = [row[0] for row in cursor.fetchall()]
        cursor.execute(_SEQUENCES)
        sequences: dict[str, list[str]] = {}
        for table, sequence in cursor.fetchall():
            sequences.setdefault(table, []).append(sequence)
        try:
            granted = privileges(tables, projection_tables)
        except UnknownTables as error:
            sys.stderr.write(
                f"No rule in {Path(__file__).name} says what the application may do with: "
                f"{error}. Add one to TABLES; nothing was changed.\n"
            )
            return 2
        quote = connection.ops.quote_name
        sql = statements(quote(role), quote(str(schema)), granted, sequences)
        if dry_run:
            sys.stdout.write("".join(f"{statement};\n" for statement in sql))
            transaction.set_rollback(True)
            return 0
        for statement in sql:
            cursor.execute(statement)
    sys.stdout.write(
        f"Privileges of {role} set in schema {schema}: the ledger is read-only to it but "
        "for ledger_append.\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
