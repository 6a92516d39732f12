//! 养老服务工单: an elder-care service order, a kind of case on the one engine.
//!
//! requested → assigned → scheduled → visit started → visit finished → rated → settled, with
//! declined (the provider refuses; assign again), rescheduled, cancelled and missed. Each visit
//! carries the six items of electronic visit verification (EVV: service, elder, date, place,
//! carer, start and end). A visit not started on time raises alerts at 15 (provider), 30 and 60
//! minutes (care manager), and the order is missed once the slot has passed — timers fired by
//! the engine's sweep, exactly once.

use crate::case::{CaseEvent, CaseKind, Decided};
use crate::commands::Ctx;
use crate::error::DomainError;
use crate::lifecycle::Actor;
use crate::model::{Role, vocabulary};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

vocabulary! {
    /// The services of the network (助餐 is also served at meal points, see `meals`).
    ServiceKind {
        Meal = "meal" / "助餐",
        Bath = "bath" / "助浴",
        Clean = "clean" / "助洁",
        Medical = "medical" / "助医",
        Nursing = "nursing" / "上门护理",
        Rehab = "rehab" / "康复",
        Haircut = "haircut" / "理发",
        Companion = "companion" / "陪护",
    }
}

vocabulary! {
    OrderStatus {
        Requested = "requested" / "待派单",
        Assigned = "assigned" / "待排班",
        Scheduled = "scheduled" / "已排班",
        VisitStarted = "visit_started" / "服务中",
        VisitFinished = "visit_finished" / "待评价",
        Rated = "rated" / "已评价",
        Settled = "settled" / "已结算",
        Declined = "declined" / "服务商拒单",
        Cancelled = "cancelled" / "已取消",
        Missed = "missed" / "漏服务",
    }
}

impl OrderStatus {
    pub fn is_terminal(self) -> bool {
        matches!(self, OrderStatus::Settled | OrderStatus::Cancelled)
    }
}

/// How the order came to be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// Turned from a 12345 request (its reply records the order).
    Request { request_id: i64, code: String },
    /// One visit of a care manager's plan.
    CarePlan { plan_id: i64 },
    /// Asked for by family on the portal.
    Family,
}

impl Origin {
    pub fn label_zh(&self) -> &'static str {
        match self {
            Origin::Request { .. } => "12345诉求",
            Origin::CarePlan { .. } => "照护计划",
            Origin::Family => "家属申请",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Slot {
    /// Checks a slot: within 2000–2099, ends after it starts, at most 12 hours.
    pub fn check(&self, field: &str) -> Result<(), DomainError> {
        let (lo, hi) = (
            Timestamp::from_second(946_684_800).unwrap_or(Timestamp::MIN),
            Timestamp::from_second(4_102_444_800).unwrap_or(Timestamp::MAX),
        );
        for (f, t) in [("start", self.start), ("end", self.end)] {
            if t < lo || t >= hi {
                return Err(DomainError::invalid(
                    &format!("{field}.{f}"),
                    "time_out_of_range",
                    "must be in the years 2000–2099",
                ));
            }
        }
        if self.end <= self.start {
            return Err(DomainError::invalid(
                &format!("{field}.end"),
                "slot_end_before_start",
                "must be after the start",
            ));
        }
        if self.end.duration_since(self.start) > SignedDuration::from_hours(12) {
            return Err(DomainError::invalid(
                &format!("{field}.end"),
                "slot_too_long",
                "a slot lasts at most 12 hours",
            ));
        }
        Ok(())
    }
    pub fn overlaps(&self, o: &Slot) -> bool {
        self.start < o.end && o.start < self.end
    }
}

/// The visit as verified (EVV). Service and elder are the order's; date is the start's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    pub carer_id: i64,
    pub started_at: Timestamp,
    /// Where the carer clocked in: GPS (`lat,lon`) or the confirmed address.
    pub place: String,
    pub finished_at: Option<Timestamp>,
    #[serde(default)]
    pub notes: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    pub score: u8,
    pub comment: String,
    pub by: Role,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderState {
    pub id: i64,
    pub version: i64,
    /// The order's public number (family follow it on the portal).
    pub code: String,
    pub status: OrderStatus,
    pub elder_id: i64,
    pub street: String,
    pub community: String,
    pub service: ServiceKind,
    pub origin: Option<Origin>,
    pub care_manager: Option<String>,
    pub note: String,
    /// The slot asked for, if any.
    pub wanted: Option<Slot>,
    pub provider: Option<String>,
    /// The provider's price for the service and the elder's co-payment, in fen.
    pub price_fen: i64,
    pub copay_fen: i64,
    /// Why the matcher proposed the provider (shown, and kept with the assignment).
    pub match_reason: String,
    pub slot: Option<Slot>,
    pub carer_id: Option<i64>,
    pub visit: Option<Visit>,
    pub rating: Option<Rating>,
    /// Late-start alerts raised for the current slot (0–3).
    pub alerts: u8,
    pub claim_id: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl OrderState {
    /// A verified visit: all six EVV items present and the end after the start.
    pub fn verified_visit(&self) -> Option<&Visit> {
        self.visit
            .as_ref()
            .filter(|v| v.finished_at.is_some_and(|f| f >= v.started_at) && !v.place.is_empty())
    }
    /// What the claim pays for the visit: price less co-payment.
    pub fn claim_fen(&self) -> i64 {
        self.price_fen - self.copay_fen
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum OrderEvent {
    Requested {
        code: String,
        elder_id: i64,
        street: String,
        community: String,
        service: ServiceKind,
        origin: Origin,
        care_manager: Option<String>,
        note: String,
        wanted: Option<Slot>,
    },
    Assigned {
        provider: String,
        price_fen: i64,
        copay_fen: i64,
        reason: String,
    },
    Declined {
        provider: String,
    },
    Scheduled {
        carer_id: i64,
        slot: Slot,
    },
    Rescheduled {
        carer_id: i64,
        slot: Slot,
    },
    VisitStarted {
        carer_id: i64,
        at: Timestamp,
        place: String,
    },
    VisitFinished {
        at: Timestamp,
        notes: String,
    },
    /// A visit not started `minutes` after the slot began; `notify` names who is told.
    LateAlert {
        minutes: i64,
        notify: Vec<String>,
    },
    Missed,
    Rated {
        score: u8,
        comment: String,
    },
    Settled {
        claim_id: i64,
    },
    Cancelled,
}

/// What creating an order takes (the app has checked the elder, the community and the origin).
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub code: String,
    pub elder_id: i64,
    pub street: String,
    pub community: String,
    pub service: ServiceKind,
    pub origin: Origin,
    pub care_manager: Option<String>,
    pub note: String,
    pub wanted: Option<Slot>,
}

#[derive(Debug, Clone)]
pub enum OrderCommand {
    /// The provider the matcher proposed (or one the person chose), at its listed price.
    Assign {
        provider: String,
        price_fen: i64,
        copay_fen: i64,
        reason: String,
    },
    Decline,
    Schedule {
        carer_id: i64,
        slot: Slot,
    },
    /// `at`: the device's clock-in time for a visit recorded offline; `None` is now.
    StartVisit {
        carer_id: i64,
        place: String,
        at: Option<Timestamp>,
    },
    FinishVisit {
        notes: String,
        at: Option<Timestamp>,
    },
    Rate {
        score: u8,
        comment: String,
    },
    Cancel,
    Settle {
        claim_id: i64,
    },
}

/// The late-start alert ladder: minutes after the slot's start, and who is told.
pub const LATE_ALERTS: [(i64, &[&str]); 3] = [
    (15, &["provider"]),
    (30, &["provider", "care_manager"]),
    (60, &["provider", "care_manager", "care_admin"]),
];

/// When a scheduled visit that has not started is marked missed.
fn missed_at(slot: &Slot) -> Timestamp {
    let last = slot.start + SignedDuration::from_mins(LATE_ALERTS[2].0);
    slot.end.max(last)
}

/// How far ahead of now a device's recorded time may be (clock skew).
const SKEW: SignedDuration = SignedDuration::from_mins(2);

fn roles(actor: &Actor, allowed: &[Role], what: &str) -> Result<(), DomainError> {
    if allowed.contains(&actor.role) {
        Ok(())
    } else {
        let who: Vec<&str> = allowed.iter().map(|r| r.label_zh()).collect();
        Err(DomainError::forbidden(format!(
            "{what}: only {} may do this",
            who.join("、")
        )))
    }
}

fn in_state(st: &OrderState, allowed: &[OrderStatus], what: &str) -> Result<(), DomainError> {
    if allowed.contains(&st.status) {
        Ok(())
    } else {
        Err(DomainError::refused(
            "invalid_transition",
            format!(
                "{what} is not possible while the order is {}",
                st.status.label_zh()
            ),
        ))
    }
}

/// Checks a device-recorded time: not ahead of now, not before `not_before`.
fn recorded(
    at: Option<Timestamp>,
    now: Timestamp,
    field: &str,
    not_before: Timestamp,
    why: &str,
) -> Result<Timestamp, DomainError> {
    let t = at.unwrap_or(now);
    if t > now + SKEW {
        return Err(DomainError::invalid(
            field,
            "time_in_future",
            "must not be in the future",
        ));
    }
    if t < not_before {
        return Err(DomainError::invalid(
            field,
            "time_too_early",
            why.to_string(),
        ));
    }
    Ok(t)
}

pub struct ServiceOrder;

impl CaseKind for ServiceOrder {
    const KIND: &'static str = "care_order";
    type State = OrderState;
    type Event = OrderEvent;
    type Command = OrderCommand;
    type Create = NewOrder;

    fn event_name(e: &OrderEvent) -> &'static str {
        match e {
            OrderEvent::Requested { .. } => "care_order.requested",
            OrderEvent::Assigned { .. } => "care_order.assigned",
            OrderEvent::Declined { .. } => "care_order.declined",
            OrderEvent::Scheduled { .. } => "care_order.scheduled",
            OrderEvent::Rescheduled { .. } => "care_order.rescheduled",
            OrderEvent::VisitStarted { .. } => "care_order.visit_started",
            OrderEvent::VisitFinished { .. } => "care_order.visit_finished",
            OrderEvent::LateAlert { .. } => "care_order.late_alert",
            OrderEvent::Missed => "care_order.missed",
            OrderEvent::Rated { .. } => "care_order.rated",
            OrderEvent::Settled { .. } => "care_order.settled",
            OrderEvent::Cancelled => "care_order.cancelled",
        }
    }

    fn initial(id: i64, now: Timestamp) -> OrderState {
        OrderState {
            id,
            version: 0,
            code: String::new(),
            status: OrderStatus::Requested,
            elder_id: 0,
            street: String::new(),
            community: String::new(),
            service: ServiceKind::Clean,
            origin: None,
            care_manager: None,
            note: String::new(),
            wanted: None,
            provider: None,
            price_fen: 0,
            copay_fen: 0,
            match_reason: String::new(),
            slot: None,
            carer_id: None,
            visit: None,
            rating: None,
            alerts: 0,
            claim_id: None,
            created_at: now,
            updated_at: now,
        }
    }

    fn create(
        n: &NewOrder,
        actor: &Actor,
        ctx: &Ctx<'_>,
    ) -> Result<Vec<Decided<OrderEvent>>, DomainError> {
        use Role::*;
        let who = match n.origin {
            Origin::Request { .. } => &[Operator, Dispatcher, Handler, CareManager][..],
            Origin::CarePlan { .. } => &[CareManager, CareAdmin][..],
            Origin::Family => &[Citizen, CareManager, CareAdmin][..],
        };
        roles(actor, who, "creating a service order")?;
        match ctx.dir.community(&n.community) {
            Some(c) if c.street_code == n.street => {}
            Some(_) => {
                return Err(DomainError::invalid(
                    "community",
                    "community_not_in_street",
                    "the community is not in the elder's street",
                ));
            }
            None => {
                return Err(DomainError::invalid(
                    "community",
                    "unknown_community",
                    "no such community",
                ));
            }
        }
        if n.note.chars().count() > 1000 {
            return Err(DomainError::invalid(
                "note",
                "too_long",
                "at most 1000 characters",
            ));
        }
        if let Some(w) = &n.wanted {
            w.check("wanted")?;
        }
        Ok(vec![(
            OrderEvent::Requested {
                code: n.code.clone(),
                elder_id: n.elder_id,
                street: n.street.clone(),
                community: n.community.clone(),
                service: n.service,
                origin: n.origin.clone(),
                care_manager: n.care_manager.clone(),
                note: n.note.trim().to_string(),
                wanted: n.wanted,
            },
            None,
        )])
    }

    fn decide(
        st: &OrderState,
        actor: &Actor,
        cmd: &OrderCommand,
        ctx: &Ctx<'_>,
    ) -> Result<Vec<Decided<OrderEvent>>, DomainError> {
        use OrderStatus as S;
        use Role::*;
        let now = ctx.now;
        let ev = |e: OrderEvent| Ok(vec![(e, None)]);
        match cmd {
            OrderCommand::Assign {
                provider,
                price_fen,
                copay_fen,
                reason,
            } => {
                roles(
                    actor,
                    &[CareManager, CareAdmin, Operator, Dispatcher, Handler],
                    "assigning a provider",
                )?;
                in_state(st, &[S::Requested, S::Declined, S::Missed], "assigning")?;
                if *price_fen < 0 {
                    return Err(DomainError::invalid(
                        "price_fen",
                        "negative_amount",
                        "must not be negative",
                    ));
                }
                if *copay_fen < 0 || copay_fen > price_fen {
                    return Err(DomainError::invalid(
                        "copay_fen",
                        "bad_copay",
                        "must be between 0 and the price",
                    ));
                }
                ev(OrderEvent::Assigned {
                    provider: provider.clone(),
                    price_fen: *price_fen,
                    copay_fen: *copay_fen,
                    reason: reason.clone(),
                })
            }
            OrderCommand::Decline => {
                roles(actor, &[Provider], "declining an order")?;
                in_state(st, &[S::Assigned, S::Scheduled], "declining")?;
                ev(OrderEvent::Declined {
                    provider: st.provider.clone().unwrap_or_default(),
                })
            }
            OrderCommand::Schedule { carer_id, slot } => {
                roles(actor, &[Provider], "scheduling a visit")?;
                in_state(st, &[S::Assigned, S::Scheduled], "scheduling")?;
                slot.check("slot")?;
                if slot.start < now - SKEW {
                    return Err(DomainError::invalid(
                        "slot.start",
                        "slot_in_past",
                        "must not be in the past",
                    ));
                }
                let (carer_id, slot) = (*carer_id, *slot);
                if st.status == S::Scheduled {
                    ev(OrderEvent::Rescheduled { carer_id, slot })
                } else {
                    ev(OrderEvent::Scheduled { carer_id, slot })
                }
            }
            OrderCommand::StartVisit {
                carer_id,
                place,
                at,
            } => {
                roles(actor, &[Provider], "starting a visit")?;
                in_state(st, &[S::Scheduled], "starting the visit")?;
                let place = place.trim();
                if place.is_empty() || place.chars().count() > 200 {
                    return Err(DomainError::invalid(
                        "place",
                        "bad_place",
                        "the place of the visit (GPS or the confirmed address), 1–200 characters",
                    ));
                }
                let slot = st.slot.expect("a scheduled order has a slot");
                let at = recorded(
                    *at,
                    now,
                    "started_at",
                    slot.start - SignedDuration::from_hours(2),
                    "more than two hours before the slot",
                )?;
                ev(OrderEvent::VisitStarted {
                    carer_id: *carer_id,
                    at,
                    place: place.to_string(),
                })
            }
            OrderCommand::FinishVisit { notes, at } => {
                roles(actor, &[Provider], "finishing a visit")?;
                in_state(st, &[S::VisitStarted], "finishing the visit")?;
                let started = st.visit.as_ref().map_or(now, |v| v.started_at);
                let at = recorded(
                    *at,
                    now,
                    "finished_at",
                    started,
                    "a visit cannot finish before it started",
                )?;
                if notes.chars().count() > 2000 {
                    return Err(DomainError::invalid(
                        "notes",
                        "too_long",
                        "at most 2000 characters",
                    ));
                }
                ev(OrderEvent::VisitFinished {
                    at,
                    notes: notes.trim().to_string(),
                })
            }
            OrderCommand::Rate { score, comment } => {
                roles(actor, &[Citizen, CareManager], "rating a visit")?;
                if st.rating.is_some() {
                    return Err(DomainError::refused(
                        "already_rated",
                        "the visit has been rated",
                    ));
                }
                in_state(st, &[S::VisitFinished, S::Settled], "rating")?;
                if !(1..=5).contains(score) {
                    return Err(DomainError::invalid(
                        "score",
                        "bad_score",
                        "a whole number from 1 to 5",
                    ));
                }
                if comment.chars().count() > 500 {
                    return Err(DomainError::invalid(
                        "comment",
                        "too_long",
                        "at most 500 characters",
                    ));
                }
                ev(OrderEvent::Rated {
                    score: *score,
                    comment: comment.trim().to_string(),
                })
            }
            OrderCommand::Cancel => {
                roles(
                    actor,
                    &[CareManager, CareAdmin, Operator, Citizen],
                    "cancelling an order",
                )?;
                in_state(
                    st,
                    &[
                        S::Requested,
                        S::Assigned,
                        S::Scheduled,
                        S::Declined,
                        S::Missed,
                    ],
                    "cancelling",
                )?;
                ev(OrderEvent::Cancelled)
            }
            OrderCommand::Settle { claim_id } => {
                roles(actor, &[CareAdmin], "settling")?;
                in_state(st, &[S::VisitFinished, S::Rated], "settling")?;
                if st.verified_visit().is_none() {
                    return Err(DomainError::refused(
                        "visit_not_verified",
                        "the visit is not verified",
                    ));
                }
                ev(OrderEvent::Settled {
                    claim_id: *claim_id,
                })
            }
        }
    }

    fn apply(st: &mut OrderState, e: &CaseEvent<OrderEvent>) {
        st.version = e.seq;
        st.updated_at = e.at;
        match &e.payload {
            OrderEvent::Requested {
                code,
                elder_id,
                street,
                community,
                service,
                origin,
                care_manager,
                note,
                wanted,
            } => {
                st.code = code.clone();
                st.elder_id = *elder_id;
                st.street = street.clone();
                st.community = community.clone();
                st.service = *service;
                st.origin = Some(origin.clone());
                st.care_manager = care_manager.clone();
                st.note = note.clone();
                st.wanted = *wanted;
                st.status = OrderStatus::Requested;
                st.created_at = e.at;
            }
            OrderEvent::Assigned {
                provider,
                price_fen,
                copay_fen,
                reason,
            } => {
                st.provider = Some(provider.clone());
                st.price_fen = *price_fen;
                st.copay_fen = *copay_fen;
                st.match_reason = reason.clone();
                st.slot = None;
                st.carer_id = None;
                st.alerts = 0;
                st.status = OrderStatus::Assigned;
            }
            OrderEvent::Declined { .. } => {
                st.provider = None;
                st.slot = None;
                st.carer_id = None;
                st.alerts = 0;
                st.status = OrderStatus::Declined;
            }
            OrderEvent::Scheduled { carer_id, slot }
            | OrderEvent::Rescheduled { carer_id, slot } => {
                st.carer_id = Some(*carer_id);
                st.slot = Some(*slot);
                st.alerts = 0;
                st.status = OrderStatus::Scheduled;
            }
            OrderEvent::VisitStarted {
                carer_id,
                at,
                place,
            } => {
                st.visit = Some(Visit {
                    carer_id: *carer_id,
                    started_at: *at,
                    place: place.clone(),
                    finished_at: None,
                    notes: String::new(),
                });
                st.status = OrderStatus::VisitStarted;
            }
            OrderEvent::VisitFinished { at, notes } => {
                if let Some(v) = &mut st.visit {
                    v.finished_at = Some(*at);
                    v.notes = notes.clone();
                }
                st.status = OrderStatus::VisitFinished;
            }
            OrderEvent::LateAlert { .. } => st.alerts += 1,
            OrderEvent::Missed => st.status = OrderStatus::Missed,
            OrderEvent::Rated { score, comment } => {
                st.rating = Some(Rating {
                    score: *score,
                    comment: comment.clone(),
                    by: e.actor.role,
                });
                if st.status == OrderStatus::VisitFinished {
                    st.status = OrderStatus::Rated;
                }
            }
            OrderEvent::Settled { claim_id } => {
                st.claim_id = Some(*claim_id);
                st.status = OrderStatus::Settled;
            }
            OrderEvent::Cancelled => st.status = OrderStatus::Cancelled,
        }
    }

    fn id(st: &OrderState) -> i64 {
        st.id
    }
    fn version(st: &OrderState) -> i64 {
        st.version
    }
    fn status(st: &OrderState) -> &str {
        st.status.as_str()
    }

    /// A provider sees only the orders assigned to it; a care manager those of their street or
    /// their elders; 12345 staff and the 民政 office all.
    fn can_see(actor: &Actor, st: &OrderState) -> bool {
        match actor.role {
            Role::Provider => st.provider.is_some() && st.provider == actor.unit,
            Role::CareManager => {
                actor.unit.as_deref() == Some(st.street.as_str())
                    || st.care_manager.as_deref() == Some(actor.username.as_str())
            }
            _ => true,
        }
    }

    fn next_timer(st: &OrderState) -> Option<Timestamp> {
        if st.status != OrderStatus::Scheduled {
            return None;
        }
        let slot = st.slot?;
        Some(match LATE_ALERTS.get(st.alerts as usize) {
            Some((mins, _)) => slot.start + SignedDuration::from_mins(*mins),
            None => missed_at(&slot),
        })
    }

    fn fire_timers(st: &OrderState, now: Timestamp) -> Vec<Decided<OrderEvent>> {
        let mut out = Vec::new();
        if st.status != OrderStatus::Scheduled {
            return out;
        }
        let Some(slot) = st.slot else { return out };
        for (mins, notify) in LATE_ALERTS.iter().skip(st.alerts as usize) {
            if slot.start + SignedDuration::from_mins(*mins) <= now {
                out.push((
                    OrderEvent::LateAlert {
                        minutes: *mins,
                        notify: notify.iter().map(|s| s.to_string()).collect(),
                    },
                    Some(format!("服务开始已超时{mins}分钟")),
                ));
            }
        }
        if missed_at(&slot) <= now && st.alerts as usize + out.len() >= LATE_ALERTS.len() {
            out.push((OrderEvent::Missed, Some("服务时段已过，未开始服务".into())));
        }
        out
    }

    fn index(st: &OrderState) -> crate::case::CaseIndex {
        crate::case::CaseIndex {
            code: Some(st.code.clone()),
            owner: st.provider.clone(),
            region: Some(st.community.clone()),
            subject: Some(st.elder_id),
            at: st
                .verified_visit()
                .and_then(|v| v.finished_at)
                .or(st.slot.map(|s| s.start)),
        }
    }
}
