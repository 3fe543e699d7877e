-- Leave (issue #14): staff ask for it ahead (the branch's minimum notice, sick leave exempt), a
-- manager approves or declines it with a note; approved leave excuses attendance. A part day
-- has times, and then lies within one day.
ALTER TABLE people_settings ADD COLUMN leave_notice_days INTEGER NOT NULL DEFAULT 2;

CREATE TABLE leave_requests (
    id            INTEGER PRIMARY KEY,
    branch_id     INTEGER NOT NULL REFERENCES branches (id),
    user_id       INTEGER NOT NULL REFERENCES users (id),
    from_day      TEXT NOT NULL,
    to_day        TEXT NOT NULL,
    start_min     INTEGER,
    end_min       INTEGER,
    kind          TEXT NOT NULL CHECK (kind IN ('personal', 'sick', 'annual', 'toil')),
    reason        TEXT NOT NULL DEFAULT '',
    state         TEXT NOT NULL DEFAULT 'requested'
                  CHECK (state IN ('requested', 'approved', 'declined', 'withdrawn')),
    requested_at  INTEGER NOT NULL,
    decided_by    INTEGER REFERENCES users (id),
    decided_at    INTEGER,
    note          TEXT,
    CHECK (from_day <= to_day),
    CHECK ((start_min IS NULL) = (end_min IS NULL)),
    CHECK (start_min IS NULL OR (from_day = to_day AND 0 <= start_min AND start_min < end_min AND end_min <= 1440))
);
CREATE INDEX leave_user ON leave_requests (user_id, from_day);
CREATE INDEX leave_branch ON leave_requests (branch_id, from_day);
