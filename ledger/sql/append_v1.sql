-- The ledger's append path on PostgreSQL, version 1: every function it uses, complete.
--
-- Applied as it is by migration 0009. A change ships a new file (append_v2.sql) and a new
-- migration that applies it; this file is never edited once released.
--
-- ledger_canonical_event builds an event's canonical text exactly as
-- ledger.canonical.encoded_event_bytes does (that module is the published definition;
-- tests/ledger/test_canonical_sql.py proves both give identical bytes and hashes).
-- Inputs are already canonical JSON text (data, metadata); stream and type names are
-- restricted by ledger.store to characters JSON does not escape, so quoting them is
-- concatenation.

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
LANGUAGE sql IMMUTABLE AS $$
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
LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to(p_prev_hash || p_canonical, 'UTF8')), 'hex')
$$;

-- The stream's events after version p_after as one JSON array of rows (NULL when p_after
-- is NULL): what an append reads back for its caller's cached state.
CREATE OR REPLACE FUNCTION ledger_stream_after(p_stream text, p_after integer) RETURNS json
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_after IS NULL THEN NULL ELSE coalesce(
        (SELECT json_agg(json_build_array(e.position, e.stream, e.version, e.type,
                e.schema_version, e.data::text, e.metadata::text, e.effective_on,
                e.recorded_at, e.prev_hash, e.hash) ORDER BY e.version)
         FROM ledger_event e WHERE e.stream = p_stream AND e.version > p_after),
        '[]'::json) END
$$;

-- The stream's newest version and hash when they are not the expected ones (no row when
-- they are): the append's fast refusal, before it queues for any lock.
CREATE OR REPLACE FUNCTION ledger_stale(
    p_stream text, p_expected integer, p_expected_hash text
) RETURNS TABLE (version integer, hash text)
LANGUAGE sql STABLE AS $$
    SELECT coalesce(newest.version, 0), newest.hash::text
    FROM (SELECT 1) AS one
    LEFT JOIN LATERAL (
        SELECT e.version, e.hash FROM ledger_event e WHERE e.stream = p_stream
        ORDER BY e.version DESC LIMIT 1
    ) AS newest ON true
    WHERE (p_expected IS NOT NULL AND p_expected <> coalesce(newest.version, 0))
       OR (p_expected_hash IS NOT NULL AND newest.hash IS DISTINCT FROM p_expected_hash)
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
-- Every answer carries the ledger's identity and head position (for process caches),
-- and, with p_read_after, the stream's events after that version (ledger_stream_after).
-- With p_release_hold, the session's hold on the stream (ledger_hold_stream_after) is
-- released whatever the answer, once the append holds the stream's transaction lock.
CREATE OR REPLACE FUNCTION ledger_append(
    p_partition text,
    p_stream text,
    p_expected integer,
    p_expected_hash text,
    p_types text[],
    p_schema_versions integer[],
    p_data text,
    p_effective_on date[],
    p_metadata text,
    p_read_after integer,
    p_receipt_scope text,
    p_receipt_key text,
    p_receipt_fingerprint text,
    p_receipt_body text,
    p_release_hold boolean
) RETURNS TABLE (status text, first_position bigint, last_position bigint, version integer,
                last_hash text, recorded_at timestamptz, events json,
                ledger_identity uuid, head_position bigint, receipt_fingerprint text,
                receipt_body text, receipt_recorded_at timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    head_row record;
    known record;
    stale record;
    current_version integer;
    current_hash text;
    stamp timestamptz;
    prev text;
    pos bigint;
    ver integer;
    n integer := coalesce(array_length(p_types, 1), 0);
    positions bigint[] := '{}';
    versions integer[] := '{}';
    prevs text[] := '{}';
    hashes text[] := '{}';
    data_items text[];
BEGIN
    -- A committed receipt is final: answered at once, before any lock.
    IF p_receipt_key IS NOT NULL THEN
        SELECT r.stream, r.fingerprint, r.body::text AS body, r.first_position,
               r.last_position, r.version, r.recorded_at INTO known
        FROM ledger_receipt r WHERE r.scope = p_receipt_scope AND r.key = p_receipt_key;
        IF FOUND THEN
            IF p_release_hold THEN
                PERFORM ledger_release_stream(p_stream);
            END IF;
            RETURN QUERY SELECT * FROM ledger_answer_receipt(p_partition, p_stream,
                p_receipt_fingerprint, p_read_after, known.stream, known.fingerprint,
                known.body, known.first_position, known.last_position, known.version,
                known.recorded_at);
            RETURN;
        END IF;
    END IF;
    -- Fail fast, before queueing for the locks: a stream that is not where the caller
    -- says now will not be there once they are held (versions only grow).
    IF p_expected IS NOT NULL OR p_expected_hash IS NOT NULL THEN
        SELECT * INTO stale FROM ledger_stale(p_stream, p_expected, p_expected_hash);
        IF FOUND THEN
            IF p_release_hold THEN
                PERFORM ledger_release_stream(p_stream);
            END IF;
            RETURN QUERY SELECT 'wrong_version'::text, 0::bigint, 0::bigint, stale.version,
                stale.hash, NULL::timestamptz, ledger_stream_after(p_stream, p_read_after),
                h.identity, h.position, NULL::text, NULL::text, NULL::timestamptz
                FROM ledger_head h WHERE h.partition = p_partition;
            RETURN;
        END IF;
    END IF;
    PERFORM ledger_lock_stream(p_stream);
    IF p_release_hold THEN
        -- The transaction lock now keeps the stream until commit.
        PERFORM ledger_release_stream(p_stream);
    END IF;
    SELECT h.position, h.hash, h.recorded_at, h.identity INTO head_row
    FROM ledger_head h WHERE h.partition = p_partition FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'The ledger has no head row for partition %: run migrate.', p_partition;
    END IF;
    -- Under the lock, so of two racing twins one appends and the other replays.
    IF p_receipt_key IS NOT NULL THEN
        SELECT r.stream, r.fingerprint, r.body::text AS body, r.first_position,
               r.last_position, r.version, r.recorded_at INTO known
        FROM ledger_receipt r WHERE r.scope = p_receipt_scope AND r.key = p_receipt_key;
        IF FOUND THEN
            RETURN QUERY SELECT * FROM ledger_answer_receipt(p_partition, p_stream,
                p_receipt_fingerprint, p_read_after, known.stream, known.fingerprint,
                known.body, known.first_position, known.last_position, known.version,
                known.recorded_at);
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
            current_hash, NULL::timestamptz, ledger_stream_after(p_stream, p_read_after),
            head_row.identity, head_row.position, NULL::text, NULL::text, NULL::timestamptz;
        RETURN;
    END IF;
    -- The wall clock after the lock, never earlier than the previous event's time.
    stamp := date_trunc('microseconds', greatest(clock_timestamp(), head_row.recorded_at));
    -- The data arrive as one JSON array of canonical texts (the json type keeps each
    -- element's text exactly), which spares escaping every quote into a text[] literal.
    data_items := ARRAY(SELECT d.value::text FROM json_array_elements(p_data::json) d);
    prev := head_row.hash;
    pos := head_row.position;
    ver := current_version;
    FOR i IN 1..n LOOP
        pos := pos + 1;
        ver := ver + 1;
        positions := positions || pos;
        versions := versions || ver;
        prevs := prevs || prev;
        prev := ledger_chain_hash(prev, ledger_canonical_event(pos, p_stream, ver, p_types[i],
            p_schema_versions[i], data_items[i], p_metadata, p_effective_on[i], stamp));
        hashes := hashes || prev;
    END LOOP;
    INSERT INTO ledger_event (position, stream, version, type, schema_version, data,
                              metadata, effective_on, recorded_at, prev_hash, hash)
    SELECT e.position, p_stream, e.version, e.type, e.schema_version, e.data::jsonb,
           p_metadata::jsonb, e.effective_on, stamp, e.prev_hash, e.hash
    FROM unnest(positions, versions, p_types, p_schema_versions, data_items, p_effective_on,
                prevs, hashes)
         AS e(position, version, type, schema_version, data, effective_on, prev_hash, hash);
    IF p_receipt_key IS NOT NULL THEN
        INSERT INTO ledger_receipt (scope, key, fingerprint, body, stream, first_position,
                                    last_position, version, recorded_at)
        VALUES (p_receipt_scope, p_receipt_key, p_receipt_fingerprint, p_receipt_body::jsonb,
                p_stream, head_row.position + 1, pos, ver, stamp);
    END IF;
    UPDATE ledger_head SET position = pos, hash = prev, recorded_at = stamp
    WHERE partition = p_partition;
    RETURN QUERY SELECT 'appended'::text, head_row.position + 1, pos, ver, prev, stamp,
        ledger_stream_after(p_stream, p_read_after), head_row.identity, pos,
        p_receipt_fingerprint, p_receipt_body, stamp;
END;
$$;

-- The append's answer when the receipt's scope already holds its key: 'replayed' for the
-- same stream and fingerprint, else 'conflict'.
CREATE OR REPLACE FUNCTION ledger_answer_receipt(
    p_partition text,
    p_stream text,
    p_fingerprint text,
    p_read_after integer,
    r_stream text,
    r_fingerprint text,
    r_body text,
    r_first bigint,
    r_last bigint,
    r_version integer,
    r_recorded_at timestamptz
) RETURNS TABLE (status text, first_position bigint, last_position bigint, version integer,
                last_hash text, recorded_at timestamptz, events json,
                ledger_identity uuid, head_position bigint, receipt_fingerprint text,
                receipt_body text, receipt_recorded_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN r_stream = p_stream AND r_fingerprint = p_fingerprint
                THEN 'replayed' ELSE 'conflict' END,
           r_first, r_last, r_version, NULL::text, NULL::timestamptz,
           CASE WHEN r_stream = p_stream AND r_fingerprint = p_fingerprint
                THEN ledger_stream_after(p_stream, p_read_after) END,
           h.identity, h.position, r_fingerprint, r_body, r_recorded_at
    FROM ledger_head h WHERE h.partition = p_partition
$$;
