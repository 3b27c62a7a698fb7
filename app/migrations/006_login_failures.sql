-- Failed log-ins, one row per failure and per subject (the account's email, the
-- client's address), so that every web instance counts the same attempts.
CREATE TABLE login_failures (
    scope text NOT NULL CHECK (scope IN ('account', 'ip')),
    subject text NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX login_failures_subject ON login_failures (scope, subject, failed_at DESC);
CREATE INDEX login_failures_age ON login_failures (failed_at);
