-- Up Migration
-- Every momentum rewrites the sessions it settled (a few columns of each, none of them indexed)
-- and the pending earnings entries they earned (the amount). With room left on a row's page,
-- Postgres writes the new version there as a heap-only tuple: no new entry in each of the table's
-- indexes, and the old version is pruned when the page is next read. Without that room every such
-- update goes to another page and adds an entry to every index, so the indexes of a large state
-- grow with its traffic rather than its size. Pages written from now on keep a fifth free.
ALTER TABLE sessions SET (fillfactor = 80);
ALTER TABLE pending_earnings SET (fillfactor = 80);
