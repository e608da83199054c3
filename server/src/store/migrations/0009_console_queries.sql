-- Migration 9 (schema version 8 -> 9): indexes for the listings the web console pages through
-- (docs/console.md "API queries"): devices of one state (per SHO and overall) in DevId order,
-- jobs per SHO and per state, newest first, and the operator changes still open (a few, sorted).
-- Every page is then an index range walk, not a scan of the table (1M devices).
-- Frozen: a shipped migration never changes; later changes are new numbered files.
CREATE INDEX devices_state ON devices(state, dev_id);
CREATE INDEX devices_sho_state ON devices(sho_id, state, dev_id);
CREATE INDEX jobs_sho ON jobs(sho_id, id);
CREATE INDEX jobs_state ON jobs(state, id);
CREATE INDEX operator_changes_state ON operator_changes(state, id);
