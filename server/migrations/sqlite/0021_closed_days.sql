-- Each branch-local day is closed once: at the end of its last open period the tickets still
-- waiting or called are cancelled (reason `closed`). The row says it happened, when, and how
-- many; a server that was down at closing, or a second server, finds it and does nothing.
CREATE TABLE closed_days (
    branch_id INTEGER NOT NULL REFERENCES branches (id),
    day TEXT NOT NULL,
    closed_at INTEGER NOT NULL,
    cancelled INTEGER NOT NULL,
    PRIMARY KEY (branch_id, day)
);
