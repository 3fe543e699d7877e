-- Staff shifts (issue #14): each person's weekly pattern (ISO weekday 1 = Monday … 7) and dated
-- changes (no times: a day off). Attendance judges a rostered person against their own shift.
CREATE TABLE shifts (
    user_id    INTEGER NOT NULL REFERENCES users (id),
    weekday    INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    start_min  INTEGER NOT NULL,
    end_min    INTEGER NOT NULL,
    CHECK (0 <= start_min AND start_min < end_min AND end_min <= 1440),
    PRIMARY KEY (user_id, weekday)
);
CREATE TABLE shift_changes (
    user_id    INTEGER NOT NULL REFERENCES users (id),
    day        TEXT NOT NULL,
    start_min  INTEGER,
    end_min    INTEGER,
    CHECK ((start_min IS NULL) = (end_min IS NULL)),
    CHECK (start_min IS NULL OR (0 <= start_min AND start_min < end_min AND end_min <= 1440)),
    PRIMARY KEY (user_id, day)
);
