-- Callers' personal information at rest (issue 12): names and phones inside `requests.state`
-- and the `received` event are sealed by the store (crates/store/src/pii.rs); a phone is found
-- through its keyed blind index, never by its plaintext.
ALTER TABLE requests ADD COLUMN caller_phone_index TEXT;
CREATE INDEX requests_caller_phone ON requests (caller_phone_index) WHERE caller_phone_index IS NOT NULL;

-- The keys that have sealed rows here, by id and check value (an HMAC under the key, never the
-- key): a server started without the keyring, or with another key under a known id, is refused.
-- `jiesu keys rotate` retires a key once no row uses it; only then may it leave the keyring.
CREATE TABLE pii_keys (
    id TEXT PRIMARY KEY,
    algorithm TEXT NOT NULL,
    check_value TEXT NOT NULL,
    registered_at BIGINT NOT NULL,
    retired_at BIGINT
);
