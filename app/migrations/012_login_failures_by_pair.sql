-- Failed log-ins, one row per failure naming both the account (the email as typed) and the
-- client's address, so that failures are counted per (account, address) pair, per address
-- and per account: a stranger's failures must lock out only the stranger
-- (app/accounts/login_limits.py). The old rows are at most one window old: dropping them
-- forgets a quarter of an hour of failures, once.
DROP TABLE login_failures;
CREATE TABLE login_failures (
    account text NOT NULL,
    client text NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX login_failures_pair ON login_failures (account, client, failed_at DESC);
CREATE INDEX login_failures_account ON login_failures (account, failed_at DESC);
CREATE INDEX login_failures_client ON login_failures (client, failed_at DESC);
CREATE INDEX login_failures_age ON login_failures (failed_at);
