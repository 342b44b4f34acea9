-- Up Migration
-- Bounds on what anyone may write, and retention of what a replay does not need.
--
-- A module uploaded by a client (PUT /v1/modules) records who uploaded it and when it expires;
-- until a registered zApp references it, it counts against its uploader's quota and the store's
-- bound on unregistered uploads, and it is deleted once expired. A module a zApp references is
-- kept for good (challenges and replays re-execute it): `uploader` is cleared once it is
-- referenced. Modules stored before this migration have no uploader and are kept.
ALTER TABLE modules
  ADD COLUMN uploader TEXT,
  ADD COLUMN expires_at TIMESTAMPTZ;
CREATE INDEX modules_unregistered_uploader ON modules (uploader) WHERE uploader IS NOT NULL;
CREATE INDEX modules_unregistered_expires ON modules (expires_at) WHERE uploader IS NOT NULL;
CREATE INDEX zapps_module_hash ON zapps (module_hash);

-- Applied receipt copies are deleted after a retention (the momentums keep every settled receipt,
-- which is all a replay reads).
CREATE INDEX receipts_applied_updated ON receipts (updated_at) WHERE state = 'applied';
