-- Migration 5 (schema version 4 -> 5): operator change variant B, back to the pristine state,
-- and bulk requests (variant C's list of devices; docs/operator-change.md).
-- B: the change first resets the device (reset_job_id, the job that delivers Exec
-- ResetToPristine); the new SHO's sealed MCIM waits in the row (mcim) until the device,
-- re-bootstrapped with the new SHO as its SHO, authenticates with its new credentials; then it
-- becomes the change's install job (job_id), valid for install_ttl seconds, and the row's copy
-- is dropped.
-- Bulk: one request of the new SHO for many devices is a batch; each device's change names it.
-- Frozen: a shipped migration never changes; later changes are new numbered files.
ALTER TABLE operator_changes ADD COLUMN reset_job_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE operator_changes ADD COLUMN mcim BLOB;
ALTER TABLE operator_changes ADD COLUMN install_ttl INTEGER NOT NULL DEFAULT 0;
CREATE TABLE operator_change_batches(
  id INTEGER PRIMARY KEY,
  to_sho INTEGER NOT NULL REFERENCES shos(id),
  variant TEXT NOT NULL,
  size INTEGER NOT NULL,
  created INTEGER NOT NULL);
ALTER TABLE operator_changes ADD COLUMN batch_id INTEGER NOT NULL DEFAULT 0;
CREATE INDEX operator_changes_batch ON operator_changes(batch_id, id);
