-- Migration 4 (schema version 3 -> 4): a re-bootstrap's DM credentials wait beside the current
-- ones until the device authenticates with them (docs/bootstrap.md): the device keeps working
-- with the old credentials until it has applied the new bootstrap, and is never cut off by a
-- bootstrap that did not reach it. Sealed like dm_credentials (AAD devices|pending_dm_credentials|rowid).
-- Frozen: a shipped migration never changes; later changes are new numbered files.
ALTER TABLE devices ADD COLUMN pending_dm_credentials BLOB;
