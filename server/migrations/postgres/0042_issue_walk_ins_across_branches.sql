-- Issue #15: walk-ins of several branches issued in one statement.
--
-- In a city the walk-ins that arrive together at one server are of different branches (16
-- issuing connections over 200 branches: 1.0 walk-in a statement of `qhall_issue_batch_events`,
-- 0039), so each paid a whole statement: ~0.75 ms inside PostgreSQL, of which the three-table
-- insert of one row took ~0.31 ms, besides the statement's own start, commit and round trip,
-- against ~0.17 ms for each further walk-in of a statement. `qhall_issue_walk_ins` takes the
-- walk-ins of any branches: it locks the branches, then for each branch in turn runs 0039's
-- steps over that branch's walk-ins (the same reads, the same loop), and inserts all the
-- tickets, their history, keys and events in one statement each.
--
-- Locks. The first item's branch is waited for, as before, but for 250 ms at most: a branch
-- held longer (a window's transaction on a server that stopped answering) fails the statement
-- with `lock_not_available`, changing nothing, and the server issues that branch's walk-ins
-- step by step for a while, so one stuck branch does not stall the others'. Every other branch
-- is taken only if no one holds it (`SKIP LOCKED`), and the branches it could not take are
-- answered as `skipped` (their items go again, first, in the server's next statement). So the
-- statement never waits while it holds a lock: no deadlock with another statement or a
-- window's transaction, and a branch busy with a call does not hold up the other branches'
-- walk-ins.
--
-- Per branch, what is issued, in what order, with which numbers, estimates, seqs and events is
-- 0039's: an item whose branch's configuration version is not the one it was planned with is
-- not issued (the server issues it step by step), as 0039 does with a whole batch.
-- `qhall_issue_batch_events` (0039) stays for servers of the previous release during a rolling
-- upgrade, now running this function (at the end of this file).

CREATE FUNCTION qhall_issue_walk_ins(
    a_branch BIGINT[], a_version BIGINT[], a_scope TEXT[], a_key TEXT[], a_code TEXT[],
    a_priority BOOLEAN[], a_day DATE[], a_first BIGINT[], a_last BIGINT[], a_width INT[],
    a_now BIGINT[], a_id TEXT[], a_device BIGINT[], a_staff BIGINT[], a_forecast TEXT[],
    a_forecast_last DOUBLE PRECISION[], a_forecast_extra DOUBLE PRECISION[],
    a_default_secs DOUBLE PRECISION[], a_recent_since BIGINT[], a_windows TEXT[],
    a_serves TEXT[], a_appointments BOOLEAN[], a_message TEXT[]
) RETURNS TABLE (made_ticket tickets, made_seq BIGINT, made_body TEXT, skipped BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
    -- The branches locked: id, configuration version, event seq.
    lb_id BIGINT[];
    lb_version BIGINT[];
    lb_seq BIGINT[];
    waited_before TEXT;
    skipped_ids BIGINT[] := '{}';
    p_branch BIGINT;
    version BIGINT;
    seq BIGINT;
    stored BOOLEAN[];
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
    -- The branch's number counters read or chosen: (service, day, last number or null); and
    -- every branch's, for the upsert.
    nc_code TEXT[];
    nc_day DATE[];
    nc_last BIGINT[];
    all_nc_branch BIGINT[] := '{}';
    all_nc_code TEXT[] := '{}';
    all_nc_day DATE[] := '{}';
    all_nc_last BIGINT[] := '{}';
    -- Per service, the recent mean service time last read: since when, the mean, its oldest row.
    since BIGINT;
    oldest BIGINT;
    mean_code TEXT[];
    mean_since BIGINT[];
    mean_secs DOUBLE PRECISION[];
    mean_oldest BIGINT[];
    -- The branch's open windows (by number) and whether each is idle.
    open_number BIGINT[];
    open_idle BOOLEAN[];
    -- The numbers the branch's items took in this statement.
    branch_numbers TEXT[];
    -- The items issued, branch by branch, and each one's place among the items.
    places INT[] := '{}';
    branches_of BIGINT[] := '{}';
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
    IF coalesce(cardinality(a_id), 0) = 0 THEN
        RETURN;
    END IF;
    -- The first item's branch, waited for (250 ms at most); then the others that are free, in
    -- id order.
    waited_before := current_setting('lock_timeout');
    PERFORM set_config('lock_timeout', '250ms', true);
    SELECT COALESCE(array_agg(id), '{}'), COALESCE(array_agg(config_version), '{}'),
           COALESCE(array_agg(event_seq), '{}')
    INTO lb_id, lb_version, lb_seq
    FROM (SELECT id, config_version, event_seq FROM branches WHERE id = a_branch[1] FOR UPDATE) f;
    PERFORM set_config('lock_timeout', waited_before, true);
    IF (a_branch[1] = ALL(a_branch)) IS NOT TRUE THEN
        SELECT lb_id || COALESCE(array_agg(id ORDER BY id), '{}'),
               lb_version || COALESCE(array_agg(config_version ORDER BY id), '{}'),
               lb_seq || COALESCE(array_agg(event_seq ORDER BY id), '{}')
        INTO lb_id, lb_version, lb_seq
        FROM (SELECT id, config_version, event_seq FROM branches
              WHERE id = ANY(a_branch) AND id <> a_branch[1]
              ORDER BY id FOR UPDATE SKIP LOCKED) o;
        skipped_ids := ARRAY(SELECT DISTINCT x FROM unnest(a_branch) AS x
                             WHERE x <> a_branch[1] AND NOT x = ANY(lb_id) ORDER BY x);
    END IF;

    -- Whether each item's key is stored (the loop writes no `idempotency` row).
    stored := ARRAY(SELECT EXISTS (SELECT 1 FROM idempotency i
                                   WHERE i.device_key = u.scope AND i.key = u.key)
                    FROM unnest(a_scope, a_key) WITH ORDINALITY AS u(scope, key, k) ORDER BY u.k);

    -- Each locked branch in turn: 0039's steps over its items.
    FOR b IN 1 .. cardinality(lb_id) LOOP
    p_branch := lb_id[b];
    version := lb_version[b];
    seq := lb_seq[b];
    SELECT COALESCE(array_agg(service_code), '{}'), COALESCE(array_agg(priority), '{}'),
           COALESCE(array_agg(w.n), '{}')
    INTO wc_code, wc_priority, wc_n
    FROM waiting_counts w WHERE branch_id = p_branch;
    SELECT COALESCE(array_agg(number ORDER BY number), '{}'),
           COALESCE(array_agg(current_ticket IS NULL ORDER BY number), '{}')
    INTO open_number, open_idle
    FROM windows WHERE branch_id = p_branch AND state = 'open';
    nc_code := '{}';
    nc_day := '{}';
    nc_last := '{}';
    mean_code := '{}';
    mean_since := '{}';
    mean_secs := '{}';
    mean_oldest := '{}';
    branch_numbers := '{}';

    FOR it IN 1 .. cardinality(a_id) LOOP
        CONTINUE WHEN a_branch[it] <> p_branch OR a_version[it] IS DISTINCT FROM version;
        p_scope := a_scope[it];
        p_key := a_key[it];
        IF p_key IS NOT NULL THEN
            found := false;
            FOR i IN 1 .. issued LOOP
                IF scopes[i] = p_scope AND keys[i] = p_key THEN
                    found := true;
                END IF;
            END LOOP;
            IF found OR stored[it] THEN
                CONTINUE;
            END IF;
        END IF;
        p_code := a_code[it];
        p_priority := a_priority[it];
        p_day := a_day[it];
        p_first := a_first[it];
        p_last := a_last[it];
        p_width := a_width[it];
        p_now := a_now[it];

        -- The next number, as `qhall_issue`: after the service's last of the day (kept here
        -- once read), the first not live — in the table or earlier in this statement.
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
            IF array_position(branch_numbers, candidate) IS NULL
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
        branch_numbers := branch_numbers || chosen_number;

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

        p_forecast := a_forecast[it]::JSONB;
        IF jsonb_typeof(p_forecast) IS DISTINCT FROM 'array' THEN
            p_forecast := NULL;
        END IF;
        mean := NULL;
        idle := '{}';
        waiting_all := '{}';
        IF p_forecast IS NULL THEN
            -- The mean of the service's last 30 done since `recent_since`. Read for an earlier
            -- item at a `since` no later than this one's, with every row at or after this
            -- one's, it is the same rows, so the same mean.
            since := a_recent_since[it];
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
            mean := COALESCE(mean_secs[c], a_default_secs[it]);
            -- The open windows configured to serve the service, by number.
            p_windows := a_windows[it]::JSONB;
            p_serves := a_serves[it]::JSONB;
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
        estimate := qhall_batch_estimate(ahead, p_forecast, a_forecast_last[it],
                                         a_forecast_extra[it], mean,
                                         waiting_this, idle, waiting_all);
        IF a_appointments[it] THEN
            SELECT COUNT(*) INTO booked FROM bookings
            WHERE branch_id = p_branch AND service_code = p_code AND day = p_day AND state = 'booked'
              AND slot_start >= p_now AND slot_start < p_now + estimate * 1000;
            IF booked > 0 THEN
                estimate := qhall_batch_estimate(ahead + booked, p_forecast,
                                                 a_forecast_last[it],
                                                 a_forecast_extra[it], mean,
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
        places[issued] := it;
        branches_of[issued] := p_branch;
        ids[issued] := a_id[it];
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
        devices[issued] := a_device[it];
        staffs[issued] := a_staff[it];
        seqs[issued] := seq;
        messages[issued] := replace(replace(a_message[it], '18446744073709551615', seq::TEXT),
                                    '4294967295', waiting::TEXT);
    END LOOP;
    -- The branch's counters, for the upsert; its new seq.
    all_nc_branch := all_nc_branch || array_fill(p_branch, ARRAY[cardinality(nc_code)]);
    all_nc_code := all_nc_code || nc_code;
    all_nc_day := all_nc_day || nc_day;
    all_nc_last := all_nc_last || nc_last;
    lb_seq[b] := seq;
    END LOOP;

    IF issued > 0 THEN
        -- Each service's last number of the day, as the last item of it left it.
        INSERT INTO number_counters (branch_id, service_code, day, last_number)
        SELECT u.branch, u.code, u.day, u.last
        FROM unnest(all_nc_branch, all_nc_code, all_nc_day, all_nc_last)
             AS u(branch, code, day, last)
        WHERE u.last IS NOT NULL
        ON CONFLICT (branch_id, service_code, day) DO UPDATE SET last_number = excluded.last_number;

        -- The rows, in the items' order (keys ascending as issued one by one); the insert's
        -- trigger counts them as waiting.
        RETURN QUERY
        WITH made AS (
            INSERT INTO tickets (id, branch_id, service_code, issued_service, number, number_seq,
                                 day, priority, status, issued_at, queue_at, estimate_ahead,
                                 estimate_secs, device_id, appointment_at)
            SELECT u.id, u.branch, u.code, u.code, u.number, u.number_seq, u.day, u.priority,
                   'waiting', u.at, u.at, u.ahead, u.estimate, u.device, NULL
            FROM unnest(ids, branches_of, codes, numbers, number_seqs, days, priorities, nows,
                        aheads, estimates, devices, places)
                 AS u(id, branch, code, number, number_seq, day, priority, at, ahead, estimate,
                      device, place)
            ORDER BY u.place
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
        SELECT ROW(made.*)::tickets, u.seq, u.body, NULL::BIGINT
        FROM made JOIN unnest(ids, seqs, messages) AS u(id, seq, body) ON u.id = made.id
        ORDER BY made.key;

        IF cardinality(lb_id) = 1 THEN
            UPDATE branches SET event_seq = lb_seq[1] WHERE id = lb_id[1];
        ELSE
            UPDATE branches SET event_seq = u.seq
            FROM unnest(lb_id, lb_seq) AS u(id, seq)
            WHERE branches.id = u.id AND branches.event_seq <> u.seq;
        END IF;
        INSERT INTO stream_events (branch_id, seq, at, body)
        SELECT u.branch, u.seq, u.at, u.body
        FROM unnest(branches_of, seqs, nows, messages) AS u(branch, seq, at, body);
        -- In the items' order, as issuing them one by one would notify (the body travels with
        -- it).
        IF current_setting('qhall.notify', true) IS DISTINCT FROM 'after_commit' THEN
            FOR i IN 1 .. issued LOOP
                PERFORM pg_notify('qhall_events', branches_of[i] || ' ' || seqs[i] || ' '
                                                  || messages[i]);
            END LOOP;
        END IF;
    END IF;

    RETURN QUERY SELECT NULL::tickets, NULL::BIGINT, NULL::TEXT, s FROM unnest(skipped_ids) AS s;
END;
$$;

-- A server of the previous release (during a rolling upgrade) still calls 0039's function, and
-- through it 0037's: both now run this one, so the database holds one copy of the issuing steps.
-- Its first branch is waited for 250 ms at most here too; past that the older server's
-- statement fails, changing nothing, and it issues those walk-ins step by step.
CREATE OR REPLACE FUNCTION qhall_issue_batch_events(
    p_branch BIGINT, p_version BIGINT, a_scope TEXT[], a_key TEXT[], a_code TEXT[],
    a_priority BOOLEAN[], a_day DATE[], a_first BIGINT[], a_last BIGINT[], a_width INT[],
    a_now BIGINT[], a_id TEXT[], a_device BIGINT[], a_staff BIGINT[], a_forecast TEXT[],
    a_forecast_last DOUBLE PRECISION[], a_forecast_extra DOUBLE PRECISION[],
    a_default_secs DOUBLE PRECISION[], a_recent_since BIGINT[], a_windows TEXT[],
    a_serves TEXT[], a_appointments BOOLEAN[], a_message TEXT[]
) RETURNS TABLE (made_ticket tickets, made_seq BIGINT, made_body TEXT) LANGUAGE sql AS $$
    SELECT w.made_ticket, w.made_seq, w.made_body
    FROM qhall_issue_walk_ins(array_fill(p_branch, ARRAY[coalesce(cardinality(a_id), 0)]),
                              array_fill(p_version, ARRAY[coalesce(cardinality(a_id), 0)]),
                              a_scope, a_key, a_code, a_priority, a_day, a_first, a_last,
                              a_width, a_now, a_id, a_device, a_staff, a_forecast,
                              a_forecast_last, a_forecast_extra, a_default_secs, a_recent_since,
                              a_windows, a_serves, a_appointments, a_message) w
    WHERE w.skipped IS NULL
$$;
