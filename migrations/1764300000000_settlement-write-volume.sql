-- Up Migration
-- Less write work per settled receipt. A receipt row is written three times (stored, verified,
-- applied or rejected): the index the reconciler reads now holds only receipts still waiting for
-- verification, so the two later writes no longer add entries to it.
DROP INDEX receipts_state_submitted;
CREATE INDEX receipts_stored_submitted ON receipts (submitted_at, digest) WHERE state = 'stored';

-- A momentum's inputs and results are written once and read back whole: JSON text (checked, kept
-- as written) costs far less to store than JSONB's decomposition. Readers hash them through the
-- canonical encoding, which does not depend on key order or spacing.
ALTER TABLE momentums
  ALTER COLUMN inputs TYPE JSON USING inputs::json,
  ALTER COLUMN results TYPE JSON USING results::json;
