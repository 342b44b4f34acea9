-- Up Migration
-- A provider's pending earnings as rows of their own, one per (claimableAt, sessionId) entry of the
-- contract's sorted list: a momentum writes the few entries it earned, matured or voided instead
-- of the provider's whole list (a JSONB list rewritten at every momentum grows the table with
-- every write under steady load). The contract keeps the list in memory; the rows are its image.
CREATE TABLE pending_earnings (
  provider     TEXT COLLATE "C" NOT NULL,
  claimable_at uint64 NOT NULL,
  session_id   TEXT COLLATE "C" NOT NULL,
  amount       qsr_amount NOT NULL,
  PRIMARY KEY (provider, claimable_at, session_id)
);

INSERT INTO pending_earnings (provider, claimable_at, session_id, amount)
  SELECT p.address, (e ->> 'claimableAt')::numeric, e ->> 'sessionId', (e ->> 'amount')::numeric
  FROM providers p, jsonb_array_elements(p.pending_earnings) AS e;

ALTER TABLE providers DROP COLUMN pending_earnings;
