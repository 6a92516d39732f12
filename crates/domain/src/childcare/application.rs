//! 托育申请: a family's application for a place, a kind of case on the one engine.
//!
//! submitted → verified (staff check the documents and confirm the criteria) → in_round →
//! offered (an institution's band, with an offer deadline) → accepted / declined / expired →
//! enrolled → left. A child the round does not place waits (`waiting`) for a freed place and is
//! offered one from the waiting list. Withdrawal is possible in every state before enrolment;
//! an enrolled child leaves with a date instead, so the enrolment log behind the subsidy stays
//! exact. The offer deadline is an engine timer: it fires once and the offer expires.
//!
//! Identities stay out of the events: the child is a registry reference (`child_ref`) and the
//! guardians are registry ids.
//!
//! Who may act ([`Desk`]): parents on the portal (the citizen actor, after the app has proved the
//! application's code and a guardian's phone), the 卫健委 childcare desk, an institution's staff
//! (bound to its code) and the system (rounds, timers).

use crate::case::{CaseEvent, CaseIndex, CaseKind, Decided};
use crate::childcare::allocation::{
    Applicant, ChildOutcome, Criterion, Priority, PriorityRules, Rejection,
};
use crate::childcare::institution::{Band, BandRules, check_code};
use crate::commands::Ctx;
use crate::error::DomainError;
use crate::lifecycle::Actor;
use crate::model::{Role, vocabulary};
use jiff::civil::Date;
use jiff::tz::{Offset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The childcare rules as data (published with each round).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildcareRules {
    /// Most institutions an application may rank.
    pub max_choices: usize,
    /// Days a family has to accept an offer (deadline = offer time + days × 24 h).
    pub offer_days: i64,
    /// Furthest ahead an intended start may be, in days.
    pub max_start_ahead_days: i64,
    pub bands: BandRules,
    pub priority: PriorityRules,
}

impl Default for ChildcareRules {
    fn default() -> Self {
        ChildcareRules {
            max_choices: 5,
            offer_days: 7,
            max_start_ahead_days: 366,
            bands: BandRules::national(),
            priority: PriorityRules::default(),
        }
    }
}

/// The desks of childcare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Desk {
    /// 卫健委 childcare administrator: institutions, verification, rounds, subsidies.
    HealthAdmin,
    /// An institution's staff; `Actor::unit` is the institution's code.
    Nursery,
    /// A guardian on the portal.
    Parent,
    /// Rounds run by the system, timers.
    System,
}

/// The desk of a role: `health_admin` → 卫健委, `nursery` (bound to an institution's code) →
/// institution staff, `citizen` → parent, `system` → system; other roles have none.
pub fn desk(role: Role) -> Option<Desk> {
    match role {
        Role::HealthAdmin => Some(Desk::HealthAdmin),
        Role::Nursery => Some(Desk::Nursery),
        Role::Citizen => Some(Desk::Parent),
        Role::System => Some(Desk::System),
        _ => None,
    }
}

fn desks(actor: &Actor, allowed: &[Desk], what: &str) -> Result<Desk, DomainError> {
    match desk(actor.role) {
        Some(d) if allowed.contains(&d) => Ok(d),
        _ => Err(DomainError::forbidden(format!(
            "{what}: not allowed for {}",
            actor.role.label_zh()
        ))),
    }
}

/// Today in China (+08:00, fixed since 1991).
pub fn today(now: Timestamp) -> Date {
    TimeZone::fixed(Offset::constant(8)).to_datetime(now).date()
}

vocabulary! {
    ApplicationStatus {
        Submitted = "submitted" / "已提交",
        Verified = "verified" / "已审核",
        InRound = "in_round" / "派位中",
        /// Not placed by the round: on the waiting list.
        Waiting = "waiting" / "候补中",
        Offered = "offered" / "待确认学位",
        Accepted = "accepted" / "已接受",
        Declined = "declined" / "已放弃",
        Expired = "expired" / "逾期未确认",
        Enrolled = "enrolled" / "在托",
        Left = "left" / "已离托",
        Withdrawn = "withdrawn" / "已撤回",
    }
}

impl ApplicationStatus {
    pub fn is_terminal(self) -> bool {
        use ApplicationStatus::*;
        matches!(self, Declined | Expired | Left | Withdrawn)
    }
}

/// An offer of a place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    /// The round's code, or `waiting_list`.
    pub round: String,
    pub institution: String,
    pub band: Band,
    /// 1-based rank of the choice.
    pub choice: usize,
    pub priority: Option<Priority>,
    pub deadline: Timestamp,
    /// Why the choices above it did not give a place.
    pub rejections: Vec<Rejection>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationState {
    pub id: i64,
    pub version: i64,
    /// The application's number (the family follows it on the portal).
    pub code: String,
    pub status: ApplicationStatus,
    /// The child in the registry (never a name).
    pub child_ref: String,
    pub birth_date: Date,
    /// Registry ids of the guardians.
    pub guardians: Vec<i64>,
    pub street: String,
    pub community: String,
    /// Institution codes, best first.
    pub choices: Vec<String>,
    /// Criteria the family claims.
    pub claimed: Vec<Criterion>,
    /// Criteria staff confirmed (set when verified).
    pub criteria: Vec<Criterion>,
    pub sibling_enrolled_at: Option<String>,
    /// The code of a sibling's application in the same round.
    pub sibling_application: Option<String>,
    pub start_date: Date,
    /// The band at the intended start.
    pub band: Band,
    pub round: Option<String>,
    pub offer: Option<Offer>,
    /// Why the last round did not place the child.
    pub rejections: Vec<Rejection>,
    pub enrolled_on: Option<Date>,
    pub left_on: Option<Date>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl ApplicationState {
    /// The round's view of a verified application.
    pub fn applicant(&self) -> Applicant {
        Applicant {
            id: self.code.clone(),
            band: self.band,
            street: self.street.clone(),
            criteria: self.criteria.clone(),
            sibling_enrolled_at: self.sibling_enrolled_at.clone(),
            sibling: self.sibling_application.clone(),
            choices: self.choices.clone(),
        }
    }
    /// The institution the child is offered, holds, or held a place at.
    pub fn institution(&self) -> Option<&str> {
        self.offer.as_ref().map(|o| o.institution.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ApplicationEvent {
    Submitted {
        code: String,
        child_ref: String,
        birth_date: Date,
        guardians: Vec<i64>,
        street: String,
        community: String,
        choices: Vec<String>,
        claimed: Vec<Criterion>,
        sibling_enrolled_at: Option<String>,
        sibling_application: Option<String>,
        start_date: Date,
        band: Band,
    },
    Verified {
        criteria: Vec<Criterion>,
        sibling_enrolled_at: Option<String>,
    },
    EnteredRound {
        round: String,
    },
    Unplaced {
        round: String,
        rejections: Vec<Rejection>,
    },
    Offered(Offer),
    Accepted,
    Declined,
    Expired,
    Enrolled {
        date: Date,
    },
    Left {
        date: Date,
    },
    Withdrawn,
}

/// What submitting an application takes. `offered_bands` carries, for each chosen institution
/// the app found, the bands it offers (absent: no such institution), so the rules need no store.
#[derive(Debug, Clone)]
pub struct NewApplication {
    pub code: String,
    pub child_ref: String,
    pub birth_date: Date,
    pub guardians: Vec<i64>,
    pub street: String,
    pub community: String,
    pub choices: Vec<String>,
    pub offered_bands: BTreeMap<String, Vec<Band>>,
    pub criteria: Vec<Criterion>,
    pub sibling_enrolled_at: Option<String>,
    pub sibling_application: Option<String>,
    pub start_date: Date,
    pub rules: ChildcareRules,
}

#[derive(Debug, Clone)]
pub enum ApplicationCommand {
    /// Staff checked the documents: the criteria confirmed (a subset of those claimed) and the
    /// sibling's institution if confirmed.
    Verify {
        criteria: Vec<Criterion>,
        sibling_enrolled_at: Option<String>,
    },
    EnterRound {
        round: String,
    },
    /// The round (or the waiting list) offers a place; the deadline is now + `accept_days`.
    Offer {
        round: String,
        institution: String,
        band: Band,
        choice: usize,
        priority: Option<Priority>,
        rejections: Vec<Rejection>,
        accept_days: i64,
    },
    /// The round did not place the child.
    Unplaced {
        round: String,
        rejections: Vec<Rejection>,
    },
    Accept,
    Decline,
    /// `date`: the first day the child is enrolled.
    Enrol {
        date: Date,
    },
    /// `date`: the last day the child is enrolled (the subsidy counts it).
    Leave {
        date: Date,
    },
    Withdraw,
}

/// The command a round's outcome turns into for the child's application.
pub fn outcome_command(o: &ChildOutcome, round: &str, accept_days: i64) -> ApplicationCommand {
    match &o.placed {
        Some(p) => ApplicationCommand::Offer {
            round: round.to_string(),
            institution: p.institution.clone(),
            band: p.band,
            choice: p.choice,
            priority: Some(p.priority),
            rejections: o.rejections.clone(),
            accept_days,
        },
        None => ApplicationCommand::Unplaced {
            round: round.to_string(),
            rejections: o.rejections.clone(),
        },
    }
}

fn in_state(
    st: &ApplicationState,
    allowed: &[ApplicationStatus],
    what: &str,
) -> Result<(), DomainError> {
    if allowed.contains(&st.status) {
        Ok(())
    } else {
        Err(DomainError::refused(
            "invalid_transition",
            format!(
                "{what} is not possible while the application is {}",
                st.status.label_zh()
            ),
        ))
    }
}

fn round_code(round: &str) -> Result<(), DomainError> {
    check_code("round", round)
}

/// Most guardians an application lists.
pub const MAX_GUARDIANS: usize = 4;

fn dedup<T: PartialEq + Copy>(v: &[T]) -> Vec<T> {
    let mut out = Vec::new();
    for x in v {
        if !out.contains(x) {
            out.push(*x);
        }
    }
    out
}

/// Checks a new application; every problem names its field (see the module's tests).
pub fn check_new(n: &NewApplication, ctx: &Ctx<'_>) -> Result<Band, DomainError> {
    check_code("code", &n.code)?;
    let child = n.child_ref.trim();
    if child.is_empty() {
        return Err(DomainError::invalid(
            "child_ref",
            "required",
            "the child's registry reference",
        ));
    }
    if child.chars().count() > 64 {
        return Err(DomainError::invalid(
            "child_ref",
            "too_long",
            "at most 64 characters",
        ));
    }
    if n.guardians.is_empty() {
        return Err(DomainError::invalid(
            "guardians",
            "required",
            "at least one guardian",
        ));
    }
    if n.guardians.len() > MAX_GUARDIANS {
        return Err(DomainError::invalid(
            "guardians",
            "too_many",
            format!("at most {MAX_GUARDIANS}"),
        ));
    }
    if ctx.dir.street(&n.street).is_none() {
        return Err(DomainError::invalid(
            "street",
            "unknown_street",
            "no such street",
        ));
    }
    match ctx.dir.community(&n.community) {
        Some(c) if c.street_code == n.street => {}
        Some(_) => {
            return Err(DomainError::invalid(
                "community",
                "community_not_in_street",
                "the community is not in the street",
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
    let today = today(ctx.now);
    if n.birth_date > today {
        return Err(DomainError::invalid(
            "birth_date",
            "birth_date_in_future",
            "the birth date is in the future",
        ));
    }
    if n.start_date < today {
        return Err(DomainError::invalid(
            "start_date",
            "date_in_past",
            "must not be in the past",
        ));
    }
    let ahead = n.rules.max_start_ahead_days;
    if today
        .checked_add(jiff::Span::new().days(ahead))
        .is_ok_and(|last| n.start_date > last)
    {
        return Err(DomainError::invalid(
            "start_date",
            "date_out_of_range",
            format!("at most {ahead} days ahead"),
        ));
    }
    let Some(band) = n.rules.bands.band_at(n.birth_date, n.start_date) else {
        return Err(DomainError::invalid(
            "start_date",
            "age_outside_bands",
            "at the intended start the child's age fits no class band (6–36 months)",
        ));
    };
    if n.choices.is_empty() {
        return Err(DomainError::invalid(
            "choices",
            "required",
            "rank at least one institution",
        ));
    }
    let max = n.rules.max_choices;
    if n.choices.len() > max {
        return Err(DomainError::invalid(
            "choices",
            "too_many",
            format!("at most {max}"),
        ));
    }
    for (k, c) in n.choices.iter().enumerate() {
        if n.choices[..k].contains(c) {
            return Err(DomainError::invalid(
                &format!("choices[{k}]"),
                "duplicate_choice",
                "the institution is ranked twice",
            ));
        }
        if !n.offered_bands.contains_key(c) {
            return Err(DomainError::invalid(
                &format!("choices[{k}]"),
                "unknown_institution",
                "no such institution",
            ));
        }
    }
    let offers = |c: &String| n.offered_bands.get(c).is_some_and(|b| b.contains(&band));
    if !n.choices.iter().any(offers) {
        return Err(DomainError::invalid(
            "choices",
            "band_not_offered",
            format!("none of the institutions has a {} class", band.label_zh()),
        ));
    }
    if let Some(k) = n.choices.iter().position(|c| !offers(c)) {
        return Err(DomainError::invalid(
            &format!("choices[{k}]"),
            "band_not_offered",
            format!("the institution has no {} class", band.label_zh()),
        ));
    }
    if let Some(s) = &n.sibling_enrolled_at {
        check_code("sibling_enrolled_at", s)?;
    }
    if let Some(s) = &n.sibling_application {
        check_code("sibling_application", s)?;
        if *s == n.code {
            return Err(DomainError::invalid(
                "sibling_application",
                "invalid",
                "an application cannot be its own sibling",
            ));
        }
    }
    Ok(band)
}

fn check_date(field: &str, d: Date, now: Timestamp) -> Result<(), DomainError> {
    if d > today(now) {
        return Err(DomainError::invalid(
            field,
            "date_in_future",
            "must not be in the future",
        ));
    }
    Ok(())
}

pub struct ChildcareApplication;

impl CaseKind for ChildcareApplication {
    const KIND: &'static str = "childcare_application";
    type State = ApplicationState;
    type Event = ApplicationEvent;
    type Command = ApplicationCommand;
    type Create = NewApplication;

    fn event_name(e: &ApplicationEvent) -> &'static str {
        use ApplicationEvent::*;
        match e {
            Submitted { .. } => "childcare_application.submitted",
            Verified { .. } => "childcare_application.verified",
            EnteredRound { .. } => "childcare_application.entered_round",
            Unplaced { .. } => "childcare_application.unplaced",
            Offered(_) => "childcare_application.offered",
            Accepted => "childcare_application.accepted",
            Declined => "childcare_application.declined",
            Expired => "childcare_application.expired",
            Enrolled { .. } => "childcare_application.enrolled",
            Left { .. } => "childcare_application.left",
            Withdrawn => "childcare_application.withdrawn",
        }
    }

    fn initial(id: i64, now: Timestamp) -> ApplicationState {
        ApplicationState {
            id,
            version: 0,
            code: String::new(),
            status: ApplicationStatus::Submitted,
            child_ref: String::new(),
            birth_date: today(now),
            guardians: Vec::new(),
            street: String::new(),
            community: String::new(),
            choices: Vec::new(),
            claimed: Vec::new(),
            criteria: Vec::new(),
            sibling_enrolled_at: None,
            sibling_application: None,
            start_date: today(now),
            band: Band::Infant,
            round: None,
            offer: None,
            rejections: Vec::new(),
            enrolled_on: None,
            left_on: None,
            created_at: now,
            updated_at: now,
        }
    }

    fn create(
        n: &NewApplication,
        actor: &Actor,
        ctx: &Ctx<'_>,
    ) -> Result<Vec<Decided<ApplicationEvent>>, DomainError> {
        desks(
            actor,
            &[Desk::Parent, Desk::HealthAdmin],
            "applying for a place",
        )?;
        let band = check_new(n, ctx)?;
        Ok(vec![(
            ApplicationEvent::Submitted {
                code: n.code.clone(),
                child_ref: n.child_ref.trim().to_string(),
                birth_date: n.birth_date,
                guardians: n.guardians.clone(),
                street: n.street.clone(),
                community: n.community.clone(),
                choices: n.choices.clone(),
                claimed: dedup(&n.criteria),
                sibling_enrolled_at: n.sibling_enrolled_at.clone(),
                sibling_application: n.sibling_application.clone(),
                start_date: n.start_date,
                band,
            },
            None,
        )])
    }

    fn decide(
        st: &ApplicationState,
        actor: &Actor,
        cmd: &ApplicationCommand,
        ctx: &Ctx<'_>,
    ) -> Result<Vec<Decided<ApplicationEvent>>, DomainError> {
        use ApplicationCommand as C;
        use ApplicationEvent as E;
        use ApplicationStatus as S;
        use Desk::*;
        let ev = |e: E| Ok(vec![(e, None)]);
        match cmd {
            C::Verify {
                criteria,
                sibling_enrolled_at,
            } => {
                desks(actor, &[HealthAdmin], "verifying an application")?;
                in_state(st, &[S::Submitted], "verifying")?;
                for (i, c) in criteria.iter().enumerate() {
                    if !st.claimed.contains(c) {
                        return Err(DomainError::invalid(
                            &format!("criteria[{i}]"),
                            "criterion_not_claimed",
                            "only criteria the family claimed can be confirmed",
                        ));
                    }
                }
                if let Some(s) = sibling_enrolled_at
                    && st.sibling_enrolled_at.as_deref() != Some(s.as_str())
                {
                    return Err(DomainError::invalid(
                        "sibling_enrolled_at",
                        "criterion_not_claimed",
                        "only the institution the family named can be confirmed",
                    ));
                }
                ev(E::Verified {
                    criteria: dedup(criteria),
                    sibling_enrolled_at: sibling_enrolled_at.clone(),
                })
            }
            C::EnterRound { round } => {
                desks(actor, &[HealthAdmin, System], "entering a round")?;
                in_state(st, &[S::Verified, S::Waiting], "entering a round")?;
                round_code(round)?;
                ev(E::EnteredRound {
                    round: round.clone(),
                })
            }
            C::Offer {
                round,
                institution,
                band,
                choice,
                priority,
                rejections,
                accept_days,
            } => {
                desks(actor, &[HealthAdmin, System], "offering a place")?;
                in_state(st, &[S::InRound, S::Waiting], "offering a place")?;
                round_code(round)?;
                let Some(k) = st.choices.iter().position(|c| c == institution) else {
                    return Err(DomainError::invalid(
                        "institution",
                        "not_in_choices",
                        "the family did not rank this institution",
                    ));
                };
                if *choice != k + 1 {
                    return Err(DomainError::invalid(
                        "choice",
                        "invalid",
                        format!("the institution is choice {}", k + 1),
                    ));
                }
                if *band != st.band {
                    return Err(DomainError::invalid(
                        "band",
                        "band_mismatch",
                        format!("the child belongs in a {}", st.band.label_zh()),
                    ));
                }
                if !(1..=60).contains(accept_days) {
                    return Err(DomainError::invalid(
                        "accept_days",
                        "out_of_range",
                        "between 1 and 60",
                    ));
                }
                ev(E::Offered(Offer {
                    round: round.clone(),
                    institution: institution.clone(),
                    band: *band,
                    choice: *choice,
                    priority: *priority,
                    deadline: ctx.now + SignedDuration::from_hours(24 * accept_days),
                    rejections: rejections.clone(),
                }))
            }
            C::Unplaced { round, rejections } => {
                desks(actor, &[HealthAdmin, System], "recording a round's outcome")?;
                in_state(st, &[S::InRound], "recording the round's outcome")?;
                ev(E::Unplaced {
                    round: round.clone(),
                    rejections: rejections.clone(),
                })
            }
            C::Accept | C::Decline => {
                desks(actor, &[Parent, HealthAdmin], "answering an offer")?;
                in_state(st, &[S::Offered], "answering the offer")?;
                if matches!(cmd, C::Accept)
                    && st.offer.as_ref().is_some_and(|o| ctx.now > o.deadline)
                {
                    return Err(DomainError::refused(
                        "offer_expired",
                        "the offer's deadline has passed",
                    ));
                }
                ev(if matches!(cmd, C::Accept) {
                    E::Accepted
                } else {
                    E::Declined
                })
            }
            C::Enrol { date } => {
                let d = desks(actor, &[Nursery, HealthAdmin], "enrolling")?;
                in_state(st, &[S::Accepted], "enrolling")?;
                if d == Nursery && actor.unit.as_deref() != st.institution() {
                    return Err(DomainError::forbidden(
                        "enrolling: only the offered institution's staff",
                    ));
                }
                check_date("date", *date, ctx.now)?;
                ev(E::Enrolled { date: *date })
            }
            C::Leave { date } => {
                let d = desks(actor, &[Nursery, HealthAdmin], "recording a leave")?;
                in_state(st, &[S::Enrolled], "leaving")?;
                if d == Nursery && actor.unit.as_deref() != st.institution() {
                    return Err(DomainError::forbidden(
                        "leaving: only the institution's staff",
                    ));
                }
                check_date("date", *date, ctx.now)?;
                if st.enrolled_on.is_some_and(|e| *date < e) {
                    return Err(DomainError::invalid(
                        "date",
                        "bad_range",
                        "the leaving date is before the enrolment",
                    ));
                }
                ev(E::Left { date: *date })
            }
            C::Withdraw => {
                desks(actor, &[Parent, HealthAdmin], "withdrawing")?;
                in_state(
                    st,
                    &[
                        S::Submitted,
                        S::Verified,
                        S::InRound,
                        S::Waiting,
                        S::Offered,
                        S::Accepted,
                    ],
                    "withdrawing",
                )?;
                ev(E::Withdrawn)
            }
        }
    }

    fn apply(st: &mut ApplicationState, e: &CaseEvent<ApplicationEvent>) {
        use ApplicationEvent as E;
        use ApplicationStatus as S;
        st.version = e.seq;
        st.updated_at = e.at;
        match &e.payload {
            E::Submitted {
                code,
                child_ref,
                birth_date,
                guardians,
                street,
                community,
                choices,
                claimed,
                sibling_enrolled_at,
                sibling_application,
                start_date,
                band,
            } => {
                st.code = code.clone();
                st.child_ref = child_ref.clone();
                st.birth_date = *birth_date;
                st.guardians = guardians.clone();
                st.street = street.clone();
                st.community = community.clone();
                st.choices = choices.clone();
                st.claimed = claimed.clone();
                st.sibling_enrolled_at = sibling_enrolled_at.clone();
                st.sibling_application = sibling_application.clone();
                st.start_date = *start_date;
                st.band = *band;
                st.status = S::Submitted;
                st.created_at = e.at;
            }
            E::Verified {
                criteria,
                sibling_enrolled_at,
            } => {
                st.criteria = criteria.clone();
                st.sibling_enrolled_at = sibling_enrolled_at.clone();
                st.status = S::Verified;
            }
            E::EnteredRound { round } => {
                st.round = Some(round.clone());
                st.status = S::InRound;
            }
            E::Unplaced { rejections, .. } => {
                st.rejections = rejections.clone();
                st.status = S::Waiting;
            }
            E::Offered(o) => {
                st.offer = Some(o.clone());
                st.status = S::Offered;
            }
            E::Accepted => st.status = S::Accepted,
            E::Declined => st.status = S::Declined,
            E::Expired => st.status = S::Expired,
            E::Enrolled { date } => {
                st.enrolled_on = Some(*date);
                st.status = S::Enrolled;
            }
            E::Left { date } => {
                st.left_on = Some(*date);
                st.status = S::Left;
            }
            E::Withdrawn => st.status = S::Withdrawn,
        }
    }

    fn id(st: &ApplicationState) -> i64 {
        st.id
    }
    fn version(st: &ApplicationState) -> i64 {
        st.version
    }
    fn status(st: &ApplicationState) -> &str {
        st.status.as_str()
    }

    /// An institution's staff see only the applications offered a place with them; parents
    /// reach an application only through its proven code (the app); everyone else sees all.
    fn can_see(actor: &Actor, st: &ApplicationState) -> bool {
        match desk(actor.role) {
            Some(Desk::Nursery) => {
                st.institution().is_some() && st.institution() == actor.unit.as_deref()
            }
            // The desks, and 12345 staff answering a parent's call: the state holds no names.
            _ => true,
        }
    }

    fn next_timer(st: &ApplicationState) -> Option<Timestamp> {
        match (&st.status, &st.offer) {
            (ApplicationStatus::Offered, Some(o)) => Some(o.deadline),
            _ => None,
        }
    }

    fn fire_timers(st: &ApplicationState, now: Timestamp) -> Vec<Decided<ApplicationEvent>> {
        match Self::next_timer(st) {
            Some(t) if t <= now => vec![(
                ApplicationEvent::Expired,
                Some("学位确认期限已过，未确认".into()),
            )],
            _ => Vec::new(),
        }
    }

    fn index(st: &ApplicationState) -> CaseIndex {
        CaseIndex {
            code: Some(st.code.clone()),
            owner: st.institution().map(str::to_string),
            region: Some(st.street.clone()),
            subject: None,
            at: match (&st.status, &st.offer) {
                (ApplicationStatus::Offered, Some(o)) => Some(o.deadline),
                _ => Some(st.created_at),
            },
        }
    }
}
