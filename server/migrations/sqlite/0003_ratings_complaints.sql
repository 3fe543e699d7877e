-- What customers say: a rating from the pad at the window, and complaints taken at the console.

-- One rating per ticket (the UNIQUE makes a second one a 409), from the rating pad facing the
-- customer. Only the window's last completed ticket can be rated; the server checks that.
CREATE TABLE ratings (
    id              INTEGER PRIMARY KEY,
    ticket_key      INTEGER NOT NULL UNIQUE REFERENCES tickets(key),
    branch_id       INTEGER NOT NULL REFERENCES branches(id),
    window_number   INTEGER NOT NULL,
    staff_user_id   INTEGER,                     -- who served the ticket
    score           INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5), -- 5 非常满意 … 1 非常不满意
    created_at      INTEGER NOT NULL
);
CREATE INDEX ratings_at ON ratings (branch_id, created_at);

-- The last completed ticket of a window, for the rating pad.
CREATE INDEX tickets_done_window ON tickets (branch_id, window_number, done_at) WHERE status = 'done';

-- Complaints, taken by staff at the console; the managers' register works them off.
-- `contact` is personal data: stored only when the customer consented (the CHECK enforces it).
CREATE TABLE complaints (
    id              INTEGER PRIMARY KEY,
    branch_id       INTEGER NOT NULL REFERENCES branches(id),
    ticket_key      INTEGER REFERENCES tickets(key),  -- the ticket it is about, if any
    window_number   INTEGER,                          -- where it was taken
    staff_user_id   INTEGER NOT NULL REFERENCES users(id), -- who took it
    category        TEXT NOT NULL CHECK (category IN ('attitude', 'waiting', 'process', 'environment', 'other')),
    description     TEXT NOT NULL,
    contact_consent INTEGER NOT NULL DEFAULT 0,
    contact         TEXT,
    status          TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'assigned', 'resolved')),
    assigned_to     INTEGER REFERENCES users(id),
    resolution      TEXT,
    resolved_at     INTEGER,
    created_at      INTEGER NOT NULL,
    due_at          INTEGER NOT NULL,                 -- the answer is owed by then (created + 15 days)
    CHECK (contact IS NULL OR contact_consent = 1)
);
CREATE INDEX complaints_open ON complaints (branch_id, status, due_at);
