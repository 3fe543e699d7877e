-- Issuing several walk-ins of one branch in one statement (server/src/store/postgres/batch.rs:
-- the issues that arrive for a branch while one is at the database go together in the next).
-- Each item is issued as `qhall_issue` (0035_issue_at_once.sql) issues one, in the items'
-- order, with the same reads under the same lock, so the batch ends exactly where issuing them
-- one after the other ends. (`qhall_issue` stays for servers of the previous release sharing the
-- database during an upgrade; this release calls only the batch.) What costs is different: a one-row INSERT into `tickets` spends most of
-- its time opening the table and its nine indexes (≈190 µs a statement against ≈28 µs a row
-- in a 16-row statement, measured with pgbench), so the rows are written at the end, each table
-- in one statement, and one commit covers them all.
--
-- While the items are decided their rows are not yet written, so what the later ones read is
-- kept current by hand: the waiting counts are bumped per item (as the insert trigger would)
-- and taken back before the insert (whose trigger then counts them), and a number chosen
-- earlier in the batch is not chosen again.
--
-- `p_items` is a JSON array; each object has the arguments of `qhall_issue` after `p_version`
-- (`scope`, `key`, `code`, `priority`, `day`, `first`, `last`, `width`, `now`, `id`, `device`,
-- `staff`, `forecast`, `forecast_last`, `forecast_extra`, `default_secs`, `recent_since`,
-- `windows`, `serves`, `appointments`, `message`). An item that has no row in the answer was not
-- issued and nothing was written for it: a repeated idempotency key (already stored, or earlier
-- in this batch), or every number still live. The server issues it step by step, which answers
-- it (the stored ticket, or `numbers_exhausted`). Another configuration version than
-- `p_version` under the lock: no rows at all.
CREATE FUNCTION qhall_issue_batch(p_branch BIGINT, p_version BIGINT, p_items JSONB)
RETURNS SETOF tickets LANGUAGE plpgsql AS $$
DECLARE
    version BIGINT;
    seq BIGINT;
    item JSONB;
    p_key TEXT;
    p_scope TEXT;
    p_code TEXT;
    p_priority BOOLEAN;
    p_day DATE;
    p_first BIGINT;
    p_last BIGINT;
    p_width INT;
    p_now BIGINT;
    p_forecast BIGINT[];
    p_forecast_last DOUBLE PRECISION;
    p_forecast_extra DOUBLE PRECISION;
    p_windows BIGINT[];
    p_serves TEXT[];
    previous BIGINT;
    span BIGINT;
    start BIGINT;
    n BIGINT;
    candidate TEXT;
    chosen BIGINT;
    chosen_number TEXT;
    ahead BIGINT;
    mean DOUBLE PRECISION;
    estimate BIGINT;
    booked BIGINT;
    waiting BIGINT;
    -- The items issued, in order.
    ids TEXT[] := '{}';
    scopes TEXT[] := '{}';
    keys TEXT[] := '{}';
    codes TEXT[] := '{}';
    numbers TEXT[] := '{}';
    number_seqs BIGINT[] := '{}';
    days DATE[] := '{}';
    priorities BOOLEAN[] := '{}';
    nows BIGINT[] := '{}';
    aheads BIGINT[] := '{}';
    estimates BIGINT[] := '{}';
    devices BIGINT[] := '{}';
    staffs BIGINT[] := '{}';
    seqs BIGINT[] := '{}';
    messages TEXT[] := '{}';
    issued INT := 0;
BEGIN
    SELECT config_version, event_seq INTO version, seq FROM branches WHERE id = p_branch FOR UPDATE;
    IF version IS DISTINCT FROM p_version THEN
        RETURN;
    END IF;
    FOR item IN SELECT value FROM jsonb_array_elements(p_items) LOOP
        p_scope := item->>'scope';
        p_key := item->>'key';
        IF p_key IS NOT NULL THEN
            IF EXISTS (SELECT 1 FROM unnest(scopes, keys) AS k(s, k) WHERE k.s = p_scope AND k.k = p_key)
               OR EXISTS (SELECT 1 FROM idempotency WHERE device_key = p_scope AND key = p_key) THEN
                CONTINUE;
            END IF;
        END IF;
        p_code := item->>'code';
        p_priority := (item->>'priority')::BOOLEAN;
        p_day := (item->>'day')::DATE;
        p_first := (item->>'first')::BIGINT;
        p_last := (item->>'last')::BIGINT;
        p_width := (item->>'width')::INT;
        p_now := (item->>'now')::BIGINT;

        -- The next number, as `qhall_issue`, skipping the numbers this batch has chosen.
        SELECT last_number INTO previous FROM number_counters
        WHERE branch_id = p_branch AND service_code = p_code AND day = p_day;
        IF previous < 0 THEN
            previous := 0;
        END IF;
        span := CASE WHEN p_first > p_last THEN 0 ELSE p_last - p_first + 1 END;
        start := CASE WHEN previous >= p_first AND previous < p_last THEN previous + 1 ELSE p_first END;
        chosen := NULL;
        FOR i IN 0 .. span - 1 LOOP
            n := p_first + (start - p_first + i) % span;
            candidate := p_code || CASE WHEN length(n::TEXT) >= p_width THEN n::TEXT
                                        ELSE lpad(n::TEXT, p_width, '0') END;
            IF candidate <> ALL(numbers)
               AND NOT EXISTS (SELECT 1 FROM tickets WHERE branch_id = p_branch AND number = candidate
                               AND status IN ('waiting', 'called', 'serving')) THEN
                chosen := n;
                chosen_number := candidate;
                EXIT;
            END IF;
        END LOOP;
        IF chosen IS NULL THEN
            CONTINUE;
        END IF;
        INSERT INTO number_counters (branch_id, service_code, day, last_number)
        VALUES (p_branch, p_code, p_day, chosen)
        ON CONFLICT (branch_id, service_code, day) DO UPDATE SET last_number = excluded.last_number;

        SELECT COALESCE(SUM(c.n) FILTER (WHERE c.priority OR NOT p_priority), 0) INTO ahead
        FROM waiting_counts c WHERE c.branch_id = p_branch AND c.service_code = p_code;

        p_forecast := CASE WHEN jsonb_typeof(item->'forecast') = 'array'
                           THEN ARRAY(SELECT jsonb_array_elements_text(item->'forecast')::BIGINT)
                      END;
        p_forecast_last := (item->>'forecast_last')::DOUBLE PRECISION;
        p_forecast_extra := (item->>'forecast_extra')::DOUBLE PRECISION;
        p_windows := ARRAY(SELECT jsonb_array_elements_text(item->'windows')::BIGINT);
        p_serves := ARRAY(SELECT jsonb_array_elements_text(item->'serves'));
        mean := NULL;
        IF p_forecast IS NULL THEN
            SELECT CAST(AVG(d) AS DOUBLE PRECISION) INTO mean FROM (
                SELECT (done_at - serving_at) / 1000.0 AS d FROM tickets
                WHERE branch_id = p_branch AND service_code = p_code AND status = 'done'
                  AND done_at >= (item->>'recent_since')::BIGINT AND serving_at IS NOT NULL
                ORDER BY done_at DESC LIMIT 30) recent;
            mean := COALESCE(mean, (item->>'default_secs')::DOUBLE PRECISION);
        END IF;
        estimate := qhall_issue_estimate(p_branch, p_code, ahead, p_forecast, p_forecast_last,
                                         p_forecast_extra, mean, p_windows, p_serves);
        IF (item->>'appointments')::BOOLEAN THEN
            SELECT COUNT(*) INTO booked FROM bookings
            WHERE branch_id = p_branch AND service_code = p_code AND day = p_day AND state = 'booked'
              AND slot_start >= p_now AND slot_start < p_now + estimate * 1000;
            IF booked > 0 THEN
                estimate := qhall_issue_estimate(p_branch, p_code, ahead + booked, p_forecast,
                                                 p_forecast_last, p_forecast_extra, mean, p_windows,
                                                 p_serves);
            END IF;
        END IF;

        -- Counted as waiting now, as the insert's trigger would count it.
        INSERT INTO waiting_counts (branch_id, service_code, priority, n)
        VALUES (p_branch, p_code, p_priority, 1)
        ON CONFLICT (branch_id, service_code, priority) DO UPDATE SET n = waiting_counts.n + 1;
        SELECT COALESCE(SUM(c.n), 0) INTO waiting FROM waiting_counts c
        WHERE c.branch_id = p_branch AND c.service_code = p_code;
        seq := seq + 1;

        issued := issued + 1;
        ids[issued] := item->>'id';
        scopes[issued] := p_scope;
        keys[issued] := p_key;
        codes[issued] := p_code;
        numbers[issued] := chosen_number;
        number_seqs[issued] := chosen;
        days[issued] := p_day;
        priorities[issued] := p_priority;
        nows[issued] := p_now;
        aheads[issued] := ahead;
        estimates[issued] := estimate;
        devices[issued] := (item->>'device')::BIGINT;
        staffs[issued] := (item->>'staff')::BIGINT;
        seqs[issued] := seq;
        messages[issued] := replace(replace(item->>'message', '18446744073709551615', seq::TEXT),
                                    '4294967295', waiting::TEXT);
    END LOOP;
    IF issued = 0 THEN
        RETURN;
    END IF;

    -- The counts given back: the insert's trigger counts these tickets.
    UPDATE waiting_counts c SET n = c.n - b.k
    FROM (SELECT code, priority, COUNT(*) AS k FROM unnest(codes, priorities) AS u(code, priority)
          GROUP BY code, priority) b
    WHERE c.branch_id = p_branch AND c.service_code = b.code AND c.priority = b.priority;

    -- The rows, in the items' order (keys ascending as issued one by one).
    RETURN QUERY
    WITH made AS (
        INSERT INTO tickets (id, branch_id, service_code, issued_service, number, number_seq, day,
                             priority, status, issued_at, queue_at, estimate_ahead, estimate_secs,
                             device_id, appointment_at)
        SELECT u.id, p_branch, u.code, u.code, u.number, u.number_seq, u.day, u.priority, 'waiting',
               u.at, u.at, u.ahead, u.estimate, u.device, NULL
        FROM unnest(ids, codes, numbers, number_seqs, days, priorities, nows, aheads, estimates,
                    devices) WITH ORDINALITY
             AS u(id, code, number, number_seq, day, priority, at, ahead, estimate, device, i)
        ORDER BY u.i
        RETURNING *
    ), history AS (
        INSERT INTO ticket_events (ticket_key, at, kind, window_number, staff_user_id, detail)
        SELECT made.key, made.issued_at, 'issue', NULL, u.staff, NULL
        FROM made JOIN unnest(ids, staffs) AS u(id, staff) ON u.id = made.id
        ORDER BY made.key
    ), kept AS (
        INSERT INTO idempotency (device_key, key, ticket_key, created_at)
        SELECT u.scope, u.key, made.key, made.issued_at
        FROM made JOIN unnest(ids, scopes, keys) AS u(id, scope, key) ON u.id = made.id
        WHERE u.key IS NOT NULL
    )
    SELECT * FROM made ORDER BY key;

    UPDATE branches SET event_seq = seq WHERE id = p_branch;
    INSERT INTO stream_events (branch_id, seq, at, body)
    SELECT p_branch, u.seq, u.at, u.body FROM unnest(seqs, nows, messages) AS u(seq, at, body);
    -- In the items' order, as issuing them one by one would notify (the body travels with it).
    FOR i IN 1 .. issued LOOP
        PERFORM pg_notify('qhall_events', p_branch || ' ' || seqs[i] || ' ' || messages[i]);
    END LOOP;
END;
$$;

