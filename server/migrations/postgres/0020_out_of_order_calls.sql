-- A call out of order is recorded as its own kind (`call_out_of_order`); the board's recent
-- calls read it beside `call` and `recall`, so the partial index covers it too.
DROP INDEX IF EXISTS ticket_events_calls;
CREATE INDEX ticket_events_calls ON ticket_events (id)
    WHERE kind IN ('call', 'call_out_of_order', 'recall');
