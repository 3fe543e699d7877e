-- The report's per-day cache: each closed branch-local day's tickets, reduced to what the
-- report tables need and packed into one blob (see store/sqlite/report.rs), so a year's report
-- reads 365 blobs instead of walking 700,000 index entries. It is only a cache: a missing row
-- is rebuilt from `tickets`, and any change to a ticket or a new rating drops its day's row.
CREATE TABLE report_days (
    branch_id   INTEGER NOT NULL,
    day         TEXT NOT NULL,               -- YYYY-MM-DD, branch-local (tickets.day)
    time_zone   TEXT NOT NULL,               -- the zone the hours of day were computed in
    tickets     BLOB NOT NULL,
    PRIMARY KEY (branch_id, day)
);

CREATE TRIGGER report_days_ticket_insert AFTER INSERT ON tickets BEGIN
    DELETE FROM report_days WHERE branch_id = NEW.branch_id AND day = NEW.day;
END;
CREATE TRIGGER report_days_ticket_update AFTER UPDATE ON tickets BEGIN
    DELETE FROM report_days WHERE branch_id = NEW.branch_id AND day IN (NEW.day, OLD.day);
END;
CREATE TRIGGER report_days_ticket_delete AFTER DELETE ON tickets BEGIN
    DELETE FROM report_days WHERE branch_id = OLD.branch_id AND day = OLD.day;
END;
CREATE TRIGGER report_days_rating AFTER INSERT ON ratings BEGIN
    DELETE FROM report_days WHERE branch_id = NEW.branch_id
        AND day = (SELECT day FROM tickets WHERE key = NEW.ticket_key);
END;
