-- Reaching the customer outside the hall: a mobile number a customer left for a ticket, the
-- outbox of messages to customers, the manager's message templates; feedback from the customer
-- (a rating with a comment from the tracking page; complaints and suggestions the customer
-- sends, and the follow-up a bad rating opens, both in the complaints register).

-- The number a customer left for "text me when my turn is near". Personal data: `mobile` is
-- cleared with the ticket's day once the branch's retention period has passed.
CREATE TABLE ticket_contacts (
    ticket_key  INTEGER PRIMARY KEY REFERENCES tickets (key),
    branch_id   INTEGER NOT NULL REFERENCES branches (id),
    day         TEXT NOT NULL,
    mobile      TEXT,
    lang        TEXT NOT NULL,
    near_sent   INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
);
CREATE INDEX ticket_contacts_waiting ON ticket_contacts (branch_id, near_sent);
CREATE INDEX ticket_contacts_day ON ticket_contacts (day) WHERE mobile IS NOT NULL;

-- The outbox: each message is written in the transaction of the change that causes it, then
-- claimed by one sender (a lease, so a sender that died gives it back), sent, and marked.
CREATE TABLE messages (
    id          INTEGER PRIMARY KEY,
    branch_id   INTEGER NOT NULL REFERENCES branches (id),
    ticket_key  INTEGER REFERENCES tickets (key),
    kind        TEXT NOT NULL,
    recipient   TEXT,
    lang        TEXT NOT NULL,
    body        TEXT NOT NULL,
    day         TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'cancelled')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER NOT NULL,
    lease_until INTEGER,
    answer      TEXT,
    sent_at     INTEGER,
    created_at  INTEGER NOT NULL
);
CREATE INDEX messages_due ON messages (next_at) WHERE state IN ('pending', 'sending');
CREATE INDEX messages_ticket ON messages (ticket_key, id);
CREATE INDEX messages_day ON messages (day) WHERE recipient IS NOT NULL;

-- A manager's wording of a message kind in one language (the built-in text otherwise).
CREATE TABLE message_templates (
    branch_id INTEGER NOT NULL REFERENCES branches (id),
    kind      TEXT NOT NULL,
    lang      TEXT NOT NULL,
    text      TEXT NOT NULL,
    PRIMARY KEY (branch_id, kind, lang)
);

-- How many people ahead "your turn is near" is sent; working days a follow-up is due in.
ALTER TABLE branches ADD COLUMN notify_ahead INTEGER NOT NULL DEFAULT 3;
ALTER TABLE branches ADD COLUMN follow_up_days INTEGER NOT NULL DEFAULT 5;

-- Ratings from the tracking page carry an optional comment (personal data: purged with the
-- complaints' contacts) and say where they came from.
ALTER TABLE ratings ADD COLUMN source TEXT NOT NULL DEFAULT 'pad';
ALTER TABLE ratings ADD COLUMN comment TEXT;
