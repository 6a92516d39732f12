-- Open311 GeoReport v2 clients: one API key per client, issued by an admin. Only the SHA-256 of
-- the key is stored, so a leaked database does not leak working keys; a revoked key stays for
-- the record (requests name the client that filed them).
CREATE TABLE api_keys (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
