-- The readiness check's write round-trip (`GET /healthz/ready`): one row, rewritten at most
-- about once a second.
CREATE TABLE health_probe (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    at  BIGINT NOT NULL,
    pad BYTEA NOT NULL
);
