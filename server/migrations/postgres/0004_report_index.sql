-- The managers' report reads every ticket of a range of days (a year of a large hall is
-- ~700,000): an index in issue order that carries every column the report needs, so the read
-- can be an index-only scan. It covers the plain (branch_id, issued_at) index as a prefix.
CREATE INDEX tickets_report ON tickets (branch_id, issued_at)
    INCLUDE (issued_service, status, window_number, staff_user_id, first_called_at, serving_at,
             done_at, estimate_secs, key);
DROP INDEX tickets_issued;
