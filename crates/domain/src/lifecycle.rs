//! The event log of a request and the state derived from it.
//!
//! Every change is an [`Event`]: who, when, what, why. Events carry everything needed to replay
//! them (deadlines are computed when the event is decided and stored in it), so a request's state
//! replays identically later even after the SLA policy or calendar changes — which is what makes
//! a past month's assessment reproducible.

use crate::model::*;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub type RequestId = i64;

/// Who did something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub username: String,
    pub role: Role,
    /// The handler's unit.
    pub unit: Option<String>,
}

impl Actor {
    pub fn system() -> Self {
        Actor {
            user_id: None,
            username: "system".into(),
            role: Role::System,
            unit: None,
        }
    }
}

/// 诉求人 identity: personal data, masked for roles that do not need it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    pub name: Option<String>,
    pub phone: Option<String>,
}

/// What a request says when it arrives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intake {
    pub request_type: RequestType,
    pub channel: Channel,
    pub category: Option<String>,
    pub street: Option<String>,
    pub community: Option<String>,
    pub address: Option<String>,
    pub title: Option<String>,
    pub text: String,
    pub caller: Caller,
    /// Flagged as urgent (emergency SLA class).
    pub urgent: bool,
    /// When the call came in (may precede the recording by a little, or by a lot on import).
    pub received_at: Timestamp,
}

/// A co-handler called in by 吹哨报到, with its own response clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoHandler {
    pub unit: String,
    pub whistled_at: Timestamp,
    pub response_due: Timestamp,
    pub reported_at: Option<Timestamp>,
    pub overdue: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhistleTarget {
    pub unit: String,
    pub response_due: Timestamp,
}

/// What happened. Stored as JSON with a `type` tag; never rewritten.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// 受理
    Received { intake: Intake },
    /// 派单 (or re-route, or overrule of a 退单)
    Dispatched {
        unit: String,
        sla_class: String,
        response_due: Timestamp,
        completion_due: Timestamp,
        warn_at: Timestamp,
        /// 直派 to a street office (copied to the district).
        direct: bool,
        /// The dispatcher overruled the unit's objection: the unit keeps the request and its
        /// deadlines.
        overrule: bool,
    },
    /// 退单 the lead unit objects to the dispatch.
    Returned { unit: String },
    /// 签收
    Accepted { unit: String },
    /// First and later contacts with the caller.
    Contacted {
        method: ContactMethod,
        reached: bool,
        note: String,
    },
    /// 答复
    Replied { text: String },
    /// 延期 requested; the completion clock pauses until decided.
    ExtensionRequested { working_days: u32 },
    /// 延期 decided; the pause is added to the deadline either way, the days only if approved.
    ExtensionDecided {
        approved: bool,
        paused_ms: i64,
        completion_due: Timestamp,
        warn_at: Timestamp,
    },
    /// 督办, manual or raised by the SLA sweep on a breach.
    Escalated {
        escalation: EscalationKind,
        automatic: bool,
        /// For a whistle breach: which co-handler.
        unit: Option<String>,
    },
    /// 回访
    CallbackRecorded {
        reached: bool,
        resolved: Option<bool>,
        satisfaction: Option<Satisfaction>,
        note: String,
    },
    /// 重办: back to the unit with new deadlines.
    Reopened {
        unit: String,
        response_due: Timestamp,
        completion_due: Timestamp,
        warn_at: Timestamp,
    },
    /// 并单: this request is merged into `master`.
    MergedInto { master: RequestId },
    /// 并单: `child` was merged into this request.
    MergeReceived { child: RequestId },
    /// 吹哨: the lead street calls departments in.
    Whistled { targets: Vec<WhistleTarget> },
    /// 报到: a whistled department reports.
    Reported { unit: String, note: String },
    /// 挂账
    Suspended,
    /// 办结
    Closed {
        outcome: CloseOutcome,
        special: Option<SpecialHandling>,
        answer: Option<String>,
    },
    /// The caller rated the outcome in the citizen portal.
    CitizenRated {
        satisfaction: Satisfaction,
        comment: String,
    },
}

impl EventKind {
    /// The stable name stored in the `kind` column.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Received { .. } => "received",
            EventKind::Dispatched { .. } => "dispatched",
            EventKind::Returned { .. } => "returned",
            EventKind::Accepted { .. } => "accepted",
            EventKind::Contacted { .. } => "contacted",
            EventKind::Replied { .. } => "replied",
            EventKind::ExtensionRequested { .. } => "extension_requested",
            EventKind::ExtensionDecided { .. } => "extension_decided",
            EventKind::Escalated { .. } => "escalated",
            EventKind::CallbackRecorded { .. } => "callback_recorded",
            EventKind::Reopened { .. } => "reopened",
            EventKind::MergedInto { .. } => "merged_into",
            EventKind::MergeReceived { .. } => "merge_received",
            EventKind::Whistled { .. } => "whistled",
            EventKind::Reported { .. } => "reported",
            EventKind::Suspended => "suspended",
            EventKind::Closed { .. } => "closed",
            EventKind::CitizenRated { .. } => "citizen_rated",
        }
    }

    pub fn label_zh(&self) -> &'static str {
        match self {
            EventKind::Received { .. } => "受理",
            EventKind::Dispatched { overrule: true, .. } => "退单驳回",
            EventKind::Dispatched { .. } => "派单",
            EventKind::Returned { .. } => "退单",
            EventKind::Accepted { .. } => "签收",
            EventKind::Contacted { .. } => "联系诉求人",
            EventKind::Replied { .. } => "答复",
            EventKind::ExtensionRequested { .. } => "申请延期",
            EventKind::ExtensionDecided { approved: true, .. } => "延期批准",
            EventKind::ExtensionDecided { .. } => "延期驳回",
            EventKind::Escalated { .. } => "督办",
            EventKind::CallbackRecorded { .. } => "回访",
            EventKind::Reopened { .. } => "重办",
            EventKind::MergedInto { .. } => "并单",
            EventKind::MergeReceived { .. } => "并入诉求",
            EventKind::Whistled { .. } => "吹哨",
            EventKind::Reported { .. } => "报到",
            EventKind::Suspended => "挂账",
            EventKind::Closed { .. } => "办结",
            EventKind::CitizenRated { .. } => "市民评价",
        }
    }
}

/// One entry of the append-only log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// 1-based position in this request's log; unique per request, which is what serialises
    /// concurrent writers.
    pub seq: i64,
    pub at: Timestamp,
    pub actor: Actor,
    pub reason: Option<String>,
    pub kind: EventKind,
}

/// An event the domain decided on, before the store stamps it with seq, time and actor.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub kind: EventKind,
    pub reason: Option<String>,
}

impl NewEvent {
    pub fn new(kind: EventKind) -> Self {
        NewEvent { kind, reason: None }
    }
    pub fn because(kind: EventKind, reason: impl Into<String>) -> Self {
        NewEvent {
            kind,
            reason: Some(reason.into()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingExtension {
    pub requested_at: Timestamp,
    pub working_days: u32,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackResult {
    pub at: Timestamp,
    pub reached: bool,
    pub resolved: Option<bool>,
    pub satisfaction: Option<Satisfaction>,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnInfo {
    pub unit: String,
    pub at: Timestamp,
    pub reason: Option<String>,
}

/// A request as its events have made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestState {
    pub id: RequestId,
    pub tracking_code: String,
    pub status: Status,
    pub intake: Intake,
    pub lead_unit: Option<String>,
    pub sla_class: Option<String>,
    pub dispatched_at: Option<Timestamp>,
    pub direct_dispatch: bool,
    pub accepted_at: Option<Timestamp>,
    pub first_contact_at: Option<Timestamp>,
    pub replied_at: Option<Timestamp>,
    pub reply: Option<String>,
    pub response_due: Option<Timestamp>,
    pub completion_due: Option<Timestamp>,
    pub warn_at: Option<Timestamp>,
    pub response_overdue: bool,
    pub completion_overdue: bool,
    pub escalation_level: u32,
    pub extension: Option<PendingExtension>,
    pub extensions_granted: u32,
    pub returns: u32,
    pub last_return: Option<ReturnInfo>,
    pub co_handlers: Vec<CoHandler>,
    pub callback: Option<CallbackResult>,
    pub callback_attempts: u32,
    pub reopen_count: u32,
    pub merged_into: Option<RequestId>,
    pub merged_children: Vec<RequestId>,
    pub suspended_reason: Option<String>,
    pub closed_at: Option<Timestamp>,
    pub close_outcome: Option<CloseOutcome>,
    pub special: Option<SpecialHandling>,
    pub answer: Option<String>,
    /// The caller's own rating from the portal (absent in states stored before it existed).
    #[serde(default)]
    pub citizen_rating: Option<Satisfaction>,
    /// Seq of the last applied event.
    pub version: i64,
    pub updated_at: Timestamp,
}

/// The log is malformed (first event not `Received`, or out of order). Only a corrupted
/// database can produce this.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("corrupt event log for request {id}: {message}")]
pub struct CorruptLog {
    pub id: RequestId,
    pub message: String,
}

impl RequestState {
    /// A new request from its `Received` event.
    pub fn new(id: RequestId, tracking_code: String, intake: Intake, at: Timestamp) -> Self {
        RequestState {
            id,
            tracking_code,
            status: Status::Received,
            intake,
            lead_unit: None,
            sla_class: None,
            dispatched_at: None,
            direct_dispatch: false,
            accepted_at: None,
            first_contact_at: None,
            replied_at: None,
            reply: None,
            response_due: None,
            completion_due: None,
            warn_at: None,
            response_overdue: false,
            completion_overdue: false,
            escalation_level: 0,
            extension: None,
            extensions_granted: 0,
            returns: 0,
            last_return: None,
            co_handlers: Vec::new(),
            callback: None,
            callback_attempts: 0,
            reopen_count: 0,
            merged_into: None,
            merged_children: Vec::new(),
            suspended_reason: None,
            closed_at: None,
            close_outcome: None,
            special: None,
            answer: None,
            citizen_rating: None,
            version: 1,
            updated_at: at,
        }
    }

    /// Replays a whole log.
    pub fn replay(
        id: RequestId,
        tracking_code: String,
        events: &[Event],
    ) -> Result<Self, CorruptLog> {
        let corrupt = |m: &str| CorruptLog {
            id,
            message: m.into(),
        };
        let (first, rest) = events.split_first().ok_or_else(|| corrupt("empty"))?;
        let EventKind::Received { intake } = &first.kind else {
            return Err(corrupt("first event is not `received`"));
        };
        let mut st = RequestState::new(id, tracking_code, intake.clone(), first.at);
        for e in rest {
            if e.seq != st.version + 1 {
                return Err(corrupt("sequence gap"));
            }
            st.apply(e);
        }
        Ok(st)
    }

    /// Applies one event. Decisions were made before the event was written, so this never
    /// refuses: it only records.
    pub fn apply(&mut self, e: &Event) {
        self.version = e.seq;
        self.updated_at = e.at;
        match &e.kind {
            EventKind::Received { .. } => {}
            EventKind::Dispatched {
                unit,
                sla_class,
                response_due,
                completion_due,
                warn_at,
                direct,
                overrule,
            } => {
                self.status = Status::Dispatched;
                if !overrule {
                    self.accepted_at = None;
                    self.first_contact_at = None;
                    self.response_overdue = false;
                    self.completion_overdue = false;
                }
                self.lead_unit = Some(unit.clone());
                self.sla_class = Some(sla_class.clone());
                self.dispatched_at.get_or_insert(e.at);
                if !overrule {
                    self.dispatched_at = Some(e.at);
                }
                self.response_due = Some(*response_due);
                self.completion_due = Some(*completion_due);
                self.warn_at = Some(*warn_at);
                self.direct_dispatch = *direct;
            }
            EventKind::Returned { unit } => {
                self.status = Status::Returned;
                self.returns += 1;
                self.last_return = Some(ReturnInfo {
                    unit: unit.clone(),
                    at: e.at,
                    reason: e.reason.clone(),
                });
            }
            EventKind::Accepted { .. } => {
                self.status = Status::Accepted;
                self.accepted_at = Some(e.at);
            }
            EventKind::Contacted { .. } => {
                if self.status == Status::Accepted {
                    self.status = Status::InProgress;
                }
                self.first_contact_at.get_or_insert(e.at);
            }
            EventKind::Replied { text } => {
                self.status = Status::Replied;
                self.replied_at = Some(e.at);
                self.reply = Some(text.clone());
                self.extension = None;
            }
            EventKind::ExtensionRequested { working_days } => {
                self.extension = Some(PendingExtension {
                    requested_at: e.at,
                    working_days: *working_days,
                    reason: e.reason.clone(),
                });
            }
            EventKind::ExtensionDecided {
                approved,
                completion_due,
                warn_at,
                ..
            } => {
                self.extension = None;
                if *approved {
                    self.extensions_granted += 1;
                }
                self.completion_due = Some(*completion_due);
                self.warn_at = Some(*warn_at);
            }
            EventKind::Escalated {
                escalation, unit, ..
            } => {
                self.escalation_level += 1;
                match escalation {
                    EscalationKind::ResponseOverdue => self.response_overdue = true,
                    EscalationKind::CompletionOverdue => self.completion_overdue = true,
                    EscalationKind::WhistleOverdue => {
                        if let Some(c) = self
                            .co_handlers
                            .iter_mut()
                            .find(|c| Some(&c.unit) == unit.as_ref())
                        {
                            c.overdue = true;
                        }
                    }
                    EscalationKind::Manual => {}
                }
            }
            EventKind::CallbackRecorded {
                reached,
                resolved,
                satisfaction,
                note,
            } => {
                self.status = Status::CalledBack;
                self.callback_attempts += 1;
                self.callback = Some(CallbackResult {
                    at: e.at,
                    reached: *reached,
                    resolved: *resolved,
                    satisfaction: *satisfaction,
                    note: note.clone(),
                });
            }
            EventKind::Reopened {
                unit,
                response_due,
                completion_due,
                warn_at,
            } => {
                self.status = Status::Dispatched;
                self.reopen_count += 1;
                self.lead_unit = Some(unit.clone());
                self.dispatched_at = Some(e.at);
                self.accepted_at = None;
                self.first_contact_at = None;
                self.replied_at = None;
                self.reply = None;
                self.callback = None;
                self.callback_attempts = 0;
                self.closed_at = None;
                self.close_outcome = None;
                self.response_due = Some(*response_due);
                self.completion_due = Some(*completion_due);
                self.warn_at = Some(*warn_at);
                // A new cycle has new deadlines, each of which may be breached once.
                self.response_overdue = false;
                self.completion_overdue = false;
            }
            EventKind::MergedInto { master } => {
                self.status = Status::Merged;
                self.merged_into = Some(*master);
                self.closed_at = Some(e.at);
            }
            EventKind::MergeReceived { child } => {
                self.merged_children.push(*child);
            }
            EventKind::Whistled { targets } => {
                for t in targets {
                    self.co_handlers.push(CoHandler {
                        unit: t.unit.clone(),
                        whistled_at: e.at,
                        response_due: t.response_due,
                        reported_at: None,
                        overdue: false,
                    });
                }
            }
            EventKind::Reported { unit, .. } => {
                if let Some(c) = self.co_handlers.iter_mut().find(|c| &c.unit == unit) {
                    c.reported_at = Some(e.at);
                }
            }
            EventKind::Suspended => {
                self.status = Status::Suspended;
                self.suspended_reason = e.reason.clone();
                self.extension = None;
            }
            EventKind::Closed {
                outcome,
                special,
                answer,
            } => {
                self.status = Status::Closed;
                self.closed_at = Some(e.at);
                self.close_outcome = Some(*outcome);
                self.special = *special;
                self.answer = answer.clone();
            }
            EventKind::CitizenRated { satisfaction, .. } => {
                self.citizen_rating = Some(*satisfaction);
            }
        }
    }

    /// Whether the response (签收 and first contact) is still owed.
    pub fn response_pending(&self) -> bool {
        self.status.is_in_handling()
            && (self.accepted_at.is_none() || self.first_contact_at.is_none())
    }

    /// Whether the completion clock runs now (not paused by a pending extension).
    pub fn completion_clock_running(&self) -> bool {
        self.status.is_in_handling() && self.extension.is_none()
    }

    /// Whether `unit` is the lead or a co-handler.
    pub fn involves_unit(&self, unit: &str) -> bool {
        self.lead_unit.as_deref() == Some(unit) || self.co_handlers.iter().any(|c| c.unit == unit)
    }
}
