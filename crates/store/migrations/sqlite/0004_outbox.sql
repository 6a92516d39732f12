-- Events out (issue 5). A transactional outbox: every lifecycle event written by a live command
-- also writes a row here in the same transaction, so an event is published if and only if it
-- was committed, and nothing is lost when the process dies between commit and delivery.
-- Bulk history loads (demo, `jiesu import`) write no outbox rows: a backfill is not news.
CREATE TABLE event_outbox (
    id INTEGER PRIMARY KEY,
    event_id BIGINT NOT NULL REFERENCES request_events (id),
    request_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Webhook subscribers, managed by admins. The secret signs every delivery (HMAC-SHA256), so it
-- must be kept in clear; it is shown to the admin once, at creation, and never listed.
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    disabled_at BIGINT
);

-- One row per (subscriber, event): the fan-out of the outbox. `pending` rows are due at
-- `next_attempt_at`; a worker that claims one pushes that forward by a lease, so a worker that
-- dies mid-delivery leaves the row to be retried (at-least-once). After the last attempt a row
-- becomes `dead` (the dead-letter list) until an admin retries it.
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    webhook_id BIGINT NOT NULL REFERENCES webhooks (id),
    event_id BIGINT NOT NULL REFERENCES request_events (id),
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_state ON webhook_deliveries (webhook_id, state, id);
