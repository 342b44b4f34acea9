-- Up Migration
-- Settled calls (applied or failed) are deleted after a retention, like applied receipt copies:
-- the momentums keep every call a replay reads, and the nonce checks read the accounts for what
-- was applied. `settled_at` is when a call left 'pending'; calls settled before this migration
-- count from their submission.
ALTER TABLE calls ADD COLUMN settled_at TIMESTAMPTZ;
UPDATE calls SET settled_at = submitted_at WHERE status <> 'pending';
CREATE INDEX calls_settled_at ON calls (settled_at) WHERE status <> 'pending';
