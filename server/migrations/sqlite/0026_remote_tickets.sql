-- Tickets from the phone: a service may let customers take a ticket on the public hall page
-- (`remote_tickets`); each such ticket must check in on arrival (at the kiosk with its code or QR,
-- or by staff). Until then it keeps its place but is not called; one passed over for longer than
-- the branch's `remote_hold_mins` is cancelled. Remote tickets of a service are capped at
-- `remote_share_pct` of its hourly capacity.
ALTER TABLE services ADD COLUMN remote_tickets INTEGER NOT NULL DEFAULT 0;
ALTER TABLE branches ADD COLUMN remote_share_pct INTEGER NOT NULL DEFAULT 30;
ALTER TABLE branches ADD COLUMN remote_hold_mins INTEGER NOT NULL DEFAULT 15;

-- `mobile` is personal data (purged with the day after the retention period, as the ticket's
-- contact); `browser` is a hash of the browser's own random key, never the key itself.
CREATE TABLE remote_tickets (
    ticket_key      INTEGER PRIMARY KEY REFERENCES tickets (key),
    branch_id       INTEGER NOT NULL REFERENCES branches (id),
    day             TEXT NOT NULL,
    code            TEXT NOT NULL,
    mobile          TEXT,
    browser         TEXT NOT NULL,
    checked_in_at   INTEGER,
    checked_in_by   TEXT,
    passed_over_at  INTEGER,
    created_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX remote_tickets_code ON remote_tickets (branch_id, day, code);
CREATE INDEX remote_tickets_held ON remote_tickets (branch_id, checked_in_at);
CREATE INDEX remote_tickets_mobile ON remote_tickets (mobile) WHERE mobile IS NOT NULL;
CREATE INDEX remote_tickets_browser ON remote_tickets (browser);
