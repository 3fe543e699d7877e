-- Issue #15: issuing walk-ins together (0037, its notification as 0038 left it) with less work
-- per item, and answering with each ticket's event.
--
-- Measured with pg_stat_statements (track = all) on eight-item batches: of ~1.7 ms a statement,
-- ~0.5 ms was neither a query nor an insert but the function's own steps per item, and ~0.1 ms
-- the idempotency lookup, an executor start per item. Now the items are decoded once, into
-- typed columns, by the query the loop reads them from (`jsonb_to_recordset`: the same text
-- conversions the `->>` casts made), and that query also says of each item whether its key is
-- stored (nothing in the loop writes `idempotency`; the rows are written at the end). The
-- setting that says who notifies is read once, not once per item.
--
-- `qhall_issue_batch_events` answers each issued ticket with its event's seq and body, so the
-- server that issued them publishes them to its boards and notifies the other servers with the
-- bodies (server/src/store/postgres/relay.rs), instead of every server reading them back from
-- `stream_events`. What a batch issues, in what order, with which numbers, estimates, seqs and
-- events is unchanged: apart from the lines named above, the definition is 0037's.
-- `qhall_issue_batch` stays for servers of the previous release during a rolling upgrade.

CREATE FUNCTION qhall_issue_batch_events(p_branch BIGINT, p_version BIGINT, p_items JSONB)
RETURNS TABLE (made_ticket tickets, made_seq BIGINT, made_body TEXT) LANGUAGE plpgsql AS $$
DECLARE
    version BIGINT;
    seq BIGINT;
    item RECORD;
    p_key TEXT;
    p_scope TEXT;
    p_code TEXT;
    p_priority BOOLEAN;
    p_day DATE;
    p_first BIGINT;
    p_last BIGINT;
    p_width INT;
    p_now BIGINT;
    p_forecast JSONB;
    p_windows JSONB;
    p_serves JSONB;
    previous BIGINT;
    span BIGINT;
    start BIGINT;
    n BIGINT;
    candidate TEXT;
    chosen BIGINT;
    chosen_number TEXT;
    ahead BIGINT;
    waiting_this BIGINT;
    mean DOUBLE PRECISION;
    estimate BIGINT;
    booked BIGINT;
    waiting BIGINT;
    found BOOLEAN;
    c INT;
    serves TEXT[];
    idle BOOLEAN[];
    waiting_all BIGINT[];
    -- The branch's waiting counts (service, priority, n), kept as each item changes them.
    wc_code TEXT[];
    wc_priority BOOLEAN[];
    wc_n BIGINT[];
    -- The number counters read or chosen: (service, day, last number or null).
    nc_code TEXT[] := '{}';
    nc_day DATE[] := '{}';
    nc_last BIGINT[] := '{}';
    -- Per service, the recent mean service time last read: since when, the mean, its oldest row.
    since BIGINT;
    oldest BIGINT;
    mean_code TEXT[] := '{}';
    mean_since BIGINT[] := '{}';
    mean_secs DOUBLE PRECISION[] := '{}';
    mean_oldest BIGINT[] := '{}';
    -- The open windows (by number) and whether each is idle.
    open_number BIGINT[];
    open_idle BOOLEAN[];
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
    SELECT COALESCE(array_agg(service_code), '{}'), COALESCE(array_agg(priority), '{}'),
           COALESCE(array_agg(w.n), '{}')
    INTO wc_code, wc_priority, wc_n
    FROM waiting_counts w WHERE branch_id = p_branch;
    SELECT COALESCE(array_agg(number ORDER BY number), '{}'),
           COALESCE(array_agg(current_ticket IS NULL ORDER BY number), '{}')
    INTO open_number, open_idle
    FROM windows WHERE branch_id = p_branch AND state = 'open';

    FOR item IN
        SELECT x.*, EXISTS (SELECT 1 FROM idempotency i WHERE i.device_key = x.scope AND i.key = x.key) AS stored
        FROM jsonb_to_recordset(p_items) AS x(
            scope TEXT, key TEXT, code TEXT, priority BOOLEAN, day DATE, first BIGINT, last BIGINT,
            width INT, now BIGINT, id TEXT, device BIGINT, staff BIGINT, forecast JSONB,
            forecast_last DOUBLE PRECISION, forecast_extra DOUBLE PRECISION,
            default_secs DOUBLE PRECISION, recent_since BIGINT, windows JSONB, serves JSONB,
            appointments BOOLEAN, message TEXT)
    LOOP
        p_scope := item.scope;
        p_key := item.key;
        IF p_key IS NOT NULL THEN
            found := false;
            FOR i IN 1 .. issued LOOP
                IF scopes[i] = p_scope AND keys[i] = p_key THEN
                    found := true;
                END IF;
            END LOOP;
            IF found OR item.stored THEN
                CONTINUE;
            END IF;
        END IF;
        p_code := item.code;
        p_priority := item.priority;
        p_day := item.day;
        p_first := item.first;
        p_last := item.last;
        p_width := item.width;
        p_now := item.now;

        -- The next number, as `qhall_issue`: after the service's last of the day (kept here
        -- once read), the first not live — in the table or earlier in this batch.
        c := array_position(nc_code, p_code);
        WHILE c IS NOT NULL AND nc_day[c] <> p_day LOOP
            c := array_position(nc_code, p_code, c + 1);
        END LOOP;
        IF c IS NULL THEN
            SELECT last_number INTO previous FROM number_counters
            WHERE branch_id = p_branch AND service_code = p_code AND day = p_day;
            c := cardinality(nc_code) + 1;
            nc_code[c] := p_code;
            nc_day[c] := p_day;
            nc_last[c] := previous;
        END IF;
        previous := nc_last[c];
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
            IF array_position(numbers, candidate) IS NULL
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
        nc_last[c] := chosen;

        -- Ahead: every waiting ticket of its class or a higher one; the service's whole line.
        ahead := 0;
        waiting_this := 0;
        FOR i IN 1 .. cardinality(wc_code) LOOP
            IF wc_code[i] = p_code THEN
                waiting_this := waiting_this + wc_n[i];
                IF wc_priority[i] OR NOT p_priority THEN
                    ahead := ahead + wc_n[i];
                END IF;
            END IF;
        END LOOP;

        p_forecast := CASE WHEN jsonb_typeof(item.forecast) = 'array' THEN item.forecast END;
        mean := NULL;
        idle := '{}';
        waiting_all := '{}';
        IF p_forecast IS NULL THEN
            -- The mean of the service's last 30 done since `recent_since`. Read for an earlier
            -- item at a `since` no later than this one's, with every row at or after this
            -- one's, it is the same rows, so the same mean.
            since := item.recent_since;
            c := array_position(mean_code, p_code);
            IF c IS NULL OR mean_since[c] > since
               OR (mean_oldest[c] IS NOT NULL AND mean_oldest[c] < since) THEN
                SELECT CAST(AVG(d) AS DOUBLE PRECISION), MIN(done_at) INTO mean, oldest FROM (
                    SELECT (done_at - serving_at) / 1000.0 AS d, done_at FROM tickets
                    WHERE branch_id = p_branch AND service_code = p_code AND status = 'done'
                      AND done_at >= since AND serving_at IS NOT NULL
                    ORDER BY done_at DESC LIMIT 30) recent;
                c := coalesce(c, cardinality(mean_code) + 1);
                mean_code[c] := p_code;
                mean_since[c] := since;
                mean_secs[c] := mean;
                mean_oldest[c] := oldest;
            END IF;
            mean := COALESCE(mean_secs[c], item.default_secs);
            -- The open windows configured to serve the service, by number.
            p_windows := item.windows;
            p_serves := item.serves;
            FOR o IN 1 .. cardinality(open_number) LOOP
                FOR j IN 0 .. jsonb_array_length(p_windows) - 1 LOOP
                    IF (p_windows->>j)::BIGINT = open_number[o] THEN
                        serves := string_to_array(p_serves->>j, ',');
                        n := 0;
                        FOR i IN 1 .. cardinality(wc_code) LOOP
                            IF wc_code[i] = ANY(serves) THEN
                                n := n + wc_n[i];
                            END IF;
                        END LOOP;
                        idle := idle || open_idle[o];
                        waiting_all := waiting_all || n;
                    END IF;
                END LOOP;
            END LOOP;
        END IF;
        estimate := qhall_batch_estimate(ahead, p_forecast, item.forecast_last,
                                         item.forecast_extra, mean,
                                         waiting_this, idle, waiting_all);
        IF item.appointments THEN
            SELECT COUNT(*) INTO booked FROM bookings
            WHERE branch_id = p_branch AND service_code = p_code AND day = p_day AND state = 'booked'
              AND slot_start >= p_now AND slot_start < p_now + estimate * 1000;
            IF booked > 0 THEN
                estimate := qhall_batch_estimate(ahead + booked, p_forecast,
                                                 item.forecast_last,
                                                 item.forecast_extra, mean,
                                                 waiting_this, idle, waiting_all);
            END IF;
        END IF;

        -- It waits now: counted, as the insert's trigger will count it.
        found := false;
        FOR i IN 1 .. cardinality(wc_code) LOOP
            IF wc_code[i] = p_code AND wc_priority[i] = p_priority THEN
                wc_n[i] := wc_n[i] + 1;
                found := true;
            END IF;
        END LOOP;
        IF NOT found THEN
            wc_code := wc_code || p_code;
            wc_priority := wc_priority || p_priority;
            wc_n := wc_n || 1::BIGINT;
        END IF;
        waiting := waiting_this + 1;
        seq := seq + 1;

        issued := issued + 1;
        ids[issued] := item.id;
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
        devices[issued] := item.device;
        staffs[issued] := item.staff;
        seqs[issued] := seq;
        messages[issued] := replace(replace(item.message, '18446744073709551615', seq::TEXT),
                                    '4294967295', waiting::TEXT);
    END LOOP;
    IF issued = 0 THEN
        RETURN;
    END IF;

    -- Each service's last number of the day, as the last item of it left it.
    INSERT INTO number_counters (branch_id, service_code, day, last_number)
    SELECT p_branch, u.code, u.day, u.last
    FROM unnest(nc_code, nc_day, nc_last) AS u(code, day, last) WHERE u.last IS NOT NULL
    ON CONFLICT (branch_id, service_code, day) DO UPDATE SET last_number = excluded.last_number;

    -- The rows, in the items' order (keys ascending as issued one by one); the insert's trigger
    -- counts them as waiting.
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
    SELECT ROW(made.*)::tickets, u.seq, u.body
    FROM made JOIN unnest(ids, seqs, messages) AS u(id, seq, body) ON u.id = made.id
    ORDER BY made.key;

    UPDATE branches SET event_seq = seq WHERE id = p_branch;
    INSERT INTO stream_events (branch_id, seq, at, body)
    SELECT p_branch, u.seq, u.at, u.body FROM unnest(seqs, nows, messages) AS u(seq, at, body);
    -- In the items' order, as issuing them one by one would notify (the body travels with it).
    IF current_setting('qhall.notify', true) IS DISTINCT FROM 'after_commit' THEN
        FOR i IN 1 .. issued LOOP
            PERFORM pg_notify('qhall_events', p_branch || ' ' || seqs[i] || ' ' || messages[i]);
        END LOOP;
    END IF;
END;
$$;

CREATE OR REPLACE FUNCTION qhall_issue_batch(p_branch BIGINT, p_version BIGINT, p_items JSONB)
RETURNS SETOF tickets LANGUAGE sql AS $$
    SELECT (b.made_ticket).* FROM qhall_issue_batch_events(p_branch, p_version, p_items) b
    ORDER BY (b.made_ticket).key
$$;
