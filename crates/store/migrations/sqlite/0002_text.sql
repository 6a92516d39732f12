-- Classifiers trained on the deployment's own history (`jiesu train`): one row per trained
-- model; the newest version of each kind is in force. `report` is the training summary (JSON).
CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    trained_on BIGINT NOT NULL,
    report TEXT NOT NULL,
    bytes BLOB NOT NULL,
    UNIQUE (kind, version)
);

-- What the platform suggested at intake beside what the operator chose (both JSON), so the
-- suggestions' accuracy can be tracked in production.
CREATE TABLE request_suggestions (
    request_id BIGINT PRIMARY KEY REFERENCES requests (id),
    created_at BIGINT NOT NULL,
    suggestion TEXT NOT NULL,
    chosen TEXT NOT NULL
);
CREATE INDEX request_suggestions_created ON request_suggestions (created_at);
