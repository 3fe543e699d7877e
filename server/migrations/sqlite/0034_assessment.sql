-- Assessment, graded consequences and training (issue #14).

-- A complaint's resolution says whether it was upheld against the person concerned
-- (`about_user_id`); only upheld ones count against them.
ALTER TABLE complaints ADD COLUMN outcome TEXT CHECK (outcome IN ('upheld', 'not_upheld'));

-- Training sessions and who attended with what result. A session may qualify its passed
-- attendees for one service; a branch may require that before signing in to a window serving it.
CREATE TABLE training_sessions (
    id            INTEGER PRIMARY KEY,
    branch_id     INTEGER NOT NULL REFERENCES branches (id),
    title         TEXT NOT NULL,
    day           TEXT NOT NULL,
    minutes       INTEGER NOT NULL CHECK (minutes > 0 AND minutes <= 1440),
    trainer       TEXT NOT NULL DEFAULT '',
    service_code  TEXT,
    created_by    INTEGER REFERENCES users (id),
    created_at    INTEGER NOT NULL
);
CREATE INDEX training_sessions_day ON training_sessions (branch_id, day);

CREATE TABLE training_trainees (
    session_id    INTEGER NOT NULL REFERENCES training_sessions (id),
    user_id       INTEGER NOT NULL REFERENCES users (id),
    result        TEXT NOT NULL CHECK (result IN ('pass', 'fail')),
    score         INTEGER CHECK (score BETWEEN 0 AND 100),
    PRIMARY KEY (session_id, user_id)
);
CREATE INDEX training_trainees_user ON training_trainees (user_id);

CREATE TABLE training_requirements (
    branch_id     INTEGER NOT NULL REFERENCES branches (id),
    service_code  TEXT NOT NULL,
    PRIMARY KEY (branch_id, service_code)
);

-- The branch's scorecard weights, grade thresholds and consequence rules (JSON; the defaults
-- when there is no row).
CREATE TABLE assessment_settings (
    branch_id     INTEGER PRIMARY KEY REFERENCES branches (id),
    settings      TEXT NOT NULL
);

-- A manager's note on a person's scorecard for a period (`YYYY-MM`).
CREATE TABLE assessment_notes (
    branch_id     INTEGER NOT NULL REFERENCES branches (id),
    user_id       INTEGER NOT NULL REFERENCES users (id),
    period        TEXT NOT NULL,
    note          TEXT NOT NULL,
    written_by    INTEGER REFERENCES users (id),
    written_at    INTEGER NOT NULL,
    PRIMARY KEY (branch_id, user_id, period)
);

-- What a rule proposed and a manager decided: confirmed ones are the disciplinary record.
-- One decision per person, period and rule.
CREATE TABLE disciplinary_records (
    id            INTEGER PRIMARY KEY,
    branch_id     INTEGER NOT NULL REFERENCES branches (id),
    user_id       INTEGER NOT NULL REFERENCES users (id),
    period        TEXT NOT NULL,
    rule_key      TEXT NOT NULL,
    level         TEXT NOT NULL,
    reason        TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('confirmed', 'dismissed')),
    note          TEXT NOT NULL DEFAULT '',
    decided_by    INTEGER REFERENCES users (id),
    decided_at    INTEGER NOT NULL,
    UNIQUE (branch_id, user_id, period, rule_key)
);
CREATE INDEX disciplinary_user ON disciplinary_records (user_id, decided_at);
