-- Migration 6 (schema version 5 -> 6): subscribers, the devices' owners (seed 004 "M2ME U/S";
-- docs/operator-change.md "The subscriber"). A subscriber has its own bearer token (stored as a
-- hash, like an SHO's) for a group of devices; a device names at most one subscriber. Where a
-- device has one, only the subscriber authorises a change of its SHO and chooses its active MCIM.
-- Frozen: a shipped migration never changes; later changes are new numbered files.
CREATE TABLE subscribers(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  token_hash BLOB NOT NULL UNIQUE,
  created INTEGER NOT NULL);
ALTER TABLE devices ADD COLUMN subscriber_id INTEGER REFERENCES subscribers(id);
CREATE INDEX devices_subscriber ON devices(subscriber_id, dev_id);
