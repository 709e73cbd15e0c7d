"""PostgreSQL: the whole append as one server-side function, ``ledger_append``.

One statement, so one round trip (and, at the top level, no separate BEGIN and COMMIT):
it locks the head row, checks idempotency and the stream version with fresh snapshots
taken after the lock (each statement in a PL/pgSQL function gets its own), builds each
event's canonical bytes exactly as ``ledger.canonical.encoded_event_bytes`` does, chains
the SHA-256 hashes, inserts, and moves the head. SQLite does the same in Python.

Both encodings are checked against each other: ``verify_ledger`` (Python) recomputes every
hash the function wrote, in the PostgreSQL test run.

Inputs are already canonical JSON text (``data`` as one JSON array, ``metadata``); stream and type names are
restricted to characters JSON does not escape, so quoting them is concatenation.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

FUNCTION = r"""
CREATE OR REPLACE FUNCTION ledger_append(
    p_partition text,
    p_stream text,
    p_expected integer,
    p_types text[],
    p_schema_versions integer[],
    p_data text,
    p_effective_on date[],
    p_metadata text,
    p_key text,
    p_fingerprint text
) RETURNS TABLE (status text, first_position bigint, last_position bigint, version integer)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    head_row record;
    keyed record;
    current_version integer;
    stamp timestamptz;
    stamp_text text;
    prev text;
    pos bigint;
    ver integer;
    n integer := coalesce(array_length(p_types, 1), 0);
    positions bigint[] := '{}';
    versions integer[] := '{}';
    prevs text[] := '{}';
    hashes text[] := '{}';
    canonical text;
    data_items text[];
BEGIN
    SELECT h.position, h.hash, h.recorded_at INTO head_row
    FROM ledger_head h WHERE h.partition = p_partition FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'The ledger has no head row for partition %: run migrate.', p_partition;
    END IF;
    IF p_key IS NOT NULL THEN
        SELECT a.stream, a.fingerprint, a.first_position, a.last_position, a.version INTO keyed
        FROM ledger_idempotent_append a WHERE a.key = p_key;
        IF FOUND THEN
            IF keyed.stream <> p_stream OR keyed.fingerprint <> p_fingerprint THEN
                RETURN QUERY SELECT 'conflict'::text, 0::bigint, 0::bigint, 0;
            ELSE
                RETURN QUERY SELECT 'replayed'::text, keyed.first_position,
                    keyed.last_position, keyed.version;
            END IF;
            RETURN;
        END IF;
    END IF;
    -- One index probe whatever plan PL/pgSQL has cached (a generic max() plan made
    -- while the table was small scans the whole stream).
    SELECT e.version INTO current_version
    FROM ledger_event e WHERE e.stream = p_stream ORDER BY e.version DESC LIMIT 1;
    current_version := coalesce(current_version, 0);
    IF p_expected IS NOT NULL AND p_expected <> current_version THEN
        RETURN QUERY SELECT 'wrong_version'::text, 0::bigint, 0::bigint, current_version;
        RETURN;
    END IF;
    -- The wall clock after the lock, never earlier than the previous event's time.
    stamp := greatest(clock_timestamp(), head_row.recorded_at);
    stamp := date_trunc('microseconds', stamp);
    stamp_text := to_char(stamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
    -- The data arrive as one JSON array of canonical texts (the json type keeps each
    -- element's text exactly), which spares escaping every quote into a text[] literal.
    data_items := ARRAY(SELECT d.value::text FROM json_array_elements(p_data::json) d);
    prev := head_row.hash;
    pos := head_row.position;
    ver := current_version;
    FOR i IN 1..n LOOP
        pos := pos + 1;
        ver := ver + 1;
        canonical := '{"data":' || data_items[i]
            || ',"effective_on":' || coalesce('"' || to_char(p_effective_on[i], 'YYYY-MM-DD') || '"', 'null')
            || ',"metadata":' || p_metadata
            || ',"position":' || pos
            || ',"recorded_at":"' || stamp_text || '"'
            || ',"schema_version":' || p_schema_versions[i]
            || ',"stream":"' || p_stream || '"'
            || ',"type":"' || p_types[i] || '"'
            || ',"version":' || ver || '}';
        positions := positions || pos;
        versions := versions || ver;
        prevs := prevs || prev;
        prev := encode(sha256(convert_to(prev || canonical, 'UTF8')), 'hex');
        hashes := hashes || prev;
    END LOOP;
    INSERT INTO ledger_event (position, stream, version, type, schema_version, data,
                              metadata, effective_on, recorded_at, prev_hash, hash)
    SELECT e.position, p_stream, e.version, e.type, e.schema_version, e.data::jsonb,
           p_metadata::jsonb, e.effective_on, stamp, e.prev_hash, e.hash
    FROM unnest(positions, versions, p_types, p_schema_versions, data_items, p_effective_on,
                prevs, hashes)
         AS e(position, version, type, schema_version, data, effective_on, prev_hash, hash);
    IF p_key IS NOT NULL THEN
        INSERT INTO ledger_idempotent_append (key, stream, fingerprint, first_position,
                                              last_position, version, recorded_at)
        VALUES (p_key, p_stream, p_fingerprint, head_row.position + 1, pos, ver, stamp);
    END IF;
    UPDATE ledger_head SET position = pos, hash = prev, recorded_at = stamp
    WHERE partition = p_partition;
    RETURN QUERY SELECT 'appended'::text, head_row.position + 1, pos, ver;
END;
$$;
"""

DROP = (
    "DROP FUNCTION IF EXISTS ledger_append(text, text, integer, text[], integer[], text, "
    "date[], text, text, text);"
)


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION, None)


def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_snapshots")]
    operations = [migrations.RunPython(forwards, backwards)]
