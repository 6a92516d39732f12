-- The world a database was initialised with (and later admin edits): one JSON document per
-- version; the newest is in force.
CREATE TABLE world_versions (
    id BIGSERIAL PRIMARY KEY,
    loaded_at BIGINT NOT NULL,
    source TEXT NOT NULL,
    world TEXT NOT NULL
);

-- Projection of each request's event log: the derived state (JSON) plus the columns lists and
-- reports filter on. Rebuildable from request_events.
CREATE TABLE requests (
    id BIGSERIAL PRIMARY KEY,
    tracking_code TEXT NOT NULL UNIQUE,
    idempotency_key TEXT UNIQUE,
    status TEXT NOT NULL,
    request_type TEXT NOT NULL,
    channel TEXT NOT NULL,
    category TEXT,
    street TEXT,
    community TEXT,
    lead_unit TEXT,
    urgent BOOLEAN NOT NULL,
    received_at BIGINT NOT NULL,
    dispatched_at BIGINT,
    response_due BIGINT,
    completion_due BIGINT,
    warn_at BIGINT,
    next_whistle_due BIGINT,
    replied_at BIGINT,
    closed_at BIGINT,
    response_pending BOOLEAN NOT NULL,
    clock_running BOOLEAN NOT NULL,
    response_overdue BOOLEAN NOT NULL,
    completion_overdue BOOLEAN NOT NULL,
    master_id BIGINT,
    text TEXT NOT NULL,
    version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    state TEXT NOT NULL
);
CREATE INDEX requests_received ON requests (received_at DESC, id DESC);
CREATE INDEX requests_status ON requests (status, received_at DESC);
CREATE INDEX requests_unit ON requests (lead_unit, status);
CREATE INDEX requests_street ON requests (street, received_at);
CREATE INDEX requests_category ON requests (category, received_at);
CREATE INDEX requests_response_due ON requests (response_due) WHERE response_pending AND NOT response_overdue;
CREATE INDEX requests_completion_due ON requests (completion_due) WHERE clock_running AND NOT completion_overdue;
CREATE INDEX requests_whistle_due ON requests (next_whistle_due) WHERE next_whistle_due IS NOT NULL;

-- Units involved in a request (lead and 吹哨 co-handlers): what a handler may see.
CREATE TABLE request_units (
    request_id BIGINT NOT NULL REFERENCES requests (id),
    unit_code TEXT NOT NULL,
    lead BOOLEAN NOT NULL,
    PRIMARY KEY (request_id, unit_code)
);
CREATE INDEX request_units_unit ON request_units (unit_code, request_id);

-- The append-only event log. (request_id, seq) is unique: two writers racing on one request
-- cannot both append the same position.
CREATE TABLE request_events (
    id BIGSERIAL PRIMARY KEY,
    request_id BIGINT NOT NULL REFERENCES requests (id),
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor_user_id BIGINT,
    actor_name TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    actor_unit TEXT,
    reason TEXT,
    payload TEXT NOT NULL,
    UNIQUE (request_id, seq)
);
CREATE INDEX request_events_at ON request_events (at);

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    unit_code TEXT,
    disabled BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);

-- Server-side sessions: only a hash of the token is kept, so a database leak yields no
-- usable tokens.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Who saw or changed what (条例 Art.8/28/35): every unmasked view of a caller's identity.
CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    user_id BIGINT,
    username TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX audit_log_target ON audit_log (target_type, target_id);
CREATE INDEX audit_log_at ON audit_log (at);
