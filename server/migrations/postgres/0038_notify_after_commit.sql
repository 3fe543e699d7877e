-- Issue #15: servers tell each other about committed events after the commit, not in it.
--
-- PostgreSQL takes a database-wide lock at the commit of a transaction that sent NOTIFY and
-- holds it until the commit is done, so the issuing transactions of every branch queued on that
-- one lock (the `city` bench). A server now stores its events, commits, and then notifies from a
-- statement of its own (store/postgres/relay.rs); its connections say so with
-- `qhall.notify = after_commit`. The issuing functions keep notifying in their transaction for a
-- connection that does not: an older server still running during a rolling upgrade.

CREATE FUNCTION qhall_notify(payload TEXT) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('qhall.notify', true) IS DISTINCT FROM 'after_commit' THEN
        PERFORM pg_notify('qhall_events', payload);
    END IF;
END;
$$;

-- In each issuing function, the one statement that notified now calls qhall_notify; the rest of
-- each definition stays exactly as 0035 and 0037 wrote it (rewritten in place, not copied here).
DO $$
DECLARE
    f TEXT;
    before TEXT;
    after TEXT;
BEGIN
    FOREACH f IN ARRAY ARRAY['qhall_issue', 'qhall_issue_batch'] LOOP
        SELECT pg_get_functiondef(p.oid) INTO STRICT before
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.proname = f AND n.nspname = current_schema();
        after := replace(before, 'PERFORM pg_notify(''qhall_events'', ', 'PERFORM qhall_notify(');
        IF after = before THEN
            RAISE EXCEPTION '% has no notification to rewrite', f;
        END IF;
        EXECUTE after;
    END LOOP;
END;
$$;
