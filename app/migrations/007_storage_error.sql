-- Why the last move of a completed job's result between storage tiers gave up
-- (restore or thaw failed every delivery and went to the dead-letter queue);
-- cleared by the next move that succeeds.
ALTER TABLE jobs ADD COLUMN storage_error text;
