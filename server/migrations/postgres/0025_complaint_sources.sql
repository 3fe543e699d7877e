-- Complaints gain where they came from, their kind, the person they concern, the service of
-- their ticket and when the customer was called back (as
-- migrations/sqlite/0025_complaint_sources.sql); a customer's own complaint was taken by nobody.
ALTER TABLE complaints ALTER COLUMN staff_user_id DROP NOT NULL;
ALTER TABLE complaints ADD COLUMN source TEXT NOT NULL DEFAULT 'window'
    CHECK (source IN ('window', 'customer', 'rating'));
ALTER TABLE complaints ADD COLUMN kind TEXT NOT NULL DEFAULT 'complaint'
    CHECK (kind IN ('complaint', 'suggestion', 'follow_up'));
ALTER TABLE complaints ADD COLUMN about_user_id BIGINT REFERENCES users (id);
ALTER TABLE complaints ADD COLUMN service_code TEXT;
ALTER TABLE complaints ADD COLUMN called_back_at BIGINT;
UPDATE complaints c SET about_user_id = t.staff_user_id, service_code = t.service_code
    FROM tickets t WHERE t.key = c.ticket_key;
CREATE INDEX complaints_created ON complaints (branch_id, created_at);
