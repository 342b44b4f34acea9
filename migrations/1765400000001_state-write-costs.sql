-- Up Migration
-- What a momentum writes, made cheaper to write.
--
-- Every momentum rewrites the sessions it settled (a few columns of each, none of them indexed)
-- and the pending earnings entries they earned (the amount). With room left on a row's page,
-- Postgres writes the new version there as a heap-only tuple: no new entry in each of the table's
-- indexes, and the old version is pruned when the page is next read. Without that room every such
-- update goes to another page and adds an entry to every index, so the indexes of a large state
-- grow with its traffic rather than its size. Pages written from now on keep a fifth free.
ALTER TABLE sessions SET (fillfactor = 80);
ALTER TABLE pending_earnings SET (fillfactor = 80);

-- A momentum's inputs and results are about a megabyte of JSON per 1,000 receipts: lz4 compresses
-- them for the toast table at a fraction of pglz's cost (where the server has lz4; PGlite has not).
DO $$
BEGIN
  ALTER TABLE momentums ALTER COLUMN inputs SET COMPRESSION lz4, ALTER COLUMN results SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN NULL;
END
$$;
