-- The hall's own booking portal (issue #12) is a device with a token of its own, role
-- `booking`. SQLite cannot change a CHECK constraint in place, so the table is rebuilt as in
-- 0010 (nothing refers to it), keeping every row and id.

CREATE TABLE devices_new (
    id              INTEGER PRIMARY KEY,
    branch_id       INTEGER NOT NULL REFERENCES branches(id),
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('kiosk', 'display', 'pad', 'booking')),
    token_hash      TEXT NOT NULL UNIQUE,
    active          INTEGER NOT NULL DEFAULT 1,
    created_at      INTEGER NOT NULL,
    last_seen_at    INTEGER,
    printer_state   TEXT,
    printer_detail  TEXT,
    window_number   INTEGER CHECK ((role = 'pad') = (window_number IS NOT NULL))
);
INSERT INTO devices_new (id, branch_id, name, role, token_hash, active, created_at,
                         last_seen_at, printer_state, printer_detail, window_number)
    SELECT id, branch_id, name, role, token_hash, active, created_at,
           last_seen_at, printer_state, printer_detail, window_number
    FROM devices;
DROP TABLE devices;
ALTER TABLE devices_new RENAME TO devices;
