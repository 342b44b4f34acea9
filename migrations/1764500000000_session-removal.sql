-- Up Migration
-- A closed session leaves the state at remove_at, once none of its receipts can be challenged
-- (the momentums keep its history). The contract sets remove_at when a session closes; a store
-- holding closed sessions from before this column must be replayed from its momentums.
ALTER TABLE sessions ADD COLUMN remove_at uint64;
CREATE INDEX sessions_remove_at ON sessions (remove_at) WHERE remove_at IS NOT NULL;
