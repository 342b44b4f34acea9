-- Up Migration
-- A receipt copy's signed JSON (about a kilobyte) is written once and never changed, while its row
-- is rewritten when the copy settles. Kept out of line, the rewrite copies a pointer to it instead
-- of the whole text.
ALTER TABLE receipts ALTER COLUMN signed SET STORAGE EXTERNAL;
ALTER TABLE receipts SET (toast_tuple_target = 128);
