-- Migration 7 (schema version 6 -> 7): generic management commands (docs/server.md "Management
-- commands"). One row per request: its DM commands (ops, JSON), how they are wrapped, and what the
-- device answered (outcome, JSON: statuses and results). state: queued, delivered, completed,
-- failed, expired.
-- Frozen: a shipped migration never changes; later changes are new numbered files.
CREATE TABLE commands(
  id INTEGER PRIMARY KEY,
  dev_id TEXT NOT NULL REFERENCES devices(dev_id),
  submitted_by TEXT NOT NULL,
  wrap TEXT NOT NULL,
  ops TEXT NOT NULL,
  state TEXT NOT NULL,
  outcome TEXT NOT NULL DEFAULT '{}',
  deadline INTEGER NOT NULL,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL);
CREATE INDEX commands_dev_state ON commands(dev_id, state, id);
