-- The report's oversight rows (exception events and identity counts) of a closed day, cached
-- beside its tickets (issue #15: a year's report read them from 6,000+ event lookups). NULL:
-- not cached. The tickets' triggers of 0009 drop the whole row; an oversight event (which may
-- come days after its ticket's day) clears this column of its ticket's day.
ALTER TABLE report_days ADD COLUMN oversight TEXT;

CREATE TRIGGER report_days_oversight_event AFTER INSERT ON ticket_events
WHEN NEW.kind IN ('close_day', 'extend', 'call_out_of_order', 'reinstate', 'transfer') BEGIN
    UPDATE report_days SET oversight = NULL
        WHERE (branch_id, day) = (SELECT branch_id, day FROM tickets WHERE key = NEW.ticket_key);
END;
