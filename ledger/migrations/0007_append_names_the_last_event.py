"""The append names the event its caller decided after, and reads the stream back.

``ledger_append`` (and ``ledger_append_with_receipt``) take ``p_expected_hash``: with it,
the stream's newest event must have that hash as well as the expected version, else the
answer is ``wrong_version``. A command that decides on a state cached in the process (see
``consortium.services``) sends the version and hash of the last event it folded, so the
append itself is the freshness check: no query beforehand, and a ledger replaced under a
running process (a restore, a test's fresh database) is noticed, which the version alone
would not. Both functions also return the hash of the last event written, its
``recorded_at`` and, with ``p_read_after``, the stream's events after that version as one
JSON array (``ledger_stream_after``), read inside the statement: the events the caller
just appended, to fold into its cached state, or, when the append was refused, the ones
it missed. One statement, so no client code runs while the head is locked (reading them
back in a second pipelined statement held the head lock across the client's scheduling).

PostgreSQL cannot change a function's parameters or result in place, so both are dropped
and created again (in one transaction: no append sees neither).
"""

from importlib import import_module

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

STREAM_AFTER = r"""
CREATE OR REPLACE FUNCTION ledger_stream_after(p_stream text, p_after integer) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_after IS NULL THEN NULL ELSE coalesce(
        (SELECT json_agg(json_build_array(e.position, e.stream, e.version, e.type,
                e.schema_version, e.data::text, e.metadata::text, e.effective_on,
                e.recorded_at, e.prev_hash, e.hash) ORDER BY e.version)
         FROM ledger_event e WHERE e.stream = p_stream AND e.version > p_after),
        '[]'::json) END
$$;
"""

STALE = r"""
CREATE OR REPLACE FUNCTION ledger_stale(
    p_stream text, p_expected integer, p_expected_hash text, p_read_after integer
) RETURNS TABLE (status text, first_position bigint, last_position bigint, version integer,
                last_hash text, recorded_at timestamptz, events json)
LANGUAGE sql STABLE AS $$
    -- The 'wrong_version' answer when the stream's newest event is not the expected one
    -- (no row when it is): the appends' fast refusal, before they queue for the head lock.
    SELECT 'wrong_version'::text, 0::bigint, 0::bigint, coalesce(newest.version, 0),
           newest.hash::text, NULL::timestamptz, ledger_stream_after(p_stream, p_read_after)
    FROM (SELECT 1) AS one
    LEFT JOIN LATERAL (
        SELECT e.version, e.hash FROM ledger_event e WHERE e.stream = p_stream
        ORDER BY e.version DESC LIMIT 1
    ) AS newest ON true
    WHERE (p_expected IS NOT NULL AND p_expected <> coalesce(newest.version, 0))
       OR (p_expected_hash IS NOT NULL AND newest.hash IS DISTINCT FROM p_expected_hash)
$$;
"""

APPEND = r"""
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
    p_fingerprint text,
    p_expected_hash text,
    p_read_after integer
) RETURNS TABLE (status text, first_position bigint, last_position bigint, version integer,
                last_hash text, recorded_at timestamptz, events json)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    head_row record;
    keyed record;
    current_version integer;
    current_hash text;
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
    -- Fail fast, before queueing for the head lock: a stream that is not where the caller
    -- says now will not be there once the lock is held (versions only grow). Not with an
    -- idempotency key, whose replay must win over a stale expectation.
    IF p_key IS NULL AND (p_expected IS NOT NULL OR p_expected_hash IS NOT NULL) THEN
        RETURN QUERY SELECT * FROM ledger_stale(p_stream, p_expected, p_expected_hash,
                                                p_read_after);
        IF FOUND THEN
            RETURN;
        END IF;
    END IF;
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
                RETURN QUERY SELECT 'conflict'::text, 0::bigint, 0::bigint, 0, NULL::text,
                    NULL::timestamptz, NULL::json;
            ELSE
                RETURN QUERY SELECT 'replayed'::text, keyed.first_position,
                    keyed.last_position, keyed.version, NULL::text, NULL::timestamptz,
                    ledger_stream_after(p_stream, p_read_after);
            END IF;
            RETURN;
        END IF;
    END IF;
    -- One index probe whatever plan PL/pgSQL has cached (a generic max() plan made
    -- while the table was small scans the whole stream).
    SELECT e.version, e.hash INTO current_version, current_hash
    FROM ledger_event e WHERE e.stream = p_stream ORDER BY e.version DESC LIMIT 1;
    current_version := coalesce(current_version, 0);
    -- A caller that decided on a cached state names the event it ended on: the version
    -- alone cannot tell a replaced ledger (a restore, a test's fresh database) from it.
    IF (p_expected IS NOT NULL AND p_expected <> current_version)
       OR (p_expected_hash IS NOT NULL AND current_hash IS DISTINCT FROM p_expected_hash) THEN
        RETURN QUERY SELECT 'wrong_version'::text, 0::bigint, 0::bigint, current_version,
            current_hash, NULL::timestamptz, ledger_stream_after(p_stream, p_read_after);
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
    RETURN QUERY SELECT 'appended'::text, head_row.position + 1, pos, ver, prev, stamp,
        ledger_stream_after(p_stream, p_read_after);
END;
$$;
"""

APPEND_WITH_RECEIPT = r"""
CREATE OR REPLACE FUNCTION ledger_append_with_receipt(
    p_partition text,
    p_stream text,
    p_expected integer,
    p_types text[],
    p_schema_versions integer[],
    p_data text,
    p_effective_on date[],
    p_metadata text,
    p_key text,
    p_fingerprint text,
    p_expected_hash text,
    p_read_after integer,
    p_receipt_scope text,
    p_receipt_key text,
    p_receipt_fingerprint text,
    p_receipt_body text
) RETURNS TABLE (status text, first_position bigint, last_position bigint, version integer,
                last_hash text, recorded_at timestamptz, events json)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    appended record;
BEGIN
    -- Fail fast, before queueing for the head lock, as ledger_append does (a receipt's
    -- replay is then found when the caller decides again on the current state).
    IF p_key IS NULL AND (p_expected IS NOT NULL OR p_expected_hash IS NOT NULL) THEN
        RETURN QUERY SELECT * FROM ledger_stale(p_stream, p_expected, p_expected_hash,
                                                p_read_after);
        IF FOUND THEN
            RETURN;
        END IF;
    END IF;
    PERFORM 1 FROM ledger_head h WHERE h.partition = p_partition FOR UPDATE;
    PERFORM 1 FROM ledger_receipt r WHERE r.scope = p_receipt_scope AND r.key = p_receipt_key;
    IF FOUND THEN
        RETURN QUERY SELECT 'receipt_exists'::text, 0::bigint, 0::bigint, 0, NULL::text,
            NULL::timestamptz, NULL::json;
        RETURN;
    END IF;
    SELECT * INTO appended FROM ledger_append(p_partition, p_stream, p_expected, p_types,
        p_schema_versions, p_data, p_effective_on, p_metadata, p_key, p_fingerprint,
        p_expected_hash, p_read_after) a;
    IF appended.status = 'appended' THEN
        INSERT INTO ledger_receipt (scope, key, fingerprint, body, stream, first_position,
                                    last_position, version, recorded_at)
        SELECT p_receipt_scope, p_receipt_key, p_receipt_fingerprint, p_receipt_body::jsonb,
               p_stream, appended.first_position, appended.last_position, appended.version,
               appended.recorded_at;
    END IF;
    RETURN QUERY SELECT appended.status, appended.first_position, appended.last_position,
        appended.version, appended.last_hash, appended.recorded_at, appended.events;
END;
$$;
"""

DROP_OLD = (
    "DROP FUNCTION IF EXISTS ledger_append_with_receipt(text, text, integer, text[], "
    "integer[], text, date[], text, text, text, text, text, text, text);"
    "DROP FUNCTION IF EXISTS ledger_append(text, text, integer, text[], integer[], text, "
    "date[], text, text, text);"
)
DROP_NEW = (
    "DROP FUNCTION IF EXISTS ledger_append_with_receipt(text, text, integer, text[], "
    "integer[], text, date[], text, text, text, text, integer, text, text, text, text);"
    "DROP FUNCTION IF EXISTS ledger_append(text, text, integer, text[], integer[], text, "
    "date[], text, text, text, text, integer);"
    "DROP FUNCTION IF EXISTS ledger_stale(text, integer, text, integer);"
    "DROP FUNCTION IF EXISTS ledger_stream_after(text, integer);"
)
# What 0004 and 0006 created, for going back.
OLD_APPEND = import_module("ledger.migrations.0004_append_function").FUNCTION
OLD_APPEND_WITH_RECEIPT = import_module("ledger.migrations.0006_receipts").FUNCTION


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_OLD, None)
        schema_editor.execute(STREAM_AFTER, None)
        schema_editor.execute(STALE, None)
        schema_editor.execute(APPEND, None)
        schema_editor.execute(APPEND_WITH_RECEIPT, None)


def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_NEW, None)
        schema_editor.execute(OLD_APPEND, None)
        schema_editor.execute(OLD_APPEND_WITH_RECEIPT, None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0006_receipts")]
    operations = [migrations.RunPython(forwards, backwards)]
