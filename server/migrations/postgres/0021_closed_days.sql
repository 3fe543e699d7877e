-- Each branch-local day is closed once: at the end of its last open period the tickets still
-- waiting or called are cancelled (reason `closed`). The row says it happened, when, and how
-- many; a server that was down at closing, or a second server, finds it and does nothing.
CREATE TABLE closed_days (
    branch_id BIGINT NOT NULL REFERENCES branches (id),
    day DATE NOT NULL,
    closed_at BIGINT NOT NULL,
    cancelled BIGINT NOT NULL,
    PRIMARY KEY (branch_id, day)
);
