-- Issuing a walk-in ticket in one statement: the branch's row lock is held for one round trip
-- of the server, not the dozen of issuing step by step (server/src/hall/issue.rs, which calls it
-- through `Tx::issue_planned`). It runs exactly the steps of `hall::issue::issue_with`, in the
-- same order and with the same statements: lock the branch, the idempotency key, the next free
-- number of the series, the tickets ahead, the estimate, the ticket and its history line, the
-- key, the stream event and its notification (delivered at commit).
--
-- What depends only on the branch's configuration is decided by the server before (admission,
-- the day, the number range, the windows serving the service, the forecast); `p_version` is
-- the configuration it decided with. Under the lock a different version, or every number still
-- live, returns no row and changes nothing: the server then issues step by step, which answers
-- with the configuration as it is now (or `numbers_exhausted`).
--
-- The estimate: the forecast's (`p_forecast`, entry k rounded; beyond it `p_forecast_last +
-- (k - last) * p_forecast_extra`) when the server has a fresh one for the service, else the
-- formula of server/src/queue/estimate.rs (`estimate_wait_secs`), computed here with the same
-- floating-point operations in the same order. Rounding: half away from zero, as Rust's `round`.
CREATE FUNCTION qhall_round(x DOUBLE PRECISION) RETURNS DOUBLE PRECISION
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN x >= 0 AND x - floor(x) = 0.5 THEN floor(x) + 1
                WHEN x < 0 AND ceil(x) - x = 0.5 THEN ceil(x) - 1
                ELSE round(x) END
$$;

CREATE FUNCTION qhall_issue_estimate(
    p_branch BIGINT, p_code TEXT, p_ahead BIGINT,
    p_forecast BIGINT[], p_forecast_last DOUBLE PRECISION, p_forecast_extra DOUBLE PRECISION,
    p_mean DOUBLE PRECISION, p_windows BIGINT[], p_serves TEXT[]
) RETURNS BIGINT LANGUAGE plpgsql STABLE AS $$
DECLARE
    last_k INT;
    idle DOUBLE PRECISION := 0;
    capacity DOUBLE PRECISION := 0;
    share DOUBLE PRECISION;
    in_line DOUBLE PRECISION;
    waiting_this BIGINT;
    waiting_all BIGINT;
    w RECORD;
BEGIN
    IF p_forecast IS NOT NULL THEN
        last_k := cardinality(p_forecast) - 1;
        IF p_ahead <= last_k THEN
            RETURN p_forecast[p_ahead + 1];
        END IF;
        RETURN qhall_round(greatest(p_forecast_last + (p_ahead - last_k)::DOUBLE PRECISION * p_forecast_extra, 0))::BIGINT;
    END IF;
    SELECT COALESCE(SUM(n), 0) INTO waiting_this FROM waiting_counts
    WHERE branch_id = p_branch AND service_code = p_code;
    FOR w IN
        SELECT windows.current_ticket, s.serves
        FROM windows JOIN UNNEST(p_windows, p_serves) AS s(number, serves) ON s.number = windows.number
        WHERE windows.branch_id = p_branch AND windows.state = 'open'
        ORDER BY windows.number
    LOOP
        IF w.current_ticket IS NULL THEN
            idle := idle + 1;
        END IF;
        SELECT COALESCE(SUM(n), 0) INTO waiting_all FROM waiting_counts
        WHERE branch_id = p_branch AND service_code = ANY(string_to_array(w.serves, ','));
        share := (waiting_this + 1)::DOUBLE PRECISION / (waiting_all + 1)::DOUBLE PRECISION;
        capacity := capacity + least(greatest(share, 0), 1);
    END LOOP;
    IF capacity <= 0 THEN
        capacity := 1;
    END IF;
    in_line := p_ahead::DOUBLE PRECISION + 1 - idle;
    IF in_line <= 0 THEN
        RETURN 0;
    END IF;
    RETURN least(greatest(qhall_round(in_line * greatest(p_mean, 0) / capacity), 0), 604800)::BIGINT;
END;
$$;

CREATE FUNCTION qhall_issue(
    p_branch BIGINT, p_version BIGINT, p_scope TEXT, p_key TEXT,
    p_code TEXT, p_priority BOOLEAN, p_day DATE, p_first BIGINT, p_last BIGINT, p_width INT,
    p_now BIGINT, p_id TEXT, p_device BIGINT, p_staff BIGINT,
    p_forecast BIGINT[], p_forecast_last DOUBLE PRECISION, p_forecast_extra DOUBLE PRECISION,
    p_default_secs DOUBLE PRECISION, p_recent_since BIGINT, p_windows BIGINT[], p_serves TEXT[],
    p_appointments BOOLEAN, p_message TEXT
) RETURNS SETOF tickets LANGUAGE plpgsql AS $$
DECLARE
    version BIGINT;
    found_key BIGINT;
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
    seq BIGINT;
    message TEXT;
    t tickets;
BEGIN
    SELECT config_version INTO version FROM branches WHERE id = p_branch FOR UPDATE;
    IF version IS DISTINCT FROM p_version THEN
        RETURN;
    END IF;
    IF p_key IS NOT NULL THEN
        SELECT ticket_key INTO found_key FROM idempotency WHERE device_key = p_scope AND key = p_key;
        IF found_key IS NOT NULL THEN
            RETURN QUERY SELECT * FROM tickets WHERE key = found_key;
            RETURN;
        END IF;
    END IF;

    -- The next number: numbering::candidates, the first one not live.
    SELECT last_number INTO previous FROM number_counters
    WHERE branch_id = p_branch AND service_code = p_code AND day = p_day;
    IF previous < 0 THEN
        previous := 0;
    END IF;
    span := CASE WHEN p_first > p_last THEN 0 ELSE p_last - p_first + 1 END;
    start := CASE WHEN previous >= p_first AND previous < p_last THEN previous + 1 ELSE p_first END;
    FOR i IN 0 .. span - 1 LOOP
        n := p_first + (start - p_first + i) % span;
        candidate := p_code || CASE WHEN length(n::TEXT) >= p_width THEN n::TEXT
                                    ELSE lpad(n::TEXT, p_width, '0') END;
        IF NOT EXISTS (SELECT 1 FROM tickets WHERE branch_id = p_branch AND number = candidate
                       AND status IN ('waiting', 'called', 'serving')) THEN
            chosen := n;
            chosen_number := candidate;
            EXIT;
        END IF;
    END LOOP;
    IF chosen IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO number_counters (branch_id, service_code, day, last_number)
    VALUES (p_branch, p_code, p_day, chosen)
    ON CONFLICT (branch_id, service_code, day) DO UPDATE SET last_number = excluded.last_number;

    -- Ahead: every waiting ticket of its class or a higher one.
    SELECT COALESCE(SUM(c.n) FILTER (WHERE c.priority OR NOT p_priority), 0) INTO ahead
    FROM waiting_counts c WHERE c.branch_id = p_branch AND c.service_code = p_code;

    IF p_forecast IS NULL THEN
        SELECT CAST(AVG(d) AS DOUBLE PRECISION) INTO mean FROM (
            SELECT (done_at - serving_at) / 1000.0 AS d FROM tickets
            WHERE branch_id = p_branch AND service_code = p_code AND status = 'done'
              AND done_at >= p_recent_since AND serving_at IS NOT NULL
            ORDER BY done_at DESC LIMIT 30) recent;
        mean := COALESCE(mean, p_default_secs);
    END IF;
    estimate := qhall_issue_estimate(p_branch, p_code, ahead, p_forecast, p_forecast_last,
                                     p_forecast_extra, mean, p_windows, p_serves);
    IF p_appointments THEN
        -- A walk-in also follows the booked customers due while it waits.
        SELECT COUNT(*) INTO booked FROM bookings
        WHERE branch_id = p_branch AND service_code = p_code AND day = p_day AND state = 'booked'
          AND slot_start >= p_now AND slot_start < p_now + estimate * 1000;
        IF booked > 0 THEN
            estimate := qhall_issue_estimate(p_branch, p_code, ahead + booked, p_forecast,
                                             p_forecast_last, p_forecast_extra, mean, p_windows,
                                             p_serves);
        END IF;
    END IF;

    INSERT INTO tickets (id, branch_id, service_code, issued_service, number, number_seq, day,
                         priority, status, issued_at, queue_at, estimate_ahead, estimate_secs,
                         device_id, appointment_at)
    VALUES (p_id, p_branch, p_code, p_code, chosen_number, chosen, p_day, p_priority, 'waiting',
            p_now, p_now, ahead, estimate, p_device, NULL)
    RETURNING * INTO t;
    INSERT INTO ticket_events (ticket_key, at, kind, window_number, staff_user_id, detail)
    VALUES (t.key, p_now, 'issue', NULL, p_staff, NULL);
    IF p_key IS NOT NULL THEN
        INSERT INTO idempotency (device_key, key, ticket_key, created_at)
        VALUES (p_scope, p_key, t.key, p_now);
    END IF;

    -- The event: the server's serialized message with its two placeholders filled.
    SELECT COALESCE(SUM(c.n), 0) INTO waiting FROM waiting_counts c
    WHERE c.branch_id = p_branch AND c.service_code = p_code;
    UPDATE branches SET event_seq = event_seq + 1 WHERE id = p_branch RETURNING event_seq INTO seq;
    message := replace(replace(p_message, '18446744073709551615', seq::TEXT), '4294967295',
                       waiting::TEXT);
    INSERT INTO stream_events (branch_id, seq, at, body) VALUES (p_branch, seq, p_now, message);
    -- As the server's own (store/postgres/mod.rs): the body travels with the notification.
    PERFORM pg_notify('qhall_events', p_branch || ' ' || seq || ' ' || message);
    RETURN NEXT t;
END;
$$;
