CREATE TABLE users (
    user_id uuid PRIMARY KEY,
    email text NOT NULL,
    name text NOT NULL DEFAULT '',
    password_hash text,
    role text NOT NULL DEFAULT 'free' CHECK (role IN ('free', 'premium')),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE api_tokens (
    token_id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE,
    name text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE jobs (
    job_id uuid PRIMARY KEY,
    user_id uuid NOT NULL,
    input_file_name text NOT NULL,
    input_bucket text NOT NULL,
    input_key text NOT NULL,
    input_size bigint NOT NULL,
    submitted_at timestamptz NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    started_at timestamptz,
    completed_at timestamptz,
    progress integer NOT NULL DEFAULT 0,
    variant_count bigint,
    build text,
    result_bucket text,
    result_key text,
    log_key text,
    summary_key text,
    storage text CHECK (storage IN ('hot', 'archiving', 'cold', 'restoring')),
    archived_at timestamptz,
    restore_requested_at timestamptz,
    error text
);
CREATE INDEX jobs_user_submitted ON jobs (user_id, submitted_at DESC, job_id DESC);

-- The local bus: topics fan out to queues; a queue's messages wait in one table.
CREATE TABLE queues (
    name text PRIMARY KEY,
    delay_seconds integer NOT NULL DEFAULT 0,
    visibility_seconds integer NOT NULL DEFAULT 60,
    max_receives integer NOT NULL DEFAULT 5,
    dead_letter_queue text REFERENCES queues (name)
);

CREATE TABLE topic_subscriptions (
    topic text NOT NULL,
    queue text NOT NULL REFERENCES queues (name),
    PRIMARY KEY (topic, queue)
);

CREATE TABLE queue_messages (
    message_id uuid PRIMARY KEY,
    queue text NOT NULL REFERENCES queues (name),
    body text NOT NULL,
    visible_at timestamptz NOT NULL DEFAULT now(),
    receive_count integer NOT NULL DEFAULT 0,
    receipt uuid,
    sent_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX queue_messages_ready ON queue_messages (queue, visible_at);
