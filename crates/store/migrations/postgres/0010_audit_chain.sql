-- 安全审计 (issue 12): the audit log becomes a hash chain. `seq` numbers the rows 1, 2, … and
-- `hash` = H(prev_hash, seq, the row) names its function (`sha256:…`, `sm3:…`). Rows written
-- before this migration are chained by the store on its next audit write.
ALTER TABLE audit_log ADD COLUMN seq BIGINT;
ALTER TABLE audit_log ADD COLUMN prev_hash TEXT;
ALTER TABLE audit_log ADD COLUMN hash TEXT;
CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq);

-- Append-only from the application's side: a chained row can be neither changed nor removed
-- (the database owner can drop these triggers; the chain then shows the edit).
CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' OR OLD.hash IS NOT NULL THEN
        RAISE EXCEPTION 'audit_log is append-only';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
