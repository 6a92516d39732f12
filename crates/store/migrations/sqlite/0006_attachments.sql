-- Photos citizens attach in the portal. Stored before the request (request_id NULL) and linked
-- after it: a failed intake leaves only an unlinked blob, which nothing shows and the cleanup
-- removes.
CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    request_id BIGINT REFERENCES requests (id),
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    bytes BLOB NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX attachments_request ON attachments (request_id);
