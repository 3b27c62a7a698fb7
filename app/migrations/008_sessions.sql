-- A signed-in browser. The login cookie carries a random session id and only its
-- hash is kept here, so logging out ends the session on the server too: a copy
-- of the cookie taken before stops working.
CREATE TABLE sessions (
    session_hash bytea PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);
