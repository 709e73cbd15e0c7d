"""The application's database role, created as deploy/ creates it, may do exactly what the
application needs, and the application works as that role. PostgreSQL only.

The role is made by deploy's own scripts, run as they run in compose: the postgres image's
init script (``deploy/postgres/initdb/10-app-role.sh``, through ``psql``) creates the login
role, and ``deploy/scripts/grant_app_role.py`` (what ``migrate.sh`` runs after each
migrate, as the owner) grants its privileges in the test database. Then, connected as that
role, every statement that would rewrite the ledger's history or bookkeeping fails with
permission denied (SQLSTATE 42501), and the application's real work succeeds: an API key
lookup and a command over HTTP with an Idempotency-Key and its replay, a service command
with a receipt and its replay, a command's locked retry path, projection catch-up and
rebuild, a snapshot save, the admin, and verify_ledger / ledger_anchor.

Roles are cluster-wide: each run makes its own, named at random, and drops it at the end.
"""

import dataclasses
import datetime as dt
import importlib.util
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from psycopg import sql
from rest_framework.test import APIClient

from consortium import services
from consortium.domain.events import consortium_stream_id
from ledger import caches, store, tasks
from ledger.models import Snapshot
from ledger.projections import runner
from ledger.store import NewEvent

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
INITDB = ROOT / "deploy" / "postgres" / "initdb" / "10-app-role.sh"
GRANT = ROOT / "deploy" / "scripts" / "grant_app_role.py"
APPEND = (
    "ledger_append(text, text, integer, text, text[], integer[], text[], date[], text, "
    "integer, text, text, text, text, boolean)"
)


def _grant_module() -> Any:
    spec = importlib.util.spec_from_file_location("grant_app_role", GRANT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclasses.dataclass(frozen=True)
class Role:
    name: str
    password: str
    owner: dict[str, Any]  # the test connection's settings: the owner of the test database

    def conninfo(self, *, as_owner: bool = False) -> str:
        user, password = (
            (self.owner["USER"], self.owner["PASSWORD"]) if as_owner else (self.name, self.password)
        )
        return psycopg.conninfo.make_conninfo(
            host=self.owner["HOST"] or "127.0.0.1",
            port=str(self.owner["PORT"] or 5432),
            dbname=self.owner["NAME"],
            user=user,
            password=password or "",
        )

    def owner_url(self) -> str:
        password = quote(self.owner["PASSWORD"] or "", safe="")
        credentials = quote(self.owner["USER"], safe="") + (f":{password}" if password else "")
        host = self.owner["HOST"] or "127.0.0.1"
        return f"postgres://{credentials}@{host}:{self.owner['PORT'] or 5432}/{self.owner['NAME']}"


def run_grant_script(role: Role, *args: str) -> subprocess.CompletedProcess[str]:
    """``grant_app_role.py`` as migrate.sh runs it, connected as the owner."""
    env = {
        **os.environ,
        "DATABASE_URL": role.owner_url(),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",  # its test-only tables too
    }
    return subprocess.run(
        [sys.executable, str(GRANT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def app_role(django_db_setup: None, django_db_blocker: Any) -> Iterator[Role]:
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            pytest.skip("needs PostgreSQL: runs when DATABASE_URL is set (CI's PostgreSQL run)")
        owner = dict(connection.settings_dict)
    assert shutil.which("psql"), "deploy's init script needs psql (postgresql-client)"
    role = Role(f"consortium_app_{secrets.token_hex(4)}", secrets.token_urlsafe(18), owner)
    created = subprocess.run(
        ["bash", str(INITDB)],
        env={
            **os.environ,
            "POSTGRES_USER": owner["USER"],
            "POSTGRES_DB": owner["NAME"],
            "POSTGRES_APP_USER": role.name,
            "POSTGRES_APP_PASSWORD": role.password,
            "PGHOST": owner["HOST"] or "127.0.0.1",
            "PGPORT": str(owner["PORT"] or 5432),
            "PGPASSWORD": owner["PASSWORD"] or "",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    try:
        granted = run_grant_script(role, role.name)
        assert granted.returncode == 0, granted.stderr
        yield role
    finally:
        with psycopg.connect(role.conninfo(as_owner=True), autocommit=True) as owner_conn:
            owner_conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE usename = %s AND datname = current_database()",
                [role.name],
            )
            owner_conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role.name)))
            owner_conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role.name)))


@pytest.fixture
def as_app_role(app_role: Role, transactional_db: None) -> Iterator[Role]:
    """Django's own connection, as web and worker have it, logged in as the app role."""
    settings_dict = connection.settings_dict
    saved = settings_dict["USER"], settings_dict["PASSWORD"]
    connection.close()
    settings_dict["USER"], settings_dict["PASSWORD"] = app_role.name, app_role.password
    caches.clear()
    try:
        yield app_role
    finally:
        connection.close()
        settings_dict["USER"], settings_dict["PASSWORD"] = saved
        caches.clear()


def current_user() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        return str(cursor.fetchone()[0])


# --- what the role may not do -----------------------------------------------------------

FORBIDDEN = {
    # idempotency receipts: written by ledger_append only
    "delete receipts": "DELETE FROM ledger_receipt",
    "update receipts": "UPDATE ledger_receipt SET fingerprint = fingerprint",
    "insert a receipt": (
        "INSERT INTO ledger_receipt (scope, key, fingerprint, body, stream, first_position, "
        "last_position, version, recorded_at) VALUES ('s', 'k', 'f', '{}', 'x', 1, 1, 1, now())"
    ),
    "truncate receipts": "TRUNCATE ledger_receipt",
    # the head: moved by ledger_append only
    "update the head": "UPDATE ledger_head SET position = position",
    "delete the head": "DELETE FROM ledger_head",
    "insert a head": (
        "INSERT INTO ledger_head (partition, position, hash, identity) "
        "VALUES ('other', 0, repeat('0', 64), gen_random_uuid())"
    ),
    # events: appended by ledger_append only, never changed
    "insert an event outside the chain": "INSERT INTO ledger_event SELECT * FROM ledger_event",
    "update events": "UPDATE ledger_event SET data = data",
    "delete events": "DELETE FROM ledger_event",
    "truncate events": "TRUNCATE ledger_event",
    # the locks themselves
    "disable the triggers": "ALTER TABLE ledger_event DISABLE TRIGGER USER",
    "drop a trigger": "DROP TRIGGER ledger_event_no_update_delete ON ledger_event",
    "drop the trigger function": "DROP FUNCTION ledger_refuse_change() CASCADE",
    "bypass triggers": "SET session_replication_role = replica",
    "make the append an invoker": f"ALTER FUNCTION {APPEND} SECURITY INVOKER",
    "unpin the append's search path": f"ALTER FUNCTION {APPEND} RESET search_path",
    "shadow a table in the schema": "CREATE TABLE ledger_shadow (position bigint)",
    "shadow a function in the schema": (
        "CREATE FUNCTION ledger_chain_hash(text, varchar) RETURNS text LANGUAGE sql AS 'SELECT $1'"
    ),
    # other tables: only what the application needs
    "delete a checkpoint": "DELETE FROM ledger_projection_state",
    "truncate snapshots": "TRUNCATE ledger_snapshot",
    "record a migration": (
        "INSERT INTO django_migrations (app, name, applied) VALUES ('x', 'y', now())"
    ),
    "delete an API key": "DELETE FROM consortium_apiclient",
    "rewrite the admin log": "UPDATE django_admin_log SET change_message = ''",
    "delete permissions": "DELETE FROM auth_permission",
    "add a content type": "INSERT INTO django_content_type (app_label, model) VALUES ('x', 'y')",
}


@pytest.mark.parametrize("statement", FORBIDDEN.values(), ids=FORBIDDEN.keys())
def test_the_role_may_not(app_role: Role, statement: str) -> None:
    with psycopg.connect(app_role.conninfo(), autocommit=True) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (app_role.name,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)


def test_the_role_has_exactly_the_stated_privileges_on_every_table(app_role: Role) -> None:
    grant = _grant_module()
    kinds = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
    with psycopg.connect(app_role.conninfo(as_owner=True), autocommit=True) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            )
        ]
        held = {
            table: {
                kind
                for kind in kinds
                if conn.execute(
                    "SELECT has_table_privilege(%s, %s, %s)", [app_role.name, table, kind]
                ).fetchone()
                == (True,)
            }
            for table in tables
        }
    for table in ("ledger_event", "ledger_head", "ledger_receipt"):
        assert held[table] == {"SELECT"}, table
    assert held["ledger_snapshot"] == {"SELECT", "INSERT", "UPDATE", "DELETE"}
    for table, (stated, _why) in grant.TABLES.items():
        assert held[table] == set(stated.split(", ")), table
    for table in set(tables) - set(grant.TABLES):  # read models: rebuilt by design
        assert held[table] == {"SELECT", "INSERT", "UPDATE", "DELETE"}, table


def test_the_append_is_a_definer_with_a_pinned_search_path_for_the_role_only(
    app_role: Role,
) -> None:
    with psycopg.connect(app_role.conninfo(as_owner=True), autocommit=True) as conn:
        row = conn.execute(
            "SELECT p.prosecdef, p.proconfig, p.proowner::regrole::text, current_schema(), "
            "current_user FROM pg_proc p WHERE p.oid = %s::regprocedure",
            [APPEND],
        ).fetchone()
        assert row is not None
        definer, config, owner, schema, owner_now = row
        assert definer is True
        assert config == [f"search_path=pg_catalog, {schema}, pg_temp"]
        assert owner == owner_now  # the role that migrated
        can = "SELECT has_function_privilege(%s, %s, 'EXECUTE')"
        assert conn.execute(can, [app_role.name, APPEND]).fetchone() == (True,)
        assert conn.execute(can, ["public", APPEND]).fetchone() == (False,)


def test_the_grant_script_refuses_a_table_no_rule_names(app_role: Role) -> None:
    with psycopg.connect(app_role.conninfo(as_owner=True), autocommit=True) as conn:
        conn.execute("CREATE TABLE stray_unclassified (id integer)")
        try:
            refused = run_grant_script(app_role, app_role.name)
        finally:
            conn.execute("DROP TABLE stray_unclassified")
    assert refused.returncode == 2
    assert "stray_unclassified" in refused.stderr and "nothing was changed" in refused.stderr


# --- what the application does, as that role --------------------------------------------


def test_the_application_works_as_the_role(as_app_role: Role) -> None:
    assert current_user() == as_app_role.name

    # An operator creates an API key (manage.py, run in a worker container).
    out = StringIO()
    call_command(
        "create_api_client", "erp", "--user", "erp.system", "--role", "deal_team", stdout=out
    )
    key = out.getvalue().strip().splitlines()[-1]

    # A command over HTTP: the key is looked up, the append writes events and a receipt
    # through ledger_append; the retry replays it and appends nothing.
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    body = {"name": "Newco", "slug": "newco", "base_currency": "USD", "formed_on": "2025-01-01"}
    first = api.post("/api/v1/consortia/", body, format="json", HTTP_IDEMPOTENCY_KEY="form-1")
    assert first.status_code == 201, first.content
    head = store.head()
    again = api.post("/api/v1/consortia/", body, format="json", HTTP_IDEMPOTENCY_KEY="form-1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json() and store.head() == head

    # A service command with a receipt, and its replay.
    user = get_user_model().objects.get(username="erp.system")

    def admit() -> services.CommandResult:
        return services.partner_admit(
            actor=services.Actor.keyed(user, "admit-1"),
            slug="newco",
            organisation_id="mgx",
            name="MGX",
            role="member",
            effective_on=dt.date(2025, 1, 2),
        )

    admitted, replayed = admit(), admit()
    assert not admitted.replayed and replayed.replayed
    assert replayed.positions == admitted.positions

    # A command's locked retry: the session holds the stream, the append releases it.
    with store.lock_stream("consortium-held") as hold:
        held = store.append(
            "consortium-held", [NewEvent("Noted", {"n": 1})], expected_version=0, hold=hold
        )
    assert hold.released and held.positions == (store.head(),)

    # The worker: projection catch-up, a rebuild, a snapshot save (and its removal).
    tasks.catch_up_projections()
    assert all(state.checkpoint == store.head() for state in runner.status())
    name = runner.status()[0].name
    call_command("rebuild_projections", name, stdout=StringIO())
    assert runner.live_generation(name) == 2
    stream = consortium_stream_id("newco")
    tasks.save_snapshot(stream)
    assert Snapshot.objects.filter(stream=stream).count() == 1
    tasks.save_snapshot(stream)  # replaced
    Snapshot.objects.filter(stream=stream).delete()  # replaceable, by design
    assert api.get("/api/v1/consortia/newco/").status_code == 200

    # A person in the admin: a session, last_login, the admin log.
    admin = get_user_model().objects.create_superuser("ops", "ops@example.com", "pw")
    browser = Client()
    browser.force_login(admin)
    assert browser.get("/admin/ledger/event/").status_code == 200
    # Creating a user appends its AccessChanged event (through ledger_append) as this role.
    password = "a long enough passphrase"
    head = store.head()
    added = browser.post(
        "/admin/auth/user/add/",
        {
            "username": "erin",
            "password1": password,
            "password2": password,
            "usable_password": "true",
        },
    )
    assert added.status_code == 302, added.content
    assert LogEntry.objects.filter(user=admin).count() == 1
    assert store.head() == head + 1

    # Reading the ledger needs only this role.
    verified = StringIO()
    call_command("verify_ledger", stdout=verified)
    assert "hash chain intact" in verified.getvalue()
    anchored = StringIO()
    call_command("ledger_anchor", "--format", "json", stdout=anchored)
    assert f'"position": {store.head()}' in anchored.getvalue()
    assert current_user() == as_app_role.name


def test_a_temporary_table_cannot_stand_in_for_the_ledger_head(as_app_role: Role) -> None:
    store.append("consortium-a", [NewEvent("Noted", {"n": 1})], expected_version=None)
    real = store.head_state()
    with connection.cursor() as cursor:
        # The role may create temporary tables (PUBLIC may, by default). One named like a
        # ledger table comes first in the session's own search path; the definer's path
        # puts pg_temp last, so the append never sees it.
        cursor.execute("CREATE TEMP TABLE ledger_head (LIKE public.ledger_head)")
        cursor.execute(
            "INSERT INTO ledger_head (partition, position, hash, identity) "
            "VALUES ('default', 999, repeat('f', 64), gen_random_uuid())"
        )
        cursor.execute("CREATE TEMP TABLE ledger_event (LIKE public.ledger_event)")
        appended = store.append(
            "consortium-a", [NewEvent("Noted", {"n": 2})], expected_version=None
        )
        assert appended.positions == (real[0] + 1,)
        cursor.execute("SELECT position FROM pg_temp.ledger_head")
        assert cursor.fetchone() == (999,)
        cursor.execute("SELECT count(*) FROM pg_temp.ledger_event")
        assert cursor.fetchone() == (0,)
        cursor.execute("SELECT position, hash FROM public.ledger_head")
        position, digest = cursor.fetchone()
        cursor.execute("SELECT prev_hash FROM public.ledger_event WHERE position = %s", [position])
        assert position == real[0] + 1 and cursor.fetchone() == (real[1],)
        cursor.execute("DROP TABLE pg_temp.ledger_head, pg_temp.ledger_event")
    assert store.head_state() == (position, digest)
