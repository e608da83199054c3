-- Migration 10 (schema version 9 -> 10): jobs the package 0 notifier cannot reach are parked
-- (jobs.next_notify_at = 9223372036854775807, INT64_MAX; SqliteStore::jobs_to_notify) so that its
-- scan after every submission does not walk them again. A device that gets a push address (or a
-- new one) un-parks its jobs; a claim resets next_notify_at itself.
-- Frozen: a shipped migration never changes; later changes are new numbered files.
CREATE TRIGGER jobs_unpark_on_push_address AFTER UPDATE OF push_address ON devices
WHEN NEW.push_address != '' AND NEW.push_address IS NOT OLD.push_address
BEGIN
  UPDATE jobs SET next_notify_at = 0 WHERE dev_id = NEW.dev_id AND next_notify_at = 9223372036854775807;
END;
-- Jobs already waiting when this migration runs are parked by the next scan.
