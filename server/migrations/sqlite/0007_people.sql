-- The managers' work on people: the complaints register's history, and the branch settings
-- for contact retention and attendance tolerances.

-- What was done to a complaint, oldest first: a note, a status change, an assignment (or all
-- three at once). The register's status stays in `complaints.status`, where 'assigned' means
-- "in progress" (the API says `in_progress`). Never holds the customer's contact.
CREATE TABLE complaints_history (
    id              INTEGER PRIMARY KEY,
    complaint_id    INTEGER NOT NULL REFERENCES complaints(id),
    user_id         INTEGER REFERENCES users(id),    -- who wrote it
    at              INTEGER NOT NULL,
    text            TEXT NOT NULL DEFAULT '',
    from_status     TEXT,                            -- NULL: the status did not change
    to_status       TEXT,
    assigned_to     INTEGER REFERENCES users(id)     -- set when this entry assigned the complaint
);
CREATE INDEX complaints_history_of ON complaints_history (complaint_id, id);

-- Per branch; a missing row means the defaults. Not part of the cached branch configuration
-- (kiosks and boards never need it), so changing it does not bump config_version.
CREATE TABLE people_settings (
    branch_id                INTEGER PRIMARY KEY REFERENCES branches(id),
    complaint_retention_days INTEGER NOT NULL DEFAULT 180, -- contact purged this long after resolution
    late_after_mins          INTEGER NOT NULL DEFAULT 5,   -- first sign-in later than opening + this: late
    early_leave_mins         INTEGER NOT NULL DEFAULT 5,   -- last sign-out earlier than closing - this: early
    long_pause_mins          INTEGER NOT NULL DEFAULT 30   -- one pause longer than this: long
);

-- The purge looks for resolved complaints that still hold a contact.
CREATE INDEX complaints_resolved ON complaints (branch_id, resolved_at) WHERE contact IS NOT NULL;
-- Attendance reads a branch's window log by time (window_log_at exists); nothing more needed.
