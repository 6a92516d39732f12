-- 考评 fast path (docs/assessment.md, "Rollups"): per request, the facts the counting rules
-- read, each with the instants at which it starts and stops counting, so "as of A" is a few
-- comparisons with A and a period is one GROUP BY per table. Maintained in the transaction that
-- appends the events; derived only from request_events, so `jiesu rollup rebuild` recreates
-- them. valid_to = 9223372036854775807 means "still counts"; prev_reached_at =
-- -9223372036854775808 means "no reached callback before".

-- One row per version of a response cycle (a new version when an overruled 退单 or a 延期
-- decision moves a deadline); no row while a 退单 is undecided or after it was sustained.
CREATE TABLE assessment_cycles (
    request_id BIGINT NOT NULL,
    cycle INTEGER NOT NULL,
    version INTEGER NOT NULL,
    unit TEXT NOT NULL,
    street TEXT NOT NULL,
    category TEXT NOT NULL,
    channel TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_to BIGINT NOT NULL,
    response_due BIGINT NOT NULL,
    completion_due BIGINT NOT NULL,
    accepted_at BIGINT,
    contacted_at BIGINT,
    replied_at BIGINT
);
CREATE INDEX assessment_cycles_request ON assessment_cycles (request_id);
-- Covering: a period is a range of this index alone (an index-only scan, no heap visits).
CREATE INDEX assessment_cycles_opened ON assessment_cycles (opened_at) INCLUDE (valid_from, valid_to, response_due, completion_due, accepted_at, contacted_at, replied_at, unit, street, category, channel);

-- One row per 回访, with the neighbouring callbacks' times so the counted one of a period is
-- found without a window function.
CREATE TABLE assessment_callbacks (
    request_id BIGINT NOT NULL,
    n INTEGER NOT NULL,
    unit TEXT NOT NULL,
    street TEXT NOT NULL,
    category TEXT NOT NULL,
    channel TEXT NOT NULL,
    at BIGINT NOT NULL,
    valid_to BIGINT NOT NULL,
    reached BOOLEAN NOT NULL,
    resolved BOOLEAN NOT NULL,
    satisfaction SMALLINT NOT NULL,
    next_at BIGINT NOT NULL,
    next_reached_at BIGINT NOT NULL,
    prev_reached_at BIGINT NOT NULL
);
CREATE INDEX assessment_callbacks_request ON assessment_callbacks (request_id);
-- Covering: a period is a range of this index alone (an index-only scan, no heap visits).
CREATE INDEX assessment_callbacks_at ON assessment_callbacks (at) INCLUDE (valid_to, reached, resolved, satisfaction, next_at, next_reached_at, prev_reached_at, unit, street, category, channel);

-- One row per whistled department (吹哨报到 双考核).
CREATE TABLE assessment_whistles (
    request_id BIGINT NOT NULL,
    n INTEGER NOT NULL,
    unit TEXT NOT NULL,
    street TEXT NOT NULL,
    category TEXT NOT NULL,
    channel TEXT NOT NULL,
    at BIGINT NOT NULL,
    valid_to BIGINT NOT NULL,
    due BIGINT NOT NULL,
    reported_at BIGINT
);
CREATE INDEX assessment_whistles_request ON assessment_whistles (request_id);
CREATE INDEX assessment_whistles_at ON assessment_whistles (at);
