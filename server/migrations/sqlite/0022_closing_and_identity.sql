-- Closing the day, continued: a service may keep its unserved tickets for tomorrow
-- (`carry_over`), and windows still signed in a grace after closing are signed out (the time a
-- day's sign-out happened is kept beside its closing, so it happens once).
ALTER TABLE services ADD COLUMN carry_over INTEGER NOT NULL DEFAULT 0;
ALTER TABLE branches ADD COLUMN closing_grace_mins INTEGER NOT NULL DEFAULT 30;
ALTER TABLE closed_days ADD COLUMN signed_out_at INTEGER;

-- The identity step: per service `off`, `optional` or `required`; per ticket who checked the
-- customer's identity document and when — never the document's number or the name on it.
ALTER TABLE services ADD COLUMN identity_check TEXT NOT NULL DEFAULT 'off';
ALTER TABLE tickets ADD COLUMN identity_checked_by INTEGER REFERENCES users (id);
ALTER TABLE tickets ADD COLUMN identity_checked_at INTEGER;

-- The report's oversight tables read the events outside a ticket's ordinary life; they are a
-- few in a hundred, so a partial index finds them without reading every ticket's history.
CREATE INDEX ticket_events_oversight ON ticket_events (kind, at)
    WHERE kind IN ('close_day', 'extend', 'call_out_of_order', 'reinstate', 'transfer');

-- The hall's public information: the service phone number and address on the public page, how
-- many days ahead a dated exception becomes a notice on kiosks and boards, and an exception's
-- note in the other two languages (`note` is the Simplified Chinese one, and the fallback).
ALTER TABLE branches ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE branches ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE branches ADD COLUMN notice_days INTEGER NOT NULL DEFAULT 7;
ALTER TABLE hour_exceptions ADD COLUMN note_zh_hant TEXT NOT NULL DEFAULT '';
ALTER TABLE hour_exceptions ADD COLUMN note_en TEXT NOT NULL DEFAULT '';
