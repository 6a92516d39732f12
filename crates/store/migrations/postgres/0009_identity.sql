-- 身份鉴别 (issue 12): a password can be reset by an admin and must then be changed by its
-- holder; its age is known for an optional expiry; sessions end after an idle time; failed
-- logins are counted in the database, so a restart clears nothing and every server sees them.
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN password_changed_at BIGINT;
UPDATE users SET password_changed_at = created_at;
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT;
UPDATE sessions SET last_seen_at = created_at;

-- One row per throttled key: `user:<name>@<address>`, `addr:<address>` or `user:<name>`.
-- `failures` counts within the window that began at `window_start`.
CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    window_start BIGINT NOT NULL
);
