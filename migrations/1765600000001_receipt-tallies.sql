-- Up Migration
-- Receipt copies waiting to be applied, counted as they arrive and leave instead of by a scan.
-- Admission control asks for this figure several times a second, and counting the stored copies
-- visited each of them: the longer the backlog, the more the counting itself cost, right when the
-- node was behind. Two monotonic tallies, each written in the same statement as the change it
-- counts: 'stored' grows with every copy stored, 'moved' with every copy that leaves 'stored'
-- (applied or rejected). Their difference is the copies waiting. Two rows, so the intake and the
-- sequencer never wait on each other's row lock.
CREATE TABLE receipt_tallies (
  name   TEXT PRIMARY KEY CHECK (name IN ('stored', 'moved')),
  copies BIGINT NOT NULL CHECK (copies >= 0)
);
INSERT INTO receipt_tallies (name, copies)
  SELECT 'stored', count(*) FROM receipts WHERE state = 'stored'
  UNION ALL SELECT 'moved', 0;
