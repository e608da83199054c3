-- Migration 8 (schema version 7 -> 8): the operator's registry and SHO claims (issue 14 finding 5;
-- docs/server.md "Who owns a device: the registry and claims").
-- A device without an SHO (devices.sho_id NULL: the operator imported it without shoId, e.g.
-- from the factory) is claimed by the SHO that proves possession (its device PIN).
-- claim_failures: failed claims per SHO in the current window (brute force of a device PIN).
-- import_shadows: what an SHO's import said about a DevId held by someone else (another SHO, or
-- the operator's registry): the import answers as if the SHO's data had been stored (so that the
-- answer does not reveal the other holder) and nothing of the other device changes. The record
-- is sealed like the device secrets (AAD import_shadows|record|<id>).
-- Frozen: a shipped migration never changes; later changes are new numbered files.
CREATE TABLE claim_failures(
  sho_id INTEGER PRIMARY KEY REFERENCES shos(id),
  window_start INTEGER NOT NULL,
  failures INTEGER NOT NULL);
CREATE TABLE import_shadows(
  id INTEGER PRIMARY KEY,
  sho_id INTEGER NOT NULL REFERENCES shos(id),
  dev_id TEXT NOT NULL,
  pcid TEXT NOT NULL,
  record BLOB NOT NULL,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  UNIQUE(sho_id, dev_id),
  UNIQUE(sho_id, pcid));
