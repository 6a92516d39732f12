-- 知识库: the 咨询 knowledge base. An entry's current content and review state, every revision
-- of its content, each use (an answer given from it, a request closed with it cited) and each
-- "did not help" from the desk.
CREATE TABLE knowledge_entries (
    id BIGSERIAL PRIMARY KEY,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    policy_source TEXT NOT NULL,
    unit_code TEXT NOT NULL,
    -- YYYY-MM-DD, inclusive
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    -- JSON array of strings
    keywords TEXT NOT NULL,
    status TEXT NOT NULL,
    revision BIGINT NOT NULL,
    -- bumped by every change of content or status (the search index's staleness check)
    version BIGINT NOT NULL DEFAULT 1,
    -- who wrote the current revision (NULL: loaded by the system)
    revision_author BIGINT REFERENCES users(id),
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    reviewed_by BIGINT REFERENCES users(id),
    reviewed_at BIGINT,
    review_note TEXT,
    uses BIGINT NOT NULL DEFAULT 0,
    unhelpful BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX knowledge_entries_status ON knowledge_entries (status, unit_code);

CREATE TABLE knowledge_revisions (
    entry_id BIGINT NOT NULL REFERENCES knowledge_entries(id),
    revision BIGINT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    policy_source TEXT NOT NULL,
    unit_code TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    keywords TEXT NOT NULL,
    author BIGINT REFERENCES users(id),
    author_name TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (entry_id, revision)
);

CREATE TABLE knowledge_uses (
    id BIGSERIAL PRIMARY KEY,
    entry_id BIGINT NOT NULL REFERENCES knowledge_entries(id),
    revision BIGINT NOT NULL,
    request_id BIGINT REFERENCES requests(id),
    user_id BIGINT REFERENCES users(id),
    at BIGINT NOT NULL
);
CREATE INDEX knowledge_uses_entry ON knowledge_uses (entry_id);

CREATE TABLE knowledge_feedback (
    id BIGSERIAL PRIMARY KEY,
    entry_id BIGINT NOT NULL REFERENCES knowledge_entries(id),
    revision BIGINT NOT NULL,
    request_id BIGINT REFERENCES requests(id),
    user_id BIGINT REFERENCES users(id),
    note TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX knowledge_feedback_entry ON knowledge_feedback (entry_id);
