-- The ledger's append path on PostgreSQL, version 2: every function it uses, complete.
--
-- Applied as it is by migration 0010. A change ships a new file (append_v3.sql) and a new
-- migration that applies it; this file is never edited once released. append_v1.sql
-- (migration 0009) is history.
--
-- What version 2 changes: ledger_append is SECURITY DEFINER. It runs with the privileges
-- of its owner, the role that ran the migration (the schema owner), so the application's
-- role needs no write privilege on ledger_event, ledger_head or ledger_receipt at all
-- (deploy/scripts/grant_app_role.py grants it SELECT on them and EXECUTE on this one
-- function): the only way it can write the ledger is an append, whole, chained and with
-- its receipt. EXECUTE on ledger_append is revoked from PUBLIC, so no other role of the
-- cluster appends either. A definer function must not resolve a name through a search
-- path its caller controls, so its search_path is fixed (end of file) to pg_catalog, the
-- schema the migration created the ledger's tables in (current_schema(): public, or the
-- connection's own schema), then pg_temp explicitly last: left out, pg_temp would be
-- searched FIRST for tables, and a caller's temporary "ledger_head" would stand in for
-- the real one. The functions ledger_append calls inherit that path. Every other function
-- here stays SECURITY INVOKER: they only read or take advisory locks, with the caller's
-- own rights. Nothing else changed from version 1.
--
-- ledger_canonical_event builds an event's canonical text exactly as
-- ledger.canonical.encoded_event_bytes does (that module is the published definition;
-- tests/ledger/test_canonical_sql.py proves both give identical bytes and hashes).
-- Inputs are already canonical JSON text (data, metadata); stream and type names are
-- restricted by ledger.store to characters JSON does not escape, so quoting them is
-- concatenation.
--
-- The two encoding functions are STABLE, not IMMUTABLE: to_char, convert_to and text ||
-- number are stable, and PostgreSQL inlines a SQL function into its caller only when the
-- declared volatility covers the body's; one that is not inlined has its body parsed and
-- planned again in every transaction that calls it.

CREATE OR REPLACE FUNCTION ledger_canonical_event(
    p_position bigint,
    p_stream text,
    p_version integer,
    p_type text,
    p_schema_version integer,
    p_data text,
    p_metadata text,
    p_effective_on date,
    p_recorded_at timestamptz
) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT '{"data":' || p_data
        || ',"effective_on":' || coalesce('"' || to_char(p_effective_on, 'YYYY-MM-DD') || '"', 'null')
        || ',"metadata":' || p_metadata
        || ',"position":' || p_position
        || ',"recorded_at":"'
        || to_char(p_recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"'
        || ',"schema_version":' || p_schema_version
        || ',"stream":"' || p_stream || '"'
        || ',"type":"' || p_type || '"'
        || ',"version":' || p_version || '}'
$$;

-- sha256(prev_hash + canonical) in lowercase hex (ledger.canonical.chain_hash).
CREATE OR REPLACE FUNCTION ledger_chain_hash(p_prev_hash text, p_canonical text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(convert_to(p_prev_hash || p_canonical, 'UTF8')), 'hex')
$$;

-- The stream's events after version p_after as one JSON array of rows in the order of
-- ledger.store's columns (NULL when p_after is NULL): what an append reads back for its
-- caller's cached state. PL/pgSQL, so its query is planned once per session.
CREATE OR REPLACE FUNCTION ledger_stream_after(p_stream text, p_after integer) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_after IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN coalesce(
        (SELECT json_agg(json_build_array(e.position, e.stream, e.version, e.type,
                e.schema_version, e.data::text, e.metadata::text, e.effective_on,
                e.recorded_at, e.prev_hash, e.hash) ORDER BY e.version)
         FROM ledger_event e WHERE e.stream = p_stream AND e.version > p_after),
        '[]'::json);
END;
$$;

-- The stream locks: an advisory lock on the stream's name in the ledger's own key space
-- (1818584167 is 'ledg'; the second key is the stream's hash, so two streams sharing a
-- hash only take turns). Every append takes it for its transaction before the head; a
-- command's retry holds it for the session from reading to appending (ledger.store
-- .lock_stream), and the append releases that hold. Locks are always taken stream first,
-- head second, so no two appends wait on each other in a cycle.
CREATE OR REPLACE FUNCTION ledger_lock_stream(p_stream text) RETURNS void
LANGUAGE sql VOLATILE AS $$
    SELECT pg_advisory_xact_lock(1818584167, hashtext(p_stream))
$$;

CREATE OR REPLACE FUNCTION ledger_hold_stream_after(p_stream text, p_after integer)
RETURNS json LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    -- Lock first, then read: every event appended before the lock was granted is seen.
    PERFORM pg_advisory_lock(1818584167, hashtext(p_stream));
    RETURN ledger_stream_after(p_stream, p_after);
END;
$$;

CREATE OR REPLACE FUNCTION ledger_release_stream(p_stream text) RETURNS boolean
LANGUAGE sql VOLATILE AS $$
    SELECT pg_advisory_unlock(1818584167, hashtext(p_stream))
$$;

-- The append's answer when the receipt's scope holds its key (no row when it does not):
-- 'replayed' for the same stream and fingerprint, with the original positions and version
-- (and the read-back), else 'conflict'. Columns as ledger_append's.
CREATE OR REPLACE FUNCTION ledger_answer_receipt(
    p_partition text,
    p_stream text,
    p_scope text,
    p_key text,
    p_fingerprint text,
    p_read_after integer
) RETURNS TABLE (status text, first_position bigint, last_position bigint, version integer,
                last_hash text, recorded_at timestamptz, events json,
                ledger_identity text, head_position bigint, receipt_fingerprint text,
                receipt_body text, receipt_recorded_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN r.stream = p_stream AND r.fingerprint = p_fingerprint
                THEN 'replayed' ELSE 'conflict' END,
           r.first_position, r.last_position, r.version, NULL::text, NULL::timestamptz,
           CASE WHEN r.stream = p_stream AND r.fingerprint = p_fingerprint
                THEN ledger_stream_after(p_stream, p_read_after) END,
           h.identity::text, h.position, r.fingerprint::text, r.body::text, r.recorded_at
    FROM ledger_receipt r, ledger_head h
    WHERE r.scope = p_scope AND r.key = p_key AND h.partition = p_partition
$$;

-- The append: one statement, so one round trip and, at the top level, its own
-- transaction (no client code runs while the head is locked).
--
-- Answers one row. status is
--   'appended'      the events were written (positions first..last, the stream's new
--                   version, the last event's hash and recorded_at, the receipt if any);
--   'wrong_version' the stream is not at p_expected / p_expected_hash (version and
--                   last_hash say where it is); nothing written;
--   'replayed'      the receipt's scope already holds its key for this stream and
--                   fingerprint: nothing written, the original positions and version;
--   'conflict'      the scope holds the key for another request: nothing written.
-- Every answer carries the ledger's identity (as text) and head position (for process
-- caches), and, with p_read_after, the stream's events after that version
-- (ledger_stream_after). With p_release_hold, the session's hold on the stream
-- (ledger_hold_stream_after) is released whatever the answer, once the append holds the
-- stream's transaction lock. p_data holds each event's canonical data text.
--
-- SECURITY DEFINER: it runs as its owner (see the top of this file).
CREATE OR REPLACE FUNCTION ledger_append(
    p_partition text,
    p_stream text,
    p_expected integer,
    p_expected_hash text,
    p_types text[],
    p_schema_versions integer[],
    p_data text[],
    p_effective_on date[],
    p_metadata text,
    p_read_after integer,
    p_receipt_scope text,
    p_receipt_key text,
    p_receipt_fingerprint text,
    p_receipt_body text,
    p_release_hold boolean,
    OUT status text,
    OUT first_position bigint,
    OUT last_position bigint,
    OUT version integer,
    OUT last_hash text,
    OUT recorded_at timestamptz,
    OUT events json,
    OUT ledger_identity text,
    OUT head_position bigint,
    OUT receipt_fingerprint text,
    OUT receipt_body text,
    OUT receipt_recorded_at timestamptz
) LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
DECLARE
    head_row record;
    current_version integer;
    current_hash text;
    stamp timestamptz;
    prev text;
    pos bigint;
    ver integer;
    positions bigint[];
    versions integer[];
    prevs text[];
    hashes text[];
BEGIN
    -- A committed receipt is final: answered at once, before any lock.
    IF p_receipt_key IS NOT NULL THEN
        SELECT * INTO status, first_position, last_position, version, last_hash, recorded_at,
                      events, ledger_identity, head_position, receipt_fingerprint,
                      receipt_body, receipt_recorded_at
        FROM ledger_answer_receipt(p_partition, p_stream, p_receipt_scope, p_receipt_key,
                                   p_receipt_fingerprint, p_read_after);
        IF FOUND THEN
            IF p_release_hold THEN
                PERFORM ledger_release_stream(p_stream);
            END IF;
            RETURN;
        END IF;
    END IF;
    PERFORM ledger_lock_stream(p_stream);
    IF p_release_hold THEN
        -- The transaction lock now keeps the stream until commit.
        PERFORM ledger_release_stream(p_stream);
    END IF;
    -- The stream's newest event, read once: every append takes the stream's lock, so under
    -- it no other append can move the stream, and this probe serves both the refusal below
    -- (made before queueing for the head) and the chain's version after the head lock.
    -- One index probe whatever plan PL/pgSQL has cached (a generic max() plan made while
    -- the table was small scans the whole stream).
    SELECT e.version, e.hash INTO current_version, current_hash
    FROM ledger_event e WHERE e.stream = p_stream ORDER BY e.version DESC LIMIT 1;
    current_version := coalesce(current_version, 0);
    -- A caller that decided on a cached state names the event it ended on: the version
    -- alone cannot tell a replaced ledger (a restore, a test's fresh database) from it.
    IF (p_expected IS NOT NULL AND p_expected <> current_version)
       OR (p_expected_hash IS NOT NULL AND current_hash IS DISTINCT FROM p_expected_hash) THEN
        IF p_receipt_key IS NOT NULL THEN
            -- A twin under the same key may have moved the stream while this one waited
            -- for the stream: its receipt, now committed, answers (a replay wins).
            SELECT * INTO status, first_position, last_position, version, last_hash,
                          recorded_at, events, ledger_identity, head_position,
                          receipt_fingerprint, receipt_body, receipt_recorded_at
            FROM ledger_answer_receipt(p_partition, p_stream, p_receipt_scope, p_receipt_key,
                                       p_receipt_fingerprint, p_read_after);
            IF FOUND THEN
                RETURN;
            END IF;
        END IF;
        status := 'wrong_version';
        first_position := 0;
        last_position := 0;
        version := current_version;
        last_hash := current_hash;
        events := ledger_stream_after(p_stream, p_read_after);
        SELECT h.identity::text, h.position INTO ledger_identity, head_position
        FROM ledger_head h WHERE h.partition = p_partition;
        RETURN;
    END IF;
    SELECT h.position, h.hash, h.recorded_at, h.identity INTO head_row
    FROM ledger_head h WHERE h.partition = p_partition FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'The ledger has no head row for partition %: run migrate.', p_partition;
    END IF;
    -- Under the head lock, so that of two requests under one key on different streams one
    -- appends and the other is answered from its receipt.
    IF p_receipt_key IS NOT NULL THEN
        SELECT * INTO status, first_position, last_position, version, last_hash, recorded_at,
                      events, ledger_identity, head_position, receipt_fingerprint,
                      receipt_body, receipt_recorded_at
        FROM ledger_answer_receipt(p_partition, p_stream, p_receipt_scope, p_receipt_key,
                                   p_receipt_fingerprint, p_read_after);
        IF FOUND THEN
            RETURN;
        END IF;
    END IF;
    -- The wall clock after the lock, never earlier than the previous event's time.
    stamp := date_trunc('microseconds', greatest(clock_timestamp(), head_row.recorded_at));
    prev := head_row.hash;
    pos := head_row.position;
    ver := current_version;
    FOR i IN 1..coalesce(array_length(p_types, 1), 0) LOOP
        pos := pos + 1;
        ver := ver + 1;
        positions[i] := pos;
        versions[i] := ver;
        prevs[i] := prev;
        prev := ledger_chain_hash(prev, ledger_canonical_event(pos, p_stream, ver, p_types[i],
            p_schema_versions[i], p_data[i], p_metadata, p_effective_on[i], stamp));
        hashes[i] := prev;
    END LOOP;
    IF pos = head_row.position + 1 THEN
        -- One event, the common case: a plain INSERT costs less than unpacking arrays.
        INSERT INTO ledger_event (position, stream, version, type, schema_version, data,
                                  metadata, effective_on, recorded_at, prev_hash, hash)
        VALUES (pos, p_stream, ver, p_types[1], p_schema_versions[1], p_data[1]::jsonb,
                p_metadata::jsonb, p_effective_on[1], stamp, head_row.hash, prev);
    ELSE
        INSERT INTO ledger_event (position, stream, version, type, schema_version, data,
                                  metadata, effective_on, recorded_at, prev_hash, hash)
        SELECT e.position, p_stream, e.version, e.type, e.schema_version, e.data::jsonb,
               p_metadata::jsonb, e.effective_on, stamp, e.prev_hash, e.hash
        FROM unnest(positions, versions, p_types, p_schema_versions, p_data, p_effective_on,
                    prevs, hashes)
             AS e(position, version, type, schema_version, data, effective_on, prev_hash,
                  hash);
    END IF;
    IF p_receipt_key IS NOT NULL THEN
        INSERT INTO ledger_receipt (scope, key, fingerprint, body, stream, first_position,
                                    last_position, version, recorded_at)
        VALUES (p_receipt_scope, p_receipt_key, p_receipt_fingerprint, p_receipt_body::jsonb,
                p_stream, head_row.position + 1, pos, ver, stamp);
        receipt_fingerprint := p_receipt_fingerprint;
        receipt_body := p_receipt_body;
        receipt_recorded_at := stamp;
    END IF;
    UPDATE ledger_head SET position = pos, hash = prev, recorded_at = stamp
    WHERE partition = p_partition;
    status := 'appended';
    first_position := head_row.position + 1;
    last_position := pos;
    version := ver;
    last_hash := prev;
    recorded_at := stamp;
    IF p_read_after IS NOT NULL THEN
        events := ledger_stream_after(p_stream, p_read_after);
    END IF;
    ledger_identity := head_row.identity::text;
    head_position := pos;
END;
$$;

-- The definer's fixed search path, naming the schema this migration runs in (format's %I
-- quotes it), and the one grant: EXECUTE for whom deploy/scripts/grant_app_role.py names.
DO $$
BEGIN
    EXECUTE format(
        'ALTER FUNCTION ledger_append(text, text, integer, text, text[], integer[], text[], '
        'date[], text, integer, text, text, text, text, boolean) '
        'SET search_path = pg_catalog, %I, pg_temp', current_schema());
END;
$$;

REVOKE ALL ON FUNCTION ledger_append(text, text, integer, text, text[], integer[], text[],
    date[], text, integer, text, text, text, text, boolean) FROM PUBLIC;
