-- The live page's alert thresholds, per branch (as migrations/sqlite/0006_live_alerts.sql).
CREATE TABLE live_alert_settings (
    branch_id       BIGINT PRIMARY KEY REFERENCES branches(id),
    warn_percent    BIGINT NOT NULL CHECK (warn_percent BETWEEN 1 AND 100),
    per_window      BIGINT NOT NULL CHECK (per_window BETWEEN 1 AND 100),
    updated_at      BIGINT NOT NULL
);
