-- Whether the account's owner has shown they read mail at its address (NULL: not yet).
-- Accounts from before this are unverified: nobody ever checked them.
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;
ALTER TABLE users ADD COLUMN institution text NOT NULL DEFAULT '';

-- Links mailed to a person that work once: verify an email, reset a password, confirm
-- a new email. Only the token's hash is kept, so a copy of the table opens no account.
CREATE TABLE one_time_links (
    link_hash bytea PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    purpose text NOT NULL CHECK (purpose IN ('verify-email', 'reset-password', 'change-email')),
    -- The address the link was mailed to: the new one for change-email.
    email text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX one_time_links_user ON one_time_links (user_id, purpose, created_at DESC);
CREATE INDEX one_time_links_expiry ON one_time_links (expires_at);
