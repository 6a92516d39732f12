//! Values the store takes and returns.

use jiesu_domain::{Actor, Command, Directory, Intake, RequestState, Role, Status};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A new request and what to do with it at once.
pub struct NewRequest<'a> {
    pub dir: &'a Directory,
    pub actor: &'a Actor,
    pub intake: Intake,
    pub idempotency_key: Option<String>,
    /// Dispatch or close in the same transaction (the operator's one action).
    pub follow_up: Option<Command>,
    /// What the platform suggested (JSON), stored in the same transaction beside the
    /// operator's choice so suggestion accuracy can be tracked.
    pub suggestion: Option<String>,
    pub now: Timestamp,
}

#[derive(Debug, Clone)]
pub struct Created {
    pub state: RequestState,
    /// The idempotency key had been used: this is the earlier request, nothing new was stored.
    pub replayed: bool,
}

/// Filters of `GET /requests`. All given filters must hold.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub statuses: Vec<Status>,
    pub unit: Option<String>,
    pub street: Option<String>,
    pub community: Option<String>,
    /// Category codes (a parent is expanded to its leaves by the caller).
    pub categories: Vec<String>,
    pub request_type: Option<String>,
    pub channel: Option<String>,
    /// Response or completion deadline breached.
    pub overdue: Option<bool>,
    /// Past the warning point at this instant, clock running, not yet overdue.
    pub warning_at: Option<Timestamp>,
    pub received_from: Option<Timestamp>,
    pub received_to: Option<Timestamp>,
    /// Substring of the request text.
    pub text: Option<String>,
    /// The caller's phone, matched exactly (however written) through its blind index.
    pub phone: Option<String>,
    /// A tracking code (受理编号), exactly.
    pub code: Option<String>,
    /// Only these request ids (candidates from the full-text index; order is not kept).
    pub ids: Option<Vec<i64>>,
    /// Only requests this unit leads or co-handles (a handler's view).
    pub scope_unit: Option<String>,
    /// A 延期 request awaits the dispatcher's decision (the completion clock is paused).
    pub extension_pending: bool,
    /// Continue after this position (from the previous page's `next_cursor`; newest-first
    /// order only).
    pub cursor: Option<Cursor>,
    pub limit: u32,
    /// Skip this many rows first (numbered pages of the desks; ignored with a cursor).
    pub offset: u32,
    pub order: ListOrder,
}

/// How a list is ordered. Work queues want the most urgent first; only the default order pages
/// with a cursor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ListOrder {
    /// received_at DESC, id DESC.
    #[default]
    Newest,
    /// Earliest completion deadline first (requests without one last).
    Deadline,
    /// Longest-waiting reply first (the callback desk).
    OldestReply,
}

/// A position in the stable order (received_at DESC, id DESC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub received_at_ms: i64,
    pub id: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}_{}", self.received_at_ms, self.id)
    }
    pub fn decode(s: &str) -> Option<Cursor> {
        let (a, b) = s.split_once('_')?;
        Some(Cursor {
            received_at_ms: a.parse().ok()?,
            id: b.parse().ok()?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Page {
    pub items: Vec<RequestState>,
    pub next_cursor: Option<Cursor>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SweepReport {
    /// Whether this process held the sweep lock (another server may have been sweeping).
    pub swept: bool,
    /// Cases looked at (requests for `sweep_sla`, cases of the kind for `sweep_case_timers`).
    pub requests_checked: usize,
    /// Events the timers raised (automatic 督办 for requests).
    pub escalations: usize,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    pub unit_code: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    #[serde(skip)]
    pub password_hash: String,
    pub role: Role,
    pub unit_code: Option<String>,
    pub disabled: bool,
    pub created_at: Timestamp,
    /// Set by an admin's reset: the holder must choose a new password before anything else.
    pub must_change_password: bool,
    pub password_changed_at: Timestamp,
}

impl User {
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.id),
            username: self.username.clone(),
            role: self.role,
            unit: self.unit_code.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: Timestamp,
    pub user_id: Option<i64>,
    pub username: String,
    pub role: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub detail: Option<String>,
}

/// What `Store::reseal` did (running totals while it runs).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ResealReport {
    /// Requests looked at.
    pub scanned: u64,
    /// Request states whose caller was sealed again (plaintext, or under an older key).
    pub states: u64,
    /// `received` events whose caller was sealed again.
    pub events: u64,
    /// Blind indexes written or corrected.
    pub indexes: u64,
    /// Elder-registry records sealed again (name, ID number, phone, address, family, notes).
    pub elders: u64,
    /// Keys no row uses any more, retired at the end.
    pub retired: Vec<String>,
}

/// What seals this database's callers: counts of stored name/phone values by key.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct KeyStatus {
    /// `(key id or "plaintext", values)`, in the states and the `received` events together.
    pub values_by_key: Vec<(String, u64)>,
    /// Requests whose blind index is missing or wrong for the keyring in force.
    pub stale_indexes: u64,
    /// Keys registered here: (id, algorithm, retired).
    pub registered: Vec<(String, String, bool)>,
    /// The key that seals now (none: no keyring).
    pub active: Option<String>,
}
