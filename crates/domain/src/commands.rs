//! What people ask the engine to do, and the rules that decide whether they may.
//!
//! `decide` is pure: given the request's state, the actor, the command, the world and the time,
//! it returns the events to append or a refusal. Nothing changes on a refusal.

use crate::directory::Directory;
use crate::error::DomainError;
use crate::lifecycle::*;
use crate::model::*;
use jiesu_world::{Span, UnitKind};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// Longest free text a reason, note or reply may carry.
pub const MAX_NOTE_CHARS: usize = 5000;

/// One action on an existing request (`POST /requests/{id}/{action}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Command {
    /// 派单 to a unit; dispatching a returned request back to the same unit overrules the 退单.
    Dispatch {
        unit: String,
        reason: Option<String>,
    },
    /// 签收
    Accept,
    /// Contact with the caller (Art.15).
    Contact {
        method: ContactMethod,
        reached: bool,
        note: Option<String>,
    },
    /// 答复
    Reply { text: String },
    /// 退单
    Return { reason: String },
    /// 延期 request
    Extend { working_days: u32, reason: String },
    /// 延期 decision
    DecideExtension {
        approve: bool,
        reason: Option<String>,
    },
    /// 督办 by hand
    Escalate { reason: String },
    /// 回访
    Callback {
        reached: bool,
        resolved: Option<bool>,
        satisfaction: Option<Satisfaction>,
        note: Option<String>,
    },
    /// 重办
    Reopen { reason: String },
    /// 吹哨
    Whistle { units: Vec<String>, reason: String },
    /// 报到
    Report { note: Option<String> },
    /// 挂账
    Suspend { reason: String },
    /// 办结
    Close {
        special: Option<SpecialHandling>,
        answer: Option<String>,
        reason: Option<String>,
    },
    /// The caller's own rating of the outcome, once, from the citizen portal. Recorded beside
    /// the callback; 满意率 still comes from the callback (docs/assessment.md).
    Rate {
        satisfaction: Satisfaction,
        comment: Option<String>,
    },
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Dispatch { .. } => "dispatch",
            Command::Accept => "accept",
            Command::Contact { .. } => "contact",
            Command::Reply { .. } => "reply",
            Command::Return { .. } => "return",
            Command::Extend { .. } => "extend",
            Command::DecideExtension { .. } => "decide-extension",
            Command::Escalate { .. } => "escalate",
            Command::Callback { .. } => "callback",
            Command::Reopen { .. } => "reopen",
            Command::Whistle { .. } => "whistle",
            Command::Report { .. } => "report",
            Command::Suspend { .. } => "suspend",
            Command::Close { .. } => "close",
            Command::Rate { .. } => "rate",
        }
    }
}

/// The world and the time a decision is made in.
pub struct Ctx<'a> {
    pub dir: &'a Directory,
    pub now: Timestamp,
}

fn require_role(actor: &Actor, allowed: &[Role], what: &str) -> Result<(), DomainError> {
    // No role passes implicitly: an admin administers and does not handle cases (separation
    // of duties); the roles each command names are the whole rule.
    if allowed.contains(&actor.role) {
        Ok(())
    } else {
        let names: Vec<&str> = allowed.iter().map(|r| r.label_zh()).collect();
        Err(DomainError::forbidden(format!(
            "{what}: only {} may do this, not {}",
            names.join("/"),
            actor.role.label_zh()
        )))
    }
}

fn require_status(st: &RequestState, allowed: &[Status], what: &str) -> Result<(), DomainError> {
    if allowed.contains(&st.status) {
        Ok(())
    } else {
        let names: Vec<&str> = allowed.iter().map(|s| s.label_zh()).collect();
        Err(DomainError::refused(
            "illegal_transition",
            format!(
                "{what} is not possible while the request is {} ({}); allowed in: {}",
                st.status.label_zh(),
                st.status.as_str(),
                names.join("、")
            ),
        ))
    }
}

/// The handler must belong to the lead unit.
fn require_lead_handler(actor: &Actor, st: &RequestState, what: &str) -> Result<(), DomainError> {
    require_role(actor, &[Role::Handler], what)?;
    if actor.unit.is_some() && actor.unit == st.lead_unit {
        Ok(())
    } else {
        Err(DomainError::forbidden(format!(
            "{what}: only the lead unit may do this"
        )))
    }
}

/// Trimmed, non-empty, bounded free text.
pub fn required_text(field: &str, value: &str) -> Result<String, DomainError> {
    required_text_up_to(field, value, MAX_NOTE_CHARS)
}

/// [`required_text`] with its own bound (a request's text is longer than a note).
pub fn required_text_up_to(field: &str, value: &str, max: usize) -> Result<String, DomainError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(DomainError::invalid(field, "required", "must not be empty"));
    }
    bounded_text(field, v, max)
}

pub fn optional_text(field: &str, value: &Option<String>) -> Result<Option<String>, DomainError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => bounded_text(field, v, MAX_NOTE_CHARS).map(Some),
    }
}

fn bounded_text(field: &str, v: &str, max: usize) -> Result<String, DomainError> {
    if v.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            "too_long",
            format!("at most {max} characters"),
        ));
    }
    if v.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(DomainError::invalid(
            field,
            "control_characters",
            "contains control characters",
        ));
    }
    Ok(v.to_string())
}

/// The SLA class a request falls in: urgent → the emergency class; else the category's; else the
/// default.
pub fn sla_class_for<'a>(dir: &'a Directory, intake: &Intake) -> &'a jiesu_world::SlaClass {
    let policy = &dir.world.sla;
    let code = if intake.urgent {
        Some(policy.emergency_class.as_str())
    } else {
        intake
            .category
            .as_deref()
            .and_then(|c| dir.category(c))
            .and_then(|c| c.sla_class.as_deref())
    };
    code.and_then(|c| dir.sla_class(c))
        .or_else(|| dir.sla_class(&policy.default_class))
        // The world validator guarantees the default class exists; a fallback keeps a broken
        // config from panicking.
        .unwrap_or(&FALLBACK_CLASS)
}

static FALLBACK_CLASS: jiesu_world::SlaClass = jiesu_world::SlaClass {
    code: String::new(),
    name: String::new(),
    response: Span::WorkingDays(1),
    completion: Span::WorkingDays(7),
};

/// The instant `ratio` of the way from `start` to `due`.
pub fn warn_instant(start: Timestamp, due: Timestamp, ratio: f64) -> Timestamp {
    let total = due.as_millisecond().saturating_sub(start.as_millisecond());
    let ratio = if ratio.is_finite() {
        ratio.clamp(0.0, 1.0)
    } else {
        0.8
    };
    let off = (total as f64 * ratio) as i64;
    Timestamp::from_millisecond(start.as_millisecond().saturating_add(off)).unwrap_or(due)
}

/// Fresh deadlines for a (re)dispatch at `now`.
fn deadlines(ctx: &Ctx, st: &RequestState) -> (String, Timestamp, Timestamp, Timestamp) {
    let class = sla_class_for(ctx.dir, &st.intake);
    let cal = &ctx.dir.calendar;
    let response_due = cal.due(ctx.now, class.response);
    let completion_due = cal.due(ctx.now, class.completion).max(response_due);
    let warn_at = warn_instant(ctx.now, completion_due, ctx.dir.world.sla.warning_ratio);
    (class.code.clone(), response_due, completion_due, warn_at)
}

/// Decides an action on one request.
pub fn decide(
    st: &RequestState,
    actor: &Actor,
    cmd: &Command,
    ctx: &Ctx,
) -> Result<Vec<NewEvent>, DomainError> {
    use Status::*;
    let name = cmd.name();
    match cmd {
        Command::Dispatch { unit, reason } => {
            require_role(actor, &[Role::Dispatcher, Role::Operator], name)?;
            if actor.role == Role::Operator {
                require_status(st, &[Received], name)?;
            } else {
                require_status(st, &[Received, Returned, Dispatched], name)?;
            }
            let u = ctx.dir.unit(unit).ok_or_else(|| {
                DomainError::invalid("unit", "unknown_unit", format!("unknown unit `{unit}`"))
            })?;
            let reason = optional_text("reason", reason)?;
            let overrule = st.status == Returned
                && st.last_return.as_ref().map(|r| r.unit.as_str()) == Some(unit.as_str());
            if overrule && reason.is_none() {
                return Err(DomainError::invalid(
                    "reason",
                    "required",
                    "overruling a 退单 needs a reason",
                ));
            }
            if st.status == Dispatched && st.lead_unit.as_deref() == Some(unit.as_str()) {
                return Err(DomainError::refused(
                    "already_dispatched",
                    "the request is already dispatched to this unit",
                ));
            }
            let (sla_class, response_due, completion_due, warn_at) =
                match (overrule, st.response_due, st.completion_due, st.warn_at) {
                    (true, Some(r), Some(c), Some(w)) => {
                        (st.sla_class.clone().unwrap_or_default(), r, c, w)
                    }
                    _ => deadlines(ctx, st),
                };
            Ok(vec![NewEvent {
                kind: EventKind::Dispatched {
                    unit: u.code.clone(),
                    sla_class,
                    response_due,
                    completion_due,
                    warn_at,
                    direct: u.kind == UnitKind::Street,
                    overrule,
                },
                reason,
            }])
        }
        Command::Accept => {
            require_status(st, &[Dispatched], name)?;
            require_lead_handler(actor, st, name)?;
            Ok(vec![NewEvent::new(EventKind::Accepted {
                unit: st.lead_unit.clone().unwrap_or_default(),
            })])
        }
        Command::Contact {
            method,
            reached,
            note,
        } => {
            require_status(st, &[Accepted, InProgress, Suspended], name)?;
            require_lead_handler(actor, st, name)?;
            Ok(vec![NewEvent::new(EventKind::Contacted {
                method: *method,
                reached: *reached,
                note: optional_text("note", note)?.unwrap_or_default(),
            })])
        }
        Command::Reply { text } => {
            require_status(st, &[Accepted, InProgress, Suspended], name)?;
            require_lead_handler(actor, st, name)?;
            if st.first_contact_at.is_none() {
                return Err(DomainError::refused(
                    "contact_required",
                    "contact the caller before replying (条例 Art.15)",
                ));
            }
            Ok(vec![NewEvent::new(EventKind::Replied {
                text: required_text("text", text)?,
            })])
        }
        Command::Return { reason } => {
            require_status(st, &[Dispatched, Accepted], name)?;
            require_lead_handler(actor, st, name)?;
            Ok(vec![NewEvent::because(
                EventKind::Returned {
                    unit: st.lead_unit.clone().unwrap_or_default(),
                },
                required_text("reason", reason)?,
            )])
        }
        Command::Extend {
            working_days,
            reason,
        } => {
            require_status(st, &[Accepted, InProgress], name)?;
            require_lead_handler(actor, st, name)?;
            if st.extension.is_some() {
                return Err(DomainError::refused(
                    "extension_pending",
                    "an extension request is already waiting for a decision",
                ));
            }
            let max = match ctx.dir.world.sla.max_extension {
                Span::WorkingDays(n) => n,
                Span::Hours(h) => h / 24,
            };
            if *working_days == 0 || *working_days > max {
                return Err(DomainError::invalid(
                    "working_days",
                    "out_of_range",
                    format!("must be between 1 and {max}"),
                ));
            }
            Ok(vec![NewEvent::because(
                EventKind::ExtensionRequested {
                    working_days: *working_days,
                },
                required_text("reason", reason)?,
            )])
        }
        Command::DecideExtension { approve, reason } => {
            require_role(actor, &[Role::Dispatcher, Role::Supervisor], name)?;
            let Some(pending) = &st.extension else {
                return Err(DomainError::refused(
                    "no_extension_pending",
                    "there is no extension request to decide",
                ));
            };
            let reason = optional_text("reason", reason)?;
            if !approve && reason.is_none() {
                return Err(DomainError::invalid(
                    "reason",
                    "required",
                    "refusing an extension needs a reason",
                ));
            }
            let paused_ms =
                (ctx.now.as_millisecond() - pending.requested_at.as_millisecond()).max(0);
            let paused = SignedDuration::from_millis(paused_ms);
            let due = st.completion_due.unwrap_or(ctx.now);
            let shifted = crate::calendar::add(due, paused);
            let completion_due = if *approve {
                ctx.dir.calendar.extend(shifted, pending.working_days)
            } else {
                shifted
            };
            let start = st.dispatched_at.unwrap_or(st.intake.received_at);
            let warn_at = warn_instant(start, completion_due, ctx.dir.world.sla.warning_ratio);
            Ok(vec![NewEvent {
                kind: EventKind::ExtensionDecided {
                    approved: *approve,
                    paused_ms,
                    completion_due,
                    warn_at,
                },
                reason,
            }])
        }
        Command::Escalate { reason } => {
            require_role(actor, &[Role::Dispatcher, Role::Supervisor], name)?;
            if st.status.is_terminal() {
                return Err(DomainError::refused(
                    "illegal_transition",
                    format!("a {} request cannot be escalated", st.status.label_zh()),
                ));
            }
            Ok(vec![NewEvent::because(
                EventKind::Escalated {
                    escalation: EscalationKind::Manual,
                    automatic: false,
                    unit: None,
                },
                required_text("reason", reason)?,
            )])
        }
        Command::Callback {
            reached,
            resolved,
            satisfaction,
            note,
        } => {
            require_role(actor, &[Role::Callback], name)?;
            let overdue_unreplied = st.status.is_in_handling()
                && st.completion_due.is_some_and(|d| d <= ctx.now)
                && st.extension.is_none();
            let retry = st.status == CalledBack && st.callback.as_ref().is_some_and(|c| !c.reached);
            if !(st.status == Replied || retry || overdue_unreplied) {
                return Err(DomainError::refused(
                    "illegal_transition",
                    format!(
                        "回访 is possible after the reply, after an unreached attempt, or once the deadline has passed (条例 Art.23); the request is {}",
                        st.status.label_zh()
                    ),
                ));
            }
            let (resolved, satisfaction) = if *reached {
                let r = resolved.ok_or_else(|| {
                    DomainError::invalid("resolved", "required", "say whether it was resolved")
                })?;
                let s = satisfaction.ok_or_else(|| {
                    DomainError::invalid("satisfaction", "required", "record the satisfaction")
                })?;
                (Some(r), Some(s))
            } else {
                if resolved.is_some() || satisfaction.is_some() {
                    return Err(DomainError::invalid(
                        "reached",
                        "inconsistent",
                        "an unreached caller cannot give a result",
                    ));
                }
                (None, None)
            };
            Ok(vec![NewEvent::new(EventKind::CallbackRecorded {
                reached: *reached,
                resolved,
                satisfaction,
                note: optional_text("note", note)?.unwrap_or_default(),
            })])
        }
        Command::Reopen { reason } => {
            require_role(actor, &[Role::Callback, Role::Dispatcher], name)?;
            require_status(st, &[CalledBack, Closed], name)?;
            if st.close_outcome == Some(CloseOutcome::Special)
                || st.close_outcome == Some(CloseOutcome::Answered)
            {
                return Err(DomainError::refused(
                    "illegal_transition",
                    "a request closed at intake was never dispatched; file a new one",
                ));
            }
            let unit = st.lead_unit.clone().ok_or_else(|| {
                DomainError::refused("illegal_transition", "the request has no unit to return to")
            })?;
            let (_, response_due, completion_due, warn_at) = deadlines(ctx, st);
            Ok(vec![NewEvent::because(
                EventKind::Reopened {
                    unit,
                    response_due,
                    completion_due,
                    warn_at,
                },
                required_text("reason", reason)?,
            )])
        }
        Command::Whistle { units, reason } => {
            require_status(st, &[Accepted, InProgress], name)?;
            require_lead_handler(actor, st, name)?;
            let lead_is_street = st
                .lead_unit
                .as_deref()
                .and_then(|u| ctx.dir.unit(u))
                .is_some_and(|u| u.kind == UnitKind::Street);
            if !lead_is_street {
                return Err(DomainError::refused(
                    "whistle_street_only",
                    "only a street office leading the request may whistle (吹哨报到)",
                ));
            }
            if units.is_empty() {
                return Err(DomainError::invalid(
                    "units",
                    "required",
                    "name at least one unit",
                ));
            }
            let reason = required_text("reason", reason)?;
            let due = ctx
                .dir
                .calendar
                .due(ctx.now, ctx.dir.world.sla.whistle_response);
            let mut targets: Vec<WhistleTarget> = Vec::new();
            for code in units {
                let u = ctx.dir.unit(code).ok_or_else(|| {
                    DomainError::invalid("units", "unknown_unit", format!("unknown unit `{code}`"))
                })?;
                if st.involves_unit(code) || targets.iter().any(|t| &t.unit == code) {
                    return Err(DomainError::invalid(
                        "units",
                        "already_involved",
                        format!("{} is already handling this request", u.name),
                    ));
                }
                if u.kind == UnitKind::Street {
                    return Err(DomainError::invalid(
                        "units",
                        "not_a_department",
                        format!("{} is a street office; whistle departments", u.name),
                    ));
                }
                targets.push(WhistleTarget {
                    unit: code.clone(),
                    response_due: due,
                });
            }
            Ok(vec![NewEvent::because(
                EventKind::Whistled { targets },
                reason,
            )])
        }
        Command::Report { note } => {
            require_role(actor, &[Role::Handler], name)?;
            if st.status.is_terminal() {
                return Err(DomainError::refused(
                    "illegal_transition",
                    "the request is already finished",
                ));
            }
            let unit = actor.unit.clone().unwrap_or_default();
            let Some(c) = st.co_handlers.iter().find(|c| c.unit == unit) else {
                return Err(DomainError::forbidden(
                    "报到: only a unit called in by 吹哨 may report",
                ));
            };
            if c.reported_at.is_some() {
                return Err(DomainError::refused(
                    "already_reported",
                    "this unit has already reported",
                ));
            }
            Ok(vec![NewEvent::new(EventKind::Reported {
                unit,
                note: optional_text("note", note)?.unwrap_or_default(),
            })])
        }
        Command::Suspend { reason } => {
            require_role(actor, &[Role::Dispatcher, Role::Supervisor], name)?;
            require_status(st, &[Accepted, InProgress], name)?;
            Ok(vec![NewEvent::because(
                EventKind::Suspended,
                required_text("reason", reason)?,
            )])
        }
        Command::Close {
            special,
            answer,
            reason,
        } => decide_close(st, actor, *special, answer, reason),
        Command::Rate {
            satisfaction,
            comment,
        } => {
            if actor.role != Role::Citizen {
                return Err(DomainError::forbidden(
                    "rate: only the caller rates, from the citizen portal",
                ));
            }
            require_status(st, &[Replied, CalledBack, Closed], name)?;
            if st.citizen_rating.is_some() {
                return Err(DomainError::refused(
                    "already_rated",
                    "this request has already been rated",
                ));
            }
            Ok(vec![NewEvent::new(EventKind::CitizenRated {
                satisfaction: *satisfaction,
                comment: optional_text("comment", comment)?.unwrap_or_default(),
            })])
        }
    }
}

fn decide_close(
    st: &RequestState,
    actor: &Actor,
    special: Option<SpecialHandling>,
    answer: &Option<String>,
    reason: &Option<String>,
) -> Result<Vec<NewEvent>, DomainError> {
    use Status::*;
    let reason = optional_text("reason", reason)?;
    let answer = optional_text("answer", answer)?;
    let outcome = match st.status {
        Received | Returned => {
            require_role(actor, &[Role::Operator, Role::Dispatcher], "close")?;
            match (special, &answer) {
                (Some(_), _) => CloseOutcome::Special,
                (None, Some(_)) if st.intake.request_type == RequestType::Consultation => {
                    CloseOutcome::Answered
                }
                (None, Some(_)) => {
                    return Err(DomainError::invalid(
                        "answer",
                        "not_consultation",
                        "only a 咨询 can be answered on the spot; dispatch the others",
                    ));
                }
                (None, None) => {
                    return Err(DomainError::invalid(
                        "special",
                        "required",
                        "closing at intake needs an answer (咨询) or a special handling (Art.11)",
                    ));
                }
            }
        }
        CalledBack => {
            require_role(actor, &[Role::Callback, Role::Dispatcher], "close")?;
            match &st.callback {
                Some(c) if c.reached && c.resolved == Some(true) => CloseOutcome::Resolved,
                Some(c) if c.reached => CloseOutcome::Unresolved,
                _ => CloseOutcome::Unreachable,
            }
        }
        Replied => {
            require_role(actor, &[Role::Callback, Role::Dispatcher], "close")?;
            if !matches!(
                st.intake.request_type,
                RequestType::Praise | RequestType::Suggestion | RequestType::Consultation
            ) {
                return Err(DomainError::refused(
                    "callback_required",
                    "a reply must be called back (回访) before the request is closed",
                ));
            }
            CloseOutcome::Resolved
        }
        Suspended => {
            require_role(actor, &[Role::Dispatcher, Role::Supervisor], "close")?;
            CloseOutcome::LongTerm
        }
        _ => {
            return Err(DomainError::refused(
                "illegal_transition",
                format!(
                    "close is not possible while the request is {} ({})",
                    st.status.label_zh(),
                    st.status.as_str()
                ),
            ));
        }
    };
    if special.is_some() && outcome != CloseOutcome::Special {
        return Err(DomainError::invalid(
            "special",
            "not_at_intake",
            "special handling (Art.11) applies at intake only",
        ));
    }
    Ok(vec![NewEvent {
        kind: EventKind::Closed {
            outcome,
            special,
            answer,
        },
        reason,
    }])
}

/// 并单: the events for the child and for the master.
pub fn decide_merge(
    child: &RequestState,
    master: &RequestState,
    actor: &Actor,
) -> Result<(NewEvent, NewEvent), DomainError> {
    use Status::*;
    require_role(actor, &[Role::Dispatcher], "merge")?;
    require_status(
        child,
        &[Received, Dispatched, Returned, Accepted, InProgress],
        "merge",
    )?;
    if child.id == master.id {
        return Err(DomainError::invalid(
            "master_id",
            "self_merge",
            "a request cannot be merged into itself",
        ));
    }
    if matches!(master.status, Merged | Closed) {
        return Err(DomainError::invalid(
            "master_id",
            "master_finished",
            format!("the master request is {}", master.status.label_zh()),
        ));
    }
    if !child.merged_children.is_empty() {
        return Err(DomainError::refused(
            "has_children",
            "this request is itself a master; merge the other way",
        ));
    }
    Ok((
        NewEvent::new(EventKind::MergedInto { master: master.id }),
        NewEvent::new(EventKind::MergeReceived { child: child.id }),
    ))
}

/// The SLA sweep: breaches not yet flagged become automatic 督办 events — at most once per
/// deadline, because the flag they set is checked here.
pub fn sla_breaches(st: &RequestState, now: Timestamp) -> Vec<NewEvent> {
    let mut out = Vec::new();
    let auto = |escalation, unit: Option<String>| {
        NewEvent::because(
            EventKind::Escalated {
                escalation,
                automatic: true,
                unit,
            },
            "deadline passed",
        )
    };
    if st.response_pending() && !st.response_overdue && st.response_due.is_some_and(|d| d < now) {
        out.push(auto(EscalationKind::ResponseOverdue, None));
    }
    if st.completion_clock_running()
        && !st.completion_overdue
        && st.completion_due.is_some_and(|d| d < now)
    {
        out.push(auto(EscalationKind::CompletionOverdue, None));
    }
    if !st.status.is_terminal() {
        for c in &st.co_handlers {
            if c.reported_at.is_none() && !c.overdue && c.response_due < now {
                out.push(auto(EscalationKind::WhistleOverdue, Some(c.unit.clone())));
            }
        }
    }
    out
}

/// Whether the actor may see the request at all (handlers: only their unit's).
pub fn can_see(actor: &Actor, st: &RequestState) -> bool {
    match actor.role {
        Role::Handler => actor.unit.as_deref().is_some_and(|u| st.involves_unit(u)),
        // A citizen actor exists only where the caller proved the request's tracking code (the
        // portal); what it may do is limited by the commands (it may only rate).
        Role::Citizen => true,
        _ => true,
    }
}
