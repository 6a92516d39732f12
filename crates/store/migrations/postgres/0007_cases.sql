-- Generic cases (issue 11): every kind of case other than the 12345 request (elder-care service
-- orders, 一键呼 alarms, childcare applications, …) lives in these tables, run by the store's one
-- engine. `state` is the kind's state as JSON; `next_timer_at` is the kind's earliest timer
-- (`CaseKind::next_timer`), which the timer sweep watches.
CREATE TABLE cases (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    version BIGINT NOT NULL,
    next_timer_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    state TEXT NOT NULL
);
CREATE INDEX cases_kind_status ON cases (kind, status, id);
CREATE INDEX cases_timer ON cases (next_timer_at) WHERE next_timer_at IS NOT NULL;

-- The append-only event log of generic cases: who, when, what, why.
CREATE TABLE case_events (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    name TEXT NOT NULL,
    actor_user_id BIGINT,
    actor_name TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    actor_unit TEXT,
    reason TEXT,
    payload TEXT NOT NULL,
    CONSTRAINT case_events_seq UNIQUE (kind, case_id, seq)
);

-- Events out for generic cases: written in the same transaction as the event, like
-- `event_outbox` for requests (which stays as it is, so request webhooks are unchanged).
CREATE TABLE case_outbox (
    id BIGSERIAL PRIMARY KEY,
    case_event_id BIGINT NOT NULL REFERENCES case_events (id),
    kind TEXT NOT NULL,
    case_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
