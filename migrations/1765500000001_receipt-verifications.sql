-- Up Migration
-- Verification results in a narrow table of their own. A verification worker used to rewrite the
-- whole receipt row (its signed JSON and every index entry) only to record two signers, and the
-- sequencer rewrote it once more when it settled the copy. Now a verified copy keeps its row as
-- stored and gains a small row here (copy key, the order the sequencer reads in, the signers);
-- settlement deletes it in the momentum's transaction, copying the signers onto the receipt row
-- with its outcome. A copy is 'verified' exactly while it is 'stored' and has a row here.
--
-- Losing a row here (a crash before it was flushed: workers commit it asynchronously) only sends
-- the copy back to verification through the reconciler, as it is still stored.
CREATE TABLE receipt_verifications (
  copy_key          TEXT COLLATE "C" PRIMARY KEY,
  session_id        TEXT COLLATE "C" NOT NULL,
  seq               uint64 NOT NULL,
  signer            TEXT NOT NULL,
  invocation_signer TEXT NOT NULL
);
-- The sequencer's order (session, seq, copy key).
CREATE INDEX receipt_verifications_order ON receipt_verifications (session_id, seq, copy_key);

INSERT INTO receipt_verifications (copy_key, session_id, seq, signer, invocation_signer)
  SELECT copy_key, session_id, seq, signer, invocation_signer FROM receipts WHERE state = 'verified';
UPDATE receipts SET state = 'stored', signer = NULL, invocation_signer = NULL WHERE state = 'verified';
DROP INDEX receipts_verified_order;

-- A copy's signed JSON is written once and read back whole (by a worker and the sequencer): JSON
-- text is checked and kept as written, and costs less to store and to read than JSONB.
ALTER TABLE receipts ALTER COLUMN signed TYPE JSON USING signed::json;

-- Copy keys compare bytewise, as digests and session ids do: the primary key of both tables is
-- probed and extended by every step of the pipeline, and a "C" comparison is a memcmp.
ALTER TABLE receipts ALTER COLUMN copy_key TYPE TEXT COLLATE "C";
