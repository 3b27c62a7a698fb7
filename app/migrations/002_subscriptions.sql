-- A paid Premium subscription. The row and the user's new role are written in one
-- transaction; announced_at is set once user-upgraded is published, so an upgrade
-- whose announcement was cut short is announced again (an outbox of one).
CREATE TABLE subscriptions (
    subscription_id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    provider text NOT NULL,
    reference text NOT NULL,
    -- The webhook event that confirmed it: each event is applied once.
    event_id text UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    announced_at timestamptz,
    UNIQUE (provider, reference)
);
CREATE INDEX subscriptions_user ON subscriptions (user_id);
