-- Issue #15: a statement inserting tickets counts its waiting ones once, not once a row.
--
-- `tickets_waiting_insert` (0002) ran an upsert of `waiting_counts` for every inserted row:
-- ~9 µs each, eight times in a typical batch of walk-ins issued together
-- (pg_stat_statements, the one-branch bench). The same counts now come from the statement's
-- inserted rows, grouped, in one upsert (in key order, so two statements never take the same
-- counters in different orders). Updates keep the row trigger: each changes one ticket.

CREATE FUNCTION tickets_waiting_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO waiting_counts (branch_id, service_code, priority, n)
    SELECT branch_id, service_code, priority, COUNT(*) FROM inserted WHERE status = 'waiting'
    GROUP BY branch_id, service_code, priority
    ORDER BY branch_id, service_code, priority
    ON CONFLICT (branch_id, service_code, priority) DO UPDATE SET n = waiting_counts.n + excluded.n;
    RETURN NULL;
END;
$$;

DROP TRIGGER tickets_waiting_insert ON tickets;
CREATE TRIGGER tickets_waiting_insert AFTER INSERT ON tickets
REFERENCING NEW TABLE AS inserted
FOR EACH STATEMENT EXECUTE FUNCTION tickets_waiting_inserted();
