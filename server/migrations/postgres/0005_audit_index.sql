-- The audit log (table in 0001) is read by branch and day range, newest first.
CREATE INDEX audit_log_at ON audit_log (branch_id, at);
