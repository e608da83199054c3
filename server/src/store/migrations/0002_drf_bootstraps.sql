-- Migration 2 (schema version 1 -> 2): the DRF (per-device SEC method, bootstrap history with
-- the application context's credentials sealed) and the package 0 trigger's retry state on jobs.
-- Frozen: a shipped migration never changes; later changes are new numbered files.
ALTER TABLE devices ADD COLUMN sec_method TEXT NOT NULL DEFAULT 'USERPIN';
ALTER TABLE jobs ADD COLUMN notify_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN next_notify_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_notify ON jobs(state, next_notify_at);
CREATE TABLE bootstraps(
  id INTEGER PRIMARY KEY,
  dev_id TEXT NOT NULL REFERENCES devices(dev_id),
  issued INTEGER NOT NULL,
  actor TEXT NOT NULL,
  sec_method TEXT NOT NULL,
  delivery TEXT NOT NULL,
  rebootstrap INTEGER NOT NULL DEFAULT 0,
  active INTEGER NOT NULL DEFAULT 1,
  app_credentials BLOB);
CREATE INDEX bootstraps_dev ON bootstraps(dev_id, active);
