-- A ticket issued at the reception desk for a customer who cannot use the kiosk, printed at a
-- kiosk's printer (issue #12): the kiosk asks for its jobs and says how each went. The device
-- is not a foreign key so that the devices table can still be rebuilt as in 0010 and 0029.
CREATE TABLE print_jobs (
    id          INTEGER PRIMARY KEY,
    branch_id   INTEGER NOT NULL REFERENCES branches (id),
    device_id   INTEGER NOT NULL,
    ticket_key  INTEGER NOT NULL REFERENCES tickets (key),
    created_at  INTEGER NOT NULL,
    state       TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'printed', 'failed')),
    detail      TEXT,
    done_at     INTEGER
);
CREATE INDEX print_jobs_waiting ON print_jobs (device_id) WHERE state = 'waiting';
