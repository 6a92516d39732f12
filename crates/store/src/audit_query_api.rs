//! The `Store` face of the audit viewer's query (written once in `backend/audit_query.rs`,
//! compiled per backend): filters, newest first, a total for paging.

use crate::{AuditEntry, Result, Store};
use jiff::Timestamp;
use serde::Serialize;

/// What the admin's audit viewer asks for; every filter is optional.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// The actor's username, exact.
    pub actor: Option<String>,
    /// The action, exact (`login_failed`, `view_caller_identity` …).
    pub action: Option<String>,
    /// The target's type, exact, and optionally its id.
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    /// `at` in [from, to).
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// A substring of the detail, the actor, the action or the target id (matched literally).
    pub text: Option<String>,
    pub offset: u32,
    pub limit: u32,
}

/// One audit row as the viewer shows it: its id and chain position beside the entry.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub seq: Option<i64>,
    #[serde(flatten)]
    pub entry: AuditEntry,
}

/// One page of matching rows (newest first) and how many match in all.
#[derive(Debug, Clone, Serialize)]
pub struct AuditPage {
    pub total: u64,
    pub rows: Vec<AuditRow>,
}

impl Store {
    /// Audit rows matching `q`, newest first, `q.limit` (1–500) from `q.offset`.
    pub async fn audit_query(&self, q: &AuditQuery) -> Result<AuditPage> {
        delegate!(self.audit_query(q))
    }
}
