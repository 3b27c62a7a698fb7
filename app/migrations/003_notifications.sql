-- Mail sent about a job, one row per (job, kind): the claim is taken before
-- sending and marked sent after, so a redelivered message sends no second copy,
-- while a claim whose sender died is taken over once its lease has passed.
CREATE TABLE notifications (
    job_id uuid NOT NULL,
    kind text NOT NULL,
    claimed_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    PRIMARY KEY (job_id, kind)
);

-- The tier a result is being restored at: the job page says how long it takes.
ALTER TABLE jobs ADD COLUMN restore_tier text;
