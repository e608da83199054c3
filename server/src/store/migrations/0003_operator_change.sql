-- Migration 3 (schema version 2 -> 3): operator change (docs/operator-change.md). Each SHO names
-- the CN of its signing certificate (what tokens and sealed MCIMs carry as its id; '' = its
-- name); each operator change is a row that spends its authorisation's nonce (UNIQUE: a token
-- works once) and follows its job through discard, acknowledgement and completion.
-- Frozen: a shipped migration never changes; later changes are new numbered files.
ALTER TABLE shos ADD COLUMN signer TEXT NOT NULL DEFAULT '';
CREATE TABLE operator_changes(
  id INTEGER PRIMARY KEY,
  dev_id TEXT NOT NULL REFERENCES devices(dev_id),
  variant TEXT NOT NULL,
  from_sho INTEGER NOT NULL REFERENCES shos(id),
  to_sho INTEGER NOT NULL REFERENCES shos(id),
  job_id INTEGER NOT NULL UNIQUE REFERENCES jobs(id),
  nonce TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL,
  discard_detail TEXT NOT NULL DEFAULT '',
  discarded_at INTEGER NOT NULL DEFAULT 0,
  acknowledged_at INTEGER NOT NULL DEFAULT 0,
  completed_at INTEGER NOT NULL DEFAULT 0,
  result_code INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL);
CREATE INDEX operator_changes_dev ON operator_changes(dev_id, id);
