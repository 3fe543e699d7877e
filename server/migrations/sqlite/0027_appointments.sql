-- Appointments (issue #12, first part): per service the booking settings, the bookings
-- themselves, and per slot how many places are taken — the one row every booking of a slot
-- updates with `booked < places`, so a slot's places hold under any concurrency, with several
-- servers too. `mobile` is personal data (masked in lists, purged after the retention period).
CREATE TABLE appointment_settings (
    branch_id           INTEGER NOT NULL REFERENCES branches (id),
    service_code        TEXT NOT NULL,
    enabled             INTEGER NOT NULL DEFAULT 0,
    slot_mins           INTEGER NOT NULL DEFAULT 15,
    places              INTEGER NOT NULL DEFAULT 1,
    horizon_days        INTEGER NOT NULL DEFAULT 14,
    lead_mins           INTEGER NOT NULL DEFAULT 60,
    checkin_before_mins INTEGER NOT NULL DEFAULT 30,
    checkin_after_mins  INTEGER NOT NULL DEFAULT 10,
    prefix              TEXT,
    PRIMARY KEY (branch_id, service_code)
);

CREATE TABLE appointment_slots (
    branch_id    INTEGER NOT NULL REFERENCES branches (id),
    service_code TEXT NOT NULL,
    slot_start   INTEGER NOT NULL,
    booked       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (branch_id, service_code, slot_start)
);

CREATE TABLE bookings (
    id            INTEGER PRIMARY KEY,
    branch_id     INTEGER NOT NULL REFERENCES branches (id),
    service_code  TEXT NOT NULL,
    slot_start    INTEGER NOT NULL,
    slot_end      INTEGER NOT NULL,
    day           TEXT NOT NULL,
    code          TEXT NOT NULL UNIQUE,
    mobile        TEXT,
    lang          TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'booked'
                  CHECK (state IN ('booked', 'checked_in', 'late', 'cancelled', 'no_show')),
    cancel_reason TEXT,
    source        TEXT NOT NULL,
    ticket_key    INTEGER REFERENCES tickets (key),
    created_at    INTEGER NOT NULL,
    cancelled_at  INTEGER
);
CREATE INDEX bookings_day ON bookings (branch_id, day, state);
CREATE INDEX bookings_mobile ON bookings (mobile, service_code, day) WHERE mobile IS NOT NULL;

-- A booking's messages (confirmation, reminders, cancellation) are cancelled with it.
ALTER TABLE messages ADD COLUMN booking_id INTEGER REFERENCES bookings (id);
CREATE INDEX messages_booking ON messages (booking_id) WHERE booking_id IS NOT NULL;
