//! 一键呼 alarms (issue 15, first part): the alarm as a kind of case on the one engine.
//!
//! raised → acknowledged (a desk operator takes it) → elder contacted (reached or not) →
//! responder dispatched (care manager, family, street duty officer, or a transfer to 120/999) →
//! on site → resolved with an outcome → closed. Two clocks run as engine timers, each step an
//! event fired once: until someone acknowledges, the street's escalation chain (data: after how
//! long, who is told); once acknowledged, nobody on site within the limit re-escalates, again
//! each limit, at most three times. The chain and limit are copied into the alarm when it is
//! raised, so editing a street's chain never changes an alarm in flight.

pub mod device;
pub mod kpi;
pub mod message;

use crate::case::{CaseEvent, CaseIndex, CaseKind, Decided};
use crate::commands::Ctx;
use crate::error::DomainError;
use crate::lifecycle::Actor;
use crate::model::{Role, vocabulary};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

vocabulary! {
    AlarmStatus {
        Raised = "raised" / "待接警",
        Acknowledged = "acknowledged" / "已接警",
        Contacted = "contacted" / "已联系",
        Dispatched = "dispatched" / "已派员",
        OnSite = "on_site" / "已到场",
        Resolved = "resolved" / "已处置",
        Closed = "closed" / "已关闭",
    }
}

vocabulary! {
    Responder {
        CareManager = "care_manager" / "照护管理师",
        Family = "family" / "家属",
        StreetDuty = "street_duty" / "街道值班",
        Transfer120 = "transfer_120" / "转120",
        Transfer999 = "transfer_999" / "转999",
    }
}

vocabulary! {
    Outcome {
        FalseAlarm = "false_alarm" / "误报",
        HelpedAtHome = "helped_at_home" / "居家处置",
        TakenToHospital = "taken_to_hospital" / "送医",
        NoAnswerSafe = "no_answer_safe" / "经核实平安",
        Deceased = "deceased" / "不幸离世",
        Other = "other" / "其他",
    }
}

/// One step of an escalation chain: `after` the alarm was raised (unacknowledged), tell `notify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub after_secs: i64,
    pub notify: Vec<String>,
}

/// A street's rules as data: the acknowledgement clock's chain and the on-site limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chain {
    pub steps: Vec<Step>,
    /// From acknowledgement to someone on site.
    pub on_site_secs: i64,
}

impl Default for Chain {
    /// 60 s to the desk supervisor, 180 s to the street's duty officer, 300 s to the 民政 office;
    /// 30 minutes to on site.
    fn default() -> Self {
        let step = |after_secs, who: &[&str]| Step {
            after_secs,
            notify: who.iter().map(|s| s.to_string()).collect(),
        };
        Chain {
            steps: vec![
                step(60, &["desk_supervisor"]),
                step(180, &["street_duty", "care_manager"]),
                step(300, &["care_admin"]),
            ],
            on_site_secs: 1800,
        }
    }
}

impl Chain {
    /// Steps strictly later one after another, 1 s to a day; an on-site limit of 1 min–1 day.
    pub fn check(&self) -> Result<(), DomainError> {
        if self.steps.is_empty() || self.steps.len() > 10 {
            return Err(DomainError::invalid("steps", "bad_chain", "1–10 steps"));
        }
        let mut last = 0;
        for (i, s) in self.steps.iter().enumerate() {
            if s.after_secs <= last || s.after_secs > 86_400 {
                return Err(DomainError::invalid(
                    &format!("steps[{i}].after_secs"),
                    "bad_chain",
                    "each step later than the one before, within a day",
                ));
            }
            if s.notify.is_empty() {
                return Err(DomainError::invalid(
                    &format!("steps[{i}].notify"),
                    "empty",
                    "name who is told",
                ));
            }
            last = s.after_secs;
        }
        if !(60..=86_400).contains(&self.on_site_secs) {
            return Err(DomainError::invalid(
                "on_site_secs",
                "bad_limit",
                "1 minute to a day",
            ));
        }
        Ok(())
    }
}

/// How many times a late on-site re-escalates.
pub const MAX_ON_SITE_ESCALATIONS: u8 = 3;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmState {
    pub id: i64,
    pub version: i64,
    pub status: AlarmStatus,
    pub device_id: String,
    /// The device's reference of this alarm (with the device: the dedupe key).
    pub reference: String,
    pub elder_id: Option<i64>,
    pub street: String,
    pub community: String,
    pub priority: u8,
    pub room: Option<String>,
    /// What the device reported (button, fall, smoke…).
    #[serde(default)]
    pub code: Option<message::AlarmCode>,
    /// When the button was pressed by the device's clock; `raised_at` is when jiesu stored it.
    #[serde(default)]
    pub pressed_at: Option<Timestamp>,
    pub raised_at: Timestamp,
    pub chain: Chain,
    /// Chain steps fired so far.
    pub escalations: u8,
    pub acknowledged_at: Option<Timestamp>,
    pub acknowledged_by: Option<String>,
    pub reached: Option<bool>,
    pub responder: Option<Responder>,
    pub on_site_at: Option<Timestamp>,
    pub on_site_escalations: u8,
    pub outcome: Option<Outcome>,
    pub request_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AlarmEvent {
    Raised {
        device_id: String,
        reference: String,
        elder_id: Option<i64>,
        street: String,
        community: String,
        priority: u8,
        room: Option<String>,
        chain: Chain,
        #[serde(default)]
        code: Option<message::AlarmCode>,
        #[serde(default)]
        pressed_at: Option<Timestamp>,
    },
    Escalated {
        step: u8,
        notify: Vec<String>,
    },
    Acknowledged,
    Contacted {
        reached: bool,
        note: String,
    },
    Dispatched {
        responder: Responder,
        note: String,
    },
    OnSiteOverdue {
        count: u8,
    },
    OnSite,
    Resolved {
        outcome: Outcome,
        note: String,
    },
    RequestLinked {
        request_id: i64,
    },
    Closed,
}

pub struct NewAlarm {
    pub device_id: String,
    pub reference: String,
    pub elder_id: Option<i64>,
    pub street: String,
    pub community: String,
    pub priority: u8,
    pub room: Option<String>,
    pub chain: Chain,
    pub code: Option<message::AlarmCode>,
    pub pressed_at: Option<Timestamp>,
}

pub enum AlarmCommand {
    Acknowledge,
    Contact { reached: bool, note: String },
    Dispatch { responder: Responder, note: String },
    OnSite,
    Resolve { outcome: Outcome, note: String },
    LinkRequest { request_id: i64 },
    Close,
}

/// Who works the alarm desk.
const DESK: &[Role] = &[
    Role::Operator,
    Role::Dispatcher,
    Role::CareAdmin,
    Role::CareManager,
];

fn at_most(field: &str, v: &str, max: usize) -> Result<(), DomainError> {
    if v.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            "too_long",
            format!("at most {max} characters"),
        ));
    }
    Ok(())
}

pub struct Alarm;

impl CaseKind for Alarm {
    const KIND: &'static str = "alarm";
    type State = AlarmState;
    type Event = AlarmEvent;
    type Command = AlarmCommand;
    type Create = NewAlarm;

    fn event_name(e: &AlarmEvent) -> &'static str {
        match e {
            AlarmEvent::Raised { .. } => "alarm.raised",
            AlarmEvent::Escalated { .. } => "alarm.escalated",
            AlarmEvent::Acknowledged => "alarm.acknowledged",
            AlarmEvent::Contacted { .. } => "alarm.contacted",
            AlarmEvent::Dispatched { .. } => "alarm.dispatched",
            AlarmEvent::OnSiteOverdue { .. } => "alarm.on_site_overdue",
            AlarmEvent::OnSite => "alarm.on_site",
            AlarmEvent::Resolved { .. } => "alarm.resolved",
            AlarmEvent::RequestLinked { .. } => "alarm.request_linked",
            AlarmEvent::Closed => "alarm.closed",
        }
    }

    fn initial(id: i64, now: Timestamp) -> AlarmState {
        AlarmState {
            id,
            version: 0,
            status: AlarmStatus::Raised,
            device_id: String::new(),
            reference: String::new(),
            elder_id: None,
            street: String::new(),
            community: String::new(),
            priority: 1,
            room: None,
            code: None,
            pressed_at: None,
            raised_at: now,
            chain: Chain::default(),
            escalations: 0,
            acknowledged_at: None,
            acknowledged_by: None,
            reached: None,
            responder: None,
            on_site_at: None,
            on_site_escalations: 0,
            outcome: None,
            request_id: None,
        }
    }

    fn create(
        n: &NewAlarm,
        actor: &Actor,
        _ctx: &Ctx<'_>,
    ) -> Result<Vec<Decided<AlarmEvent>>, DomainError> {
        if actor.role != Role::System {
            return Err(DomainError::forbidden("alarms are raised by devices"));
        }
        if n.device_id.trim().is_empty() || n.reference.trim().is_empty() {
            return Err(DomainError::invalid(
                "reference",
                "empty",
                "must not be empty",
            ));
        }
        if !(1..=9).contains(&n.priority) {
            return Err(DomainError::invalid(
                "priority",
                "bad_priority",
                "1 (highest) to 9",
            ));
        }
        n.chain.check()?;
        Ok(vec![(
            AlarmEvent::Raised {
                device_id: n.device_id.clone(),
                reference: n.reference.clone(),
                elder_id: n.elder_id,
                street: n.street.clone(),
                community: n.community.clone(),
                priority: n.priority,
                room: n.room.clone(),
                chain: n.chain.clone(),
                code: n.code,
                pressed_at: n.pressed_at,
            },
            None,
        )])
    }

    fn decide(
        st: &AlarmState,
        actor: &Actor,
        cmd: &AlarmCommand,
        _ctx: &Ctx<'_>,
    ) -> Result<Vec<Decided<AlarmEvent>>, DomainError> {
        use AlarmStatus as S;
        if !DESK.contains(&actor.role) {
            return Err(DomainError::forbidden(
                "the alarm desk: only 话务员、派单员、民政养老管理员、照护管理师 may do this",
            ));
        }
        let state = |allowed: &[AlarmStatus], what: &str| {
            if allowed.contains(&st.status) {
                Ok(())
            } else {
                Err(DomainError::refused(
                    "invalid_transition",
                    format!(
                        "{what} is not possible while the alarm is {}",
                        st.status.label_zh()
                    ),
                ))
            }
        };
        let one = |e: AlarmEvent| Ok(vec![(e, None)]);
        match cmd {
            AlarmCommand::Acknowledge => {
                state(&[S::Raised], "acknowledging")?;
                one(AlarmEvent::Acknowledged)
            }
            AlarmCommand::Contact { reached, note } => {
                state(&[S::Acknowledged, S::Contacted], "recording the contact")?;
                at_most("note", note, 500)?;
                one(AlarmEvent::Contacted {
                    reached: *reached,
                    note: note.trim().to_string(),
                })
            }
            AlarmCommand::Dispatch { responder, note } => {
                state(
                    &[S::Acknowledged, S::Contacted, S::Dispatched],
                    "dispatching",
                )?;
                at_most("note", note, 500)?;
                one(AlarmEvent::Dispatched {
                    responder: *responder,
                    note: note.trim().to_string(),
                })
            }
            AlarmCommand::OnSite => {
                state(&[S::Dispatched], "recording arrival")?;
                one(AlarmEvent::OnSite)
            }
            AlarmCommand::Resolve { outcome, note } => {
                // A false alarm may be resolved as soon as someone has the elder on the line.
                let allowed: &[AlarmStatus] = if *outcome == Outcome::FalseAlarm {
                    &[S::Acknowledged, S::Contacted, S::Dispatched, S::OnSite]
                } else {
                    &[S::Dispatched, S::OnSite]
                };
                state(allowed, "resolving")?;
                at_most("note", note, 1000)?;
                one(AlarmEvent::Resolved {
                    outcome: *outcome,
                    note: note.trim().to_string(),
                })
            }
            AlarmCommand::LinkRequest { request_id } => {
                if st.request_id.is_some() {
                    return Err(DomainError::refused(
                        "already_linked",
                        "the alarm has a request",
                    ));
                }
                one(AlarmEvent::RequestLinked {
                    request_id: *request_id,
                })
            }
            AlarmCommand::Close => {
                state(&[S::Resolved], "closing")?;
                one(AlarmEvent::Closed)
            }
        }
    }

    fn apply(st: &mut AlarmState, e: &CaseEvent<AlarmEvent>) {
        st.version = e.seq;
        match &e.payload {
            AlarmEvent::Raised {
                device_id,
                reference,
                elder_id,
                street,
                community,
                priority,
                room,
                chain,
                code,
                pressed_at,
            } => {
                st.device_id = device_id.clone();
                st.reference = reference.clone();
                st.elder_id = *elder_id;
                st.street = street.clone();
                st.community = community.clone();
                st.priority = *priority;
                st.room = room.clone();
                st.chain = chain.clone();
                st.code = *code;
                st.pressed_at = *pressed_at;
                st.raised_at = e.at;
                st.status = AlarmStatus::Raised;
            }
            AlarmEvent::Escalated { .. } => st.escalations += 1,
            AlarmEvent::Acknowledged => {
                st.acknowledged_at = Some(e.at);
                st.acknowledged_by = Some(e.actor.username.clone());
                st.status = AlarmStatus::Acknowledged;
            }
            AlarmEvent::Contacted { reached, .. } => {
                st.reached = Some(*reached);
                st.status = AlarmStatus::Contacted;
            }
            AlarmEvent::Dispatched { responder, .. } => {
                st.responder = Some(*responder);
                st.status = AlarmStatus::Dispatched;
            }
            AlarmEvent::OnSiteOverdue { .. } => st.on_site_escalations += 1,
            AlarmEvent::OnSite => {
                st.on_site_at = Some(e.at);
                st.status = AlarmStatus::OnSite;
            }
            AlarmEvent::Resolved { outcome, .. } => {
                st.outcome = Some(*outcome);
                st.status = AlarmStatus::Resolved;
            }
            AlarmEvent::RequestLinked { request_id } => st.request_id = Some(*request_id),
            AlarmEvent::Closed => st.status = AlarmStatus::Closed,
        }
    }

    fn id(st: &AlarmState) -> i64 {
        st.id
    }
    fn version(st: &AlarmState) -> i64 {
        st.version
    }
    fn status(st: &AlarmState) -> &str {
        st.status.as_str()
    }

    /// A care manager sees the alarms of their street; the rest of the desk sees all.
    fn can_see(actor: &Actor, st: &AlarmState) -> bool {
        match actor.role {
            Role::CareManager => actor.unit.as_deref() == Some(st.street.as_str()),
            _ => true,
        }
    }

    fn next_timer(st: &AlarmState) -> Option<Timestamp> {
        match st.status {
            AlarmStatus::Raised => st
                .chain
                .steps
                .get(st.escalations as usize)
                .map(|s| st.raised_at + SignedDuration::from_secs(s.after_secs)),
            AlarmStatus::Acknowledged | AlarmStatus::Contacted | AlarmStatus::Dispatched
                if st.on_site_escalations < MAX_ON_SITE_ESCALATIONS =>
            {
                st.acknowledged_at.map(|a| {
                    a + SignedDuration::from_secs(
                        st.chain.on_site_secs * (i64::from(st.on_site_escalations) + 1),
                    )
                })
            }
            _ => None,
        }
    }

    fn fire_timers(st: &AlarmState, now: Timestamp) -> Vec<Decided<AlarmEvent>> {
        let mut out = Vec::new();
        match st.status {
            AlarmStatus::Raised => {
                for (i, s) in st
                    .chain
                    .steps
                    .iter()
                    .enumerate()
                    .skip(st.escalations as usize)
                {
                    if st.raised_at + SignedDuration::from_secs(s.after_secs) <= now {
                        out.push((
                            AlarmEvent::Escalated {
                                step: i as u8 + 1,
                                notify: s.notify.clone(),
                            },
                            Some(format!("{}秒无人接警", s.after_secs)),
                        ));
                    }
                }
            }
            AlarmStatus::Acknowledged | AlarmStatus::Contacted | AlarmStatus::Dispatched => {
                let Some(ack) = st.acknowledged_at else {
                    return out;
                };
                for n in st.on_site_escalations..MAX_ON_SITE_ESCALATIONS {
                    let due =
                        ack + SignedDuration::from_secs(st.chain.on_site_secs * (i64::from(n) + 1));
                    if due <= now {
                        out.push((
                            AlarmEvent::OnSiteOverdue { count: n + 1 },
                            Some(format!(
                                "接警后{}分钟无人到场",
                                st.chain.on_site_secs * (i64::from(n) + 1) / 60
                            )),
                        ));
                    }
                }
            }
            _ => {}
        }
        out
    }

    fn index(st: &AlarmState) -> CaseIndex {
        CaseIndex {
            code: Some(format!("{}:{}", st.device_id, st.reference)),
            owner: Some(st.device_id.clone()),
            region: Some(st.community.clone()),
            subject: st.elder_id,
            at: Some(st.raised_at),
        }
    }
}

/// Seconds from raising to acknowledgement, if acknowledged (the KPI's 60 s / 180 s shares).
pub fn seconds_to_acknowledge(st: &AlarmState) -> Option<i64> {
    st.acknowledged_at
        .map(|a| a.duration_since(st.raised_at).as_secs())
}
