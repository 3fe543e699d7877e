-- The live page's alert thresholds, per branch (a missing row means the defaults: 80 % of the
-- target, 6 waiting per open window). Not part of the cached branch configuration: the live
-- page reads them on every refresh, so changing them needs no config_version bump.
CREATE TABLE live_alert_settings (
    branch_id       INTEGER PRIMARY KEY REFERENCES branches(id),
    warn_percent    INTEGER NOT NULL CHECK (warn_percent BETWEEN 1 AND 100), -- longest wait ≥ this % of target: "about to miss"
    per_window      INTEGER NOT NULL CHECK (per_window BETWEEN 1 AND 100),   -- more waiting than this per open window: "open a window"
    updated_at      INTEGER NOT NULL
);
