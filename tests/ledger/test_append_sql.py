"""The database runs the append exactly as ledger/sql/append_v2.sql (current) defines it."""

import re
from importlib import import_module

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

SQL_FILE = import_module("ledger.migrations.0010_the_append_runs_as_the_owner").SQL_FILE


def test_the_migration_finds_the_sql_file_in_the_package():
    assert SQL_FILE.is_file() and SQL_FILE.parent.parent.name == "ledger"


def test_every_function_of_the_file_is_installed_as_written(postgres_only):
    text = SQL_FILE.read_text(encoding="utf-8")
    names = re.findall(r"CREATE OR REPLACE FUNCTION (\w+)\(", text)
    assert "ledger_append" in names and "ledger_canonical_event" in names
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT proname, prosrc FROM pg_proc WHERE proname LIKE 'ledger\\_%%' "
            "AND proname <> 'ledger_refuse_change'"
        )
        installed = cursor.fetchall()
    assert sorted(name for name, _ in installed) == sorted(names)  # one of each, no other
    for name, body in installed:
        assert body in text, name
