-- Migration 1: the initial schema (schema version 0 -> 1): SHOs, devices with their sealed
-- secrets, jobs and results, the audit log and the SHO callback outbox.
-- Frozen: a shipped migration never changes; later changes are new numbered files.
CREATE TABLE shos(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  token_hash BLOB NOT NULL UNIQUE,
  callback_url TEXT NOT NULL DEFAULT '',
  created INTEGER NOT NULL);
CREATE TABLE devices(
  id INTEGER PRIMARY KEY,
  dev_id TEXT NOT NULL UNIQUE,
  pcid TEXT NOT NULL UNIQUE,
  sho_id INTEGER REFERENCES shos(id),
  dpf_address TEXT NOT NULL DEFAULT '',
  dm_credentials BLOB,
  device_pin BLOB,
  k BLOB,
  opc BLOB,
  sqn INTEGER NOT NULL DEFAULT 0,
  pfc_der BLOB,
  pfc_validation TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL DEFAULT 'imported',
  last_seen INTEGER NOT NULL DEFAULT 0,
  push_address TEXT NOT NULL DEFAULT '',
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL);
CREATE INDEX devices_sho ON devices(sho_id, dev_id);
CREATE TABLE jobs(
  id INTEGER PRIMARY KEY,
  dev_id TEXT NOT NULL REFERENCES devices(dev_id),
  sho_id INTEGER NOT NULL REFERENCES shos(id),
  kind TEXT NOT NULL,
  payload BLOB NOT NULL,
  authorisation TEXT NOT NULL,
  correlator TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  deadline INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL);
CREATE INDEX jobs_dev_state ON jobs(dev_id, state, id);
CREATE TABLE results(
  job_id INTEGER PRIMARY KEY REFERENCES jobs(id),
  code INTEGER NOT NULL,
  message TEXT NOT NULL,
  at INTEGER NOT NULL);
CREATE TABLE audit(
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  detail TEXT NOT NULL);
CREATE TABLE outbox(
  id INTEGER PRIMARY KEY,
  sho_id INTEGER NOT NULL REFERENCES shos(id),
  url TEXT NOT NULL,
  body TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  acknowledged INTEGER NOT NULL DEFAULT 0);
CREATE INDEX outbox_due ON outbox(acknowledged, next_attempt_at);
