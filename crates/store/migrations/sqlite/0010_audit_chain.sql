-- 安全审计 (issue 12): the audit log becomes a hash chain. `seq` numbers the rows 1, 2, … and
-- `hash` = H(prev_hash, seq, the row) names its function (`sha256:…`, `sm3:…`). Rows written
-- before this migration are chained by the store on its next audit write (SQL has no SHA-256).
ALTER TABLE audit_log ADD COLUMN seq BIGINT;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq);

-- Append-only from the application's side: a chained row can be neither changed nor removed
-- (someone with the database's keys can drop these triggers; the chain then shows the edit).
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN OLD.hash IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
