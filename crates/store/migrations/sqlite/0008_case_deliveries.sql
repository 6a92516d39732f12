-- Events out for generic cases (issue 11): a webhook delivery is of a request event
-- (`event_id`) or of a case event (`case_event_id`), exactly one, so both kinds of event share
-- the one delivery queue, its retries, dead letters and counts. SQLite cannot relax a NOT NULL
-- or add a foreign key in place, so the table is rebuilt (nothing references it).
CREATE TABLE webhook_deliveries_new (
    id INTEGER PRIMARY KEY,
    webhook_id BIGINT NOT NULL REFERENCES webhooks (id),
    event_id BIGINT REFERENCES request_events (id),
    case_event_id BIGINT REFERENCES case_events (id),
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT,
    CONSTRAINT webhook_deliveries_one_event CHECK ((event_id IS NULL) <> (case_event_id IS NULL)),
    UNIQUE (webhook_id, event_id),
    CONSTRAINT webhook_deliveries_case_event UNIQUE (webhook_id, case_event_id)
);
INSERT INTO webhook_deliveries_new (id, webhook_id, event_id, state, attempts, next_attempt_at, last_error, created_at, finished_at)
    SELECT id, webhook_id, event_id, state, attempts, next_attempt_at, last_error, created_at, finished_at
    FROM webhook_deliveries;
DROP TABLE webhook_deliveries;
ALTER TABLE webhook_deliveries_new RENAME TO webhook_deliveries;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_state ON webhook_deliveries (webhook_id, state, id);
