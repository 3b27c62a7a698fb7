-- A subscription's life after checkout (app/accounts/subscriptions.py, app/accounts/billing.py).
-- Stripe's customer: the Customer Portal is opened for it.
ALTER TABLE subscriptions ADD COLUMN customer text;
-- Ended (cancelled, unpaid, or downgraded by the operator): no longer what makes its user Premium.
ALTER TABLE subscriptions ADD COLUMN ended_at timestamptz;
-- The state Stripe last told about a subscription, kept by reference (a subscription event can
-- arrive before the checkout that names its user) with the creation time of the event that said
-- it: an older event, delivered late, does not overwrite a newer one.
CREATE TABLE subscription_states (
    provider text NOT NULL,
    reference text NOT NULL,
    status text NOT NULL,
    cancel_at_period_end boolean NOT NULL DEFAULT false,
    current_period_end timestamptz,
    event_created timestamptz NOT NULL,
    PRIMARY KEY (provider, reference)
);
-- Each webhook event is applied once, whatever its type.
CREATE TABLE webhook_events (
    event_id text PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now()
);
-- When the user last went from Premium to free: their hot results' free retention runs from
-- then (daemons/archive.py). downgrade_queued_at is set once those results were queued for the
-- archiver and the user told, so a downgrade cut short is finished by the next call.
ALTER TABLE users ADD COLUMN downgraded_at timestamptz;
ALTER TABLE users ADD COLUMN downgrade_queued_at timestamptz;
