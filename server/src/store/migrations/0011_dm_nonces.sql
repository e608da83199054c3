-- Migration 11 (schema version 10 -> 11): a device's DM nonces in their own cells. They change
-- twice per DM session; in the sealed dm_credentials cell each change meant unsealing, parsing,
-- re-serialising and re-sealing the whole DM account (a sixth of the server's CPU per message).
-- Nonces are not secrets: each one travels in clear in a SyncML Chal (DM_Security 1.2 §5.1.4),
-- and it authenticates nothing without the account's password, which stays sealed.
-- NULL (both) = the nonces are those inside dm_credentials; any write of dm_credentials (import,
-- bootstrap, promotion of a re-bootstrap's account) brings its own nonces, so it clears these.
-- Frozen: a shipped migration never changes; later changes are new numbered files.
ALTER TABLE devices ADD COLUMN dm_server_nonce BLOB;
ALTER TABLE devices ADD COLUMN dm_client_nonce BLOB;
CREATE TRIGGER devices_dm_nonces_follow_credentials AFTER UPDATE OF dm_credentials ON devices
BEGIN
  UPDATE devices SET dm_server_nonce = NULL, dm_client_nonce = NULL WHERE id = NEW.id;
END;
