-- Events out for generic cases (issue 11): a webhook delivery is of a request event
-- (`event_id`) or of a case event (`case_event_id`), exactly one, so both kinds of event share
-- the one delivery queue, its retries, dead letters and counts.
ALTER TABLE webhook_deliveries ALTER COLUMN event_id DROP NOT NULL;
ALTER TABLE webhook_deliveries ADD COLUMN case_event_id BIGINT REFERENCES case_events (id);
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_one_event
    CHECK ((event_id IS NULL) <> (case_event_id IS NULL));
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_case_event
    UNIQUE (webhook_id, case_event_id);
