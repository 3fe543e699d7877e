-- (As migrations/sqlite/0028_appointment_tickets.sql.)
-- Appointments (issue #12, second part): a booking checked in at the kiosk (or by staff)
-- becomes a ticket whose `appointment_at` is its slot's start. Its place in line (`queue_at`)
-- and its wait count from the moment it is due: the slot's start, or the check-in if later.
-- Each window counts its calls of appointments in a row, so that due appointments go before
-- walk-ins only within a bounded share (see queue/policy.rs).
ALTER TABLE tickets ADD COLUMN appointment_at BIGINT;
ALTER TABLE bookings ADD COLUMN checked_in_at BIGINT;
ALTER TABLE windows ADD COLUMN appointment_run BIGINT NOT NULL DEFAULT 0;
CREATE INDEX bookings_ticket ON bookings (ticket_key) WHERE ticket_key IS NOT NULL;

-- The report's covering index gains the slot start (an appointment's wait counts from it).
DROP INDEX tickets_report;
CREATE INDEX tickets_report ON tickets (branch_id, issued_at)
    INCLUDE (issued_service, status, window_number, staff_user_id, first_called_at, serving_at,
             done_at, estimate_secs, key, appointment_at);

-- A live number is unique in its branch as text: appointments may have a series of their own
-- (Y001 of service A), so the service and its sequence number no longer name it. (Two live
-- tickets with one number had one service and sequence number too: the old index refused
-- them, so existing rows satisfy this one.)
DROP INDEX tickets_live_numbers;
CREATE UNIQUE INDEX tickets_live_numbers ON tickets (branch_id, number) WHERE status IN ('waiting', 'called', 'serving');
