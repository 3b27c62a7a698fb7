-- A job may be cancelled by its owner, and is marked deleting while its objects are removed
-- (app/jobs/control.py); the job store's port checks the moves, this the values.
ALTER TABLE jobs DROP CONSTRAINT IF EXISTS jobs_status_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_status_check
    CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled', 'deleting'));
