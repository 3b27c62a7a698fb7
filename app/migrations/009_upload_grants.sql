-- Upload policies a user was given in the current window (one row a user), so that
-- no one can ask for policies without end: each may store an object until it expires.
CREATE TABLE upload_grants (
    user_id uuid PRIMARY KEY REFERENCES users (user_id) ON DELETE CASCADE,
    window_start timestamptz NOT NULL,
    granted integer NOT NULL
);
