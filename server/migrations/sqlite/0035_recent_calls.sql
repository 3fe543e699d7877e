-- Issue #15: the board's recent calls are read from the branch's most recently called tickets
-- (store::read::board_state), not from the calls of every branch of the database.
CREATE INDEX tickets_called ON tickets (branch_id, last_called_at) WHERE last_called_at IS NOT NULL;
