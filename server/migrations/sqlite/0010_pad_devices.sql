-- Rating pads become devices with a token each, bound to one window: before, the pad's API
-- needed no token and anyone could take a customer's one rating. `window_number` is the
-- window's number in the device's branch (as `ratings.window_number`); set for pads only.
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt (nothing refers
-- to it), keeping every row and id.

CREATE TABLE devices_new (
    id              INTEGER PRIMARY KEY,
    branch_id       INTEGER NOT NULL REFERENCES branches(id),
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('kiosk', 'display', 'pad')),
    token_hash      TEXT NOT NULL UNIQUE,
    active          INTEGER NOT NULL DEFAULT 1,
    created_at      INTEGER NOT NULL,
    last_seen_at    INTEGER,
    printer_state   TEXT,
    printer_detail  TEXT,
    window_number   INTEGER CHECK ((role = 'pad') = (window_number IS NOT NULL))
);
INSERT INTO devices_new (id, branch_id, name, role, token_hash, active, created_at,
                         last_seen_at, printer_state, printer_detail)
    SELECT id, branch_id, name, role, token_hash, active, created_at,
           last_seen_at, printer_state, printer_detail
    FROM devices;
DROP TABLE devices;
ALTER TABLE devices_new RENAME TO devices;
