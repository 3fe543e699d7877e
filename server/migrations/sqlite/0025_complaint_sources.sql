-- no-transaction
-- Complaints gain where they came from (`window`: taken by staff; `customer`: sent from the
-- tracking page; `rating`: the follow-up a rating of 1 or 2 opens), their kind, the person
-- they concern, and when the customer was called back. A customer's complaint was taken by
-- nobody, so `staff_user_id` may now be empty: SQLite rebuilds the table for that, the way its
-- documentation says (foreign keys off, outside sqlx's transaction, in one of its own).
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE complaints_new (
    id              INTEGER PRIMARY KEY,
    branch_id       INTEGER NOT NULL REFERENCES branches(id),
    ticket_key      INTEGER REFERENCES tickets(key),
    window_number   INTEGER,
    staff_user_id   INTEGER REFERENCES users(id),     -- who took it (none for the customer's own)
    category        TEXT NOT NULL CHECK (category IN ('attitude', 'waiting', 'process', 'environment', 'other')),
    description     TEXT NOT NULL,
    contact_consent INTEGER NOT NULL DEFAULT 0,
    contact         TEXT,
    status          TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'assigned', 'resolved')),
    assigned_to     INTEGER REFERENCES users(id),
    resolution      TEXT,
    resolved_at     INTEGER,
    created_at      INTEGER NOT NULL,
    due_at          INTEGER NOT NULL,
    source          TEXT NOT NULL DEFAULT 'window' CHECK (source IN ('window', 'customer', 'rating')),
    kind            TEXT NOT NULL DEFAULT 'complaint' CHECK (kind IN ('complaint', 'suggestion', 'follow_up')),
    about_user_id   INTEGER REFERENCES users(id),     -- the person it concerns
    service_code    TEXT,                             -- the service of its ticket
    called_back_at  INTEGER,
    CHECK (contact IS NULL OR contact_consent = 1)
);
INSERT INTO complaints_new (id, branch_id, ticket_key, window_number, staff_user_id, category,
    description, contact_consent, contact, status, assigned_to, resolution, resolved_at,
    created_at, due_at, about_user_id, service_code)
SELECT c.id, c.branch_id, c.ticket_key, c.window_number, c.staff_user_id, c.category,
    c.description, c.contact_consent, c.contact, c.status, c.assigned_to, c.resolution,
    c.resolved_at, c.created_at, c.due_at, t.staff_user_id, t.service_code
FROM complaints c LEFT JOIN tickets t ON t.key = c.ticket_key;
DROP TABLE complaints;
ALTER TABLE complaints_new RENAME TO complaints;
CREATE INDEX complaints_open ON complaints (branch_id, status, due_at);
CREATE INDEX complaints_resolved ON complaints (branch_id, resolved_at) WHERE contact IS NOT NULL;
CREATE INDEX complaints_created ON complaints (branch_id, created_at);
PRAGMA foreign_key_check;
COMMIT;
PRAGMA foreign_keys = ON;
