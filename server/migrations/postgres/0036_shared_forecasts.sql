-- Each branch's latest forecast table, shared by the servers on this database: a server due to
-- recompute a branch first takes one computed by another in the last second (one row read
-- instead of a snapshot of the hall and a forward simulation), so three servers do the work of
-- one (server/src/forecast.rs). `body` is the table's JSON; `computed_at` in ms.
CREATE TABLE forecasts (
    branch_id    BIGINT PRIMARY KEY REFERENCES branches (id),
    computed_at  BIGINT NOT NULL,
    body         TEXT NOT NULL
);
