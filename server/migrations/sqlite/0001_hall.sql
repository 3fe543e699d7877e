-- The hall: branches, services, windows, people and devices, tickets and their history.
-- Times are INTEGER milliseconds since the Unix epoch (UTC); local days are computed in Rust
-- from the branch's IANA time zone, so DST never reaches the SQL.

CREATE TABLE branches (
    id              INTEGER PRIMARY KEY,
    name_zh         TEXT NOT NULL,
    name_zh_hant    TEXT NOT NULL DEFAULT '',
    name_en         TEXT NOT NULL DEFAULT '',
    time_zone       TEXT NOT NULL,
    weekly_hours    TEXT NOT NULL,              -- JSON: seven lists of [start_min, end_min], Monday first
    cutoff_mins     INTEGER NOT NULL DEFAULT 0, -- no new tickets this long before closing
    emergency       TEXT,                       -- the broadcast message while an emergency is on
    event_seq       INTEGER NOT NULL DEFAULT 0, -- last seq of the branch's event stream
    config_version  INTEGER NOT NULL DEFAULT 0  -- bumped by every configuration change (cache key)
);

-- Dated exceptions to the weekly hours: public holidays (no periods) or other hours.
CREATE TABLE hour_exceptions (
    branch_id   INTEGER NOT NULL REFERENCES branches(id),
    day         TEXT NOT NULL,                  -- YYYY-MM-DD, branch-local
    periods     TEXT NOT NULL,                  -- JSON list of [start_min, end_min]; [] = closed
    note        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (branch_id, day)
);

CREATE TABLE services (
    branch_id            INTEGER NOT NULL REFERENCES branches(id),
    code                 TEXT NOT NULL,          -- one letter A-Z
    name_zh              TEXT NOT NULL,
    name_zh_hant         TEXT NOT NULL DEFAULT '',
    name_en              TEXT NOT NULL DEFAULT '',
    guide_zh             TEXT NOT NULL DEFAULT '',
    guide_zh_hant        TEXT NOT NULL DEFAULT '',
    guide_en             TEXT NOT NULL DEFAULT '',
    target_wait_secs     INTEGER NOT NULL,
    first_number         INTEGER NOT NULL DEFAULT 1,
    last_number          INTEGER NOT NULL DEFAULT 999,
    priority_allowed     INTEGER NOT NULL DEFAULT 1,
    default_service_secs INTEGER NOT NULL DEFAULT 300,
    enabled              INTEGER NOT NULL DEFAULT 1,
    sort                 INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (branch_id, code)
);

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    branch_id       INTEGER REFERENCES branches(id), -- NULL: an admin of every branch
    username        TEXT NOT NULL UNIQUE,
    display_name    TEXT NOT NULL DEFAULT '',
    password_hash   TEXT NOT NULL,                   -- argon2id PHC string
    role            TEXT NOT NULL CHECK (role IN ('staff', 'manager', 'admin')),
    active          INTEGER NOT NULL DEFAULT 1,
    created_at      INTEGER NOT NULL
);

-- Kiosks and boards. The token itself is never stored: only its SHA-256.
CREATE TABLE devices (
    id              INTEGER PRIMARY KEY,
    branch_id       INTEGER NOT NULL REFERENCES branches(id),
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('kiosk', 'display')),
    token_hash      TEXT NOT NULL UNIQUE,
    active          INTEGER NOT NULL DEFAULT 1,
    created_at      INTEGER NOT NULL,
    last_seen_at    INTEGER,
    printer_state   TEXT,
    printer_detail  TEXT
);

-- Bearer tokens and cookie sessions of people; again only the SHA-256 of the token.
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);

CREATE TABLE windows (
    branch_id          INTEGER NOT NULL REFERENCES branches(id),
    number             INTEGER NOT NULL,
    name               TEXT NOT NULL DEFAULT '',
    state              TEXT NOT NULL DEFAULT 'closed' CHECK (state IN ('open', 'paused', 'closed')),
    pause_reason       TEXT,
    staff_user_id      INTEGER REFERENCES users(id),
    current_ticket     INTEGER,                    -- tickets.key of the ticket called or being served
    state_since        INTEGER,
    PRIMARY KEY (branch_id, number)
);

-- The services a window serves, in its order of preference, each with a weight for the policy.
CREATE TABLE window_services (
    branch_id       INTEGER NOT NULL,
    window_number   INTEGER NOT NULL,
    service_code    TEXT NOT NULL,
    rank            INTEGER NOT NULL,
    weight          REAL NOT NULL DEFAULT 1.0,
    PRIMARY KEY (branch_id, window_number, service_code),
    FOREIGN KEY (branch_id, window_number) REFERENCES windows(branch_id, number),
    FOREIGN KEY (branch_id, service_code) REFERENCES services(branch_id, code)
);

-- The last number issued per service per branch-local day.
CREATE TABLE number_counters (
    branch_id       INTEGER NOT NULL,
    service_code    TEXT NOT NULL,
    day             TEXT NOT NULL,
    last_number     INTEGER NOT NULL,
    PRIMARY KEY (branch_id, service_code, day)
);

CREATE TABLE tickets (
    key              INTEGER PRIMARY KEY,          -- internal; never shown
    id               TEXT NOT NULL UNIQUE,         -- unguessable, the customer's handle (tracking URL)
    branch_id        INTEGER NOT NULL REFERENCES branches(id),
    service_code     TEXT NOT NULL,                -- the line it waits in now (changes on transfer)
    issued_service   TEXT NOT NULL,                -- the service it was issued for
    number           TEXT NOT NULL,                -- as printed, e.g. A012
    number_seq       INTEGER NOT NULL,
    day              TEXT NOT NULL,                -- branch-local issue day
    priority         INTEGER NOT NULL DEFAULT 0,
    status           TEXT NOT NULL CHECK (status IN ('waiting', 'called', 'serving', 'done', 'no_show', 'cancelled')),
    issued_at        INTEGER NOT NULL,
    queue_at         INTEGER NOT NULL,             -- its place in line: issue time, earlier when reinstated
    target_window    INTEGER,                      -- set when transferred to one window
    window_number    INTEGER,                      -- the window it is called to / served at
    staff_user_id    INTEGER,
    first_called_at  INTEGER,                      -- the call that counts for the waiting time
    last_called_at   INTEGER,
    serving_at       INTEGER,
    done_at          INTEGER,                      -- completed, no-show or cancelled
    estimate_ahead   INTEGER NOT NULL,             -- what the ticket was told at issue
    estimate_secs    INTEGER NOT NULL,
    extended_reason  TEXT,
    device_id        INTEGER
);
-- The heads of each line: waiting tickets by service, class and place.
CREATE INDEX tickets_line ON tickets (branch_id, service_code, priority, queue_at, key) WHERE status = 'waiting';
CREATE INDEX tickets_target_window ON tickets (branch_id, target_window, queue_at) WHERE status = 'waiting' AND target_window IS NOT NULL;
CREATE INDEX tickets_live_numbers ON tickets (branch_id, issued_service, number_seq) WHERE status IN ('waiting', 'called', 'serving');
CREATE INDEX tickets_issued ON tickets (branch_id, issued_at);
CREATE INDEX tickets_done ON tickets (branch_id, service_code, done_at) WHERE status = 'done';

-- Every state change of a ticket, appended in the same transaction as the change.
CREATE TABLE ticket_events (
    id              INTEGER PRIMARY KEY,
    ticket_key      INTEGER NOT NULL REFERENCES tickets(key),
    at              INTEGER NOT NULL,
    kind            TEXT NOT NULL,       -- issue, call, recall, start, complete, no_show, reinstate, transfer, cancel, extend
    window_number   INTEGER,
    staff_user_id   INTEGER,
    detail          TEXT                 -- JSON: transfer target, extend reason (never personal data)
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_key, id);

-- Issuing with an Idempotency-Key: the same device and key give the same ticket.
CREATE TABLE idempotency (
    device_key      TEXT NOT NULL,       -- 'd:<device id>' or 'u:<user id>'
    key             TEXT NOT NULL,
    ticket_key      INTEGER NOT NULL REFERENCES tickets(key),
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (device_key, key)
);

-- The branch's event stream as sent, so `?since=SEQ` can resume, even after a restart.
CREATE TABLE stream_events (
    branch_id       INTEGER NOT NULL,
    seq             INTEGER NOT NULL,
    at              INTEGER NOT NULL,
    body            TEXT NOT NULL,       -- the JSON message exactly as sent
    PRIMARY KEY (branch_id, seq)
);

-- Staff at windows: sign-in, sign-out, pause, resume (attendance).
CREATE TABLE window_log (
    id              INTEGER PRIMARY KEY,
    branch_id       INTEGER NOT NULL,
    window_number   INTEGER NOT NULL,
    user_id         INTEGER,
    kind            TEXT NOT NULL,
    reason          TEXT,
    at              INTEGER NOT NULL
);
CREATE INDEX window_log_at ON window_log (branch_id, at);

CREATE TABLE notices (
    id              INTEGER PRIMARY KEY,
    branch_id       INTEGER NOT NULL REFERENCES branches(id),
    text_zh         TEXT NOT NULL,
    text_zh_hant    TEXT NOT NULL DEFAULT '',
    text_en         TEXT NOT NULL DEFAULT '',
    starts_at       INTEGER,
    ends_at         INTEGER
);

-- Who changed what, when (manager and admin actions).
CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY,
    branch_id       INTEGER,
    user_id         INTEGER,
    at              INTEGER NOT NULL,
    action          TEXT NOT NULL,
    detail          TEXT NOT NULL DEFAULT ''
);
