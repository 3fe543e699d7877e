-- The readiness check's write round-trip (`GET /healthz/ready`): one row, rewritten at most
-- about once a second. Its padding makes the probe write more pages than issuing a ticket
-- does, so a disk too full to issue is never reported ready.
CREATE TABLE health_probe (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    at  INTEGER NOT NULL,
    pad BLOB NOT NULL
);
