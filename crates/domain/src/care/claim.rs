//! Monthly settlement: a provider's verified visits (price less co-payment) and a meal point's
//! subsidies (the elders' meal subsidies it advanced and its operating subsidy per diner-day),
//! as a claim the 民政 office approves.
//!
//! A claim is a kind of case: prepared (its lines and total) → approved, and an approved claim
//! is locked. Lines are "due less paid": for every item of the month and of the twelve before it,
//! what the rules say is due minus what approved claims already paid for it. So a meal recorded
//! late, a visit verified after its month was approved, or a meal voided after it was paid
//! appears once, as an adjustment line in the next claim, and nothing is ever paid twice.

use crate::care::meals::Meal;
use crate::care::order::OrderState;
use crate::case::{CaseEvent, CaseIndex, CaseKind, Decided};
use crate::commands::Ctx;
use crate::error::DomainError;
use crate::lifecycle::Actor;
use crate::model::{Role, vocabulary};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

vocabulary! {
    PartyKind {
        Provider = "provider" / "养老服务商",
        MealPoint = "meal_point" / "养老助餐点",
    }
}

vocabulary! {
    LineKind {
        Visit = "visit" / "上门服务",
        MealSubsidy = "meal_subsidy" / "老年人助餐补贴",
        Operating = "operating_subsidy" / "助餐点运营补贴",
    }
}

vocabulary! {
    ClaimStatus {
        Prepared = "prepared" / "待审核",
        Approved = "approved" / "已审核",
    }
}

/// One line of a claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimLine {
    pub kind: LineKind,
    /// The item paid for: `order:<id>`, `meal:<id>`, `diner:<elder>:<date>`.
    pub item: String,
    pub service_date: Date,
    pub elder_id: i64,
    /// What is due now for the item (negative: paid back).
    pub amount_fen: i64,
    /// The item belongs to an earlier month (late, corrected or voided after approval).
    pub adjustment: bool,
}

/// `YYYY-MM` of a date.
pub fn month_of(d: Date) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

/// Parses `YYYY-MM` into its first day.
pub fn parse_month(field: &str, s: &str) -> Result<Date, DomainError> {
    let bad = || DomainError::invalid(field, "bad_month", "a month as YYYY-MM");
    let (y, m) = s.split_once('-').ok_or_else(bad)?;
    if y.len() != 4 || m.len() != 2 {
        return Err(bad());
    }
    let y: i16 = y.parse().map_err(|_| bad())?;
    if !(2000..=2099).contains(&y) {
        return Err(bad());
    }
    let m: i8 = m.parse().map_err(|_| bad())?;
    Date::new(y, m, 1).map_err(|_| bad())
}

/// What the rules say is due per item for a provider: each verified visit's price less
/// co-payment, dated by the visit's end in the deployment's time zone.
pub fn visits_due(
    orders: &[OrderState],
    tz: &TimeZone,
) -> BTreeMap<String, (LineKind, Date, i64, i64)> {
    let mut due = BTreeMap::new();
    for o in orders {
        if let Some(end) = o.verified_visit().and_then(|v| v.finished_at) {
            let date = tz.to_datetime(end).date();
            due.insert(
                format!("order:{}", o.id),
                (LineKind::Visit, date, o.elder_id, o.claim_fen()),
            );
        }
    }
    due
}

/// What is due per item for a meal point: each meal's elder subsidy, and the operating subsidy
/// once per diner-day (voided meals count for nothing).
pub fn meals_due(
    meals: &[Meal],
    operating_fen: i64,
) -> BTreeMap<String, (LineKind, Date, i64, i64)> {
    let mut due = BTreeMap::new();
    let mut diner_days = BTreeSet::new();
    for m in meals.iter().filter(|m| !m.voided) {
        if m.elder_subsidy_fen != 0 {
            due.insert(
                format!("meal:{}", m.id),
                (
                    LineKind::MealSubsidy,
                    m.date,
                    m.elder_id,
                    m.elder_subsidy_fen,
                ),
            );
        }
        diner_days.insert((m.elder_id, m.date));
    }
    for (elder, date) in diner_days {
        due.insert(
            format!("diner:{elder}:{date}"),
            (LineKind::Operating, date, elder, operating_fen),
        );
    }
    due
}

/// How many months before the claim's month late items and corrections are still settled.
pub const LOOKBACK_MONTHS: i64 = 12;

/// The first day of the earliest month a claim for `month` settles.
pub fn window_start(month: Date) -> Date {
    month
        .checked_sub(jiff::Span::new().months(LOOKBACK_MONTHS))
        .unwrap_or(month)
}

/// The claim's lines for `month` (first day): due less paid, for items dated from
/// [`window_start`] to the month's end. `due` holds at least those items; `paid` sums the
/// approved claims' lines per item. Lines of earlier months are adjustments.
pub fn claim_lines(
    month: Date,
    due: &BTreeMap<String, (LineKind, Date, i64, i64)>,
    paid: &BTreeMap<String, (LineKind, Date, i64, i64)>,
) -> Vec<ClaimLine> {
    let next = month
        .checked_add(jiff::Span::new().months(1))
        .unwrap_or(month);
    let mut items: BTreeSet<&String> = due.keys().collect();
    items.extend(paid.keys());
    let mut lines = Vec::new();
    for item in items {
        let d = due.get(item);
        let p = paid.get(item);
        let (kind, date, elder) = match (d, p) {
            (Some(x), _) | (None, Some(x)) => (x.0, x.1, x.2),
            (None, None) => continue,
        };
        if date >= next || date < window_start(month) {
            continue;
        }
        let amount = d.map_or(0, |x| x.3) - p.map_or(0, |x| x.3);
        if amount != 0 {
            lines.push(ClaimLine {
                kind,
                item: item.clone(),
                service_date: date,
                elder_id: elder,
                amount_fen: amount,
                adjustment: date < month,
            });
        }
    }
    lines.sort_by(|a, b| (a.service_date, &a.item).cmp(&(b.service_date, &b.item)));
    lines
}

/// Sums approved claims' lines per item (the `paid` of [`claim_lines`]).
pub fn paid_by_item<'a>(
    claims: impl IntoIterator<Item = &'a ClaimState>,
) -> BTreeMap<String, (LineKind, Date, i64, i64)> {
    let mut paid: BTreeMap<String, (LineKind, Date, i64, i64)> = BTreeMap::new();
    for c in claims
        .into_iter()
        .filter(|c| c.status == ClaimStatus::Approved)
    {
        for l in &c.lines {
            paid.entry(l.item.clone())
                .and_modify(|x| x.3 += l.amount_fen)
                .or_insert((l.kind, l.service_date, l.elder_id, l.amount_fen));
        }
    }
    paid
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimState {
    pub id: i64,
    pub version: i64,
    pub party_kind: PartyKind,
    pub party: String,
    pub month: String,
    pub status: ClaimStatus,
    pub lines: Vec<ClaimLine>,
    pub total_fen: i64,
    pub prepared_at: Timestamp,
    pub approved_at: Option<Timestamp>,
    pub approved_by: Option<String>,
}

impl ClaimState {
    /// The claim's unique key: one claim per party and month.
    pub fn key(party_kind: PartyKind, party: &str, month: &str) -> String {
        format!("{party_kind}:{party}:{month}")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ClaimEvent {
    Prepared {
        party_kind: PartyKind,
        party: String,
        month: String,
        lines: Vec<ClaimLine>,
        total_fen: i64,
    },
    /// Prepared again from the logs before approval (they changed since).
    Revised {
        lines: Vec<ClaimLine>,
        total_fen: i64,
    },
    Approved {
        total_fen: i64,
    },
}

pub struct NewClaim {
    pub party_kind: PartyKind,
    pub party: String,
    pub month: String,
    pub lines: Vec<ClaimLine>,
}

pub enum ClaimCommand {
    Revise {
        lines: Vec<ClaimLine>,
    },
    /// Approves the claim as the approver saw it: refused if its total has changed since.
    Approve {
        total_fen: i64,
    },
}

fn total(lines: &[ClaimLine]) -> i64 {
    lines.iter().map(|l| l.amount_fen).sum()
}

pub struct Claim;

impl CaseKind for Claim {
    const KIND: &'static str = "care_claim";
    type State = ClaimState;
    type Event = ClaimEvent;
    type Command = ClaimCommand;
    type Create = NewClaim;

    fn event_name(e: &ClaimEvent) -> &'static str {
        match e {
            ClaimEvent::Prepared { .. } => "care_claim.prepared",
            ClaimEvent::Revised { .. } => "care_claim.revised",
            ClaimEvent::Approved { .. } => "care_claim.approved",
        }
    }

    fn initial(id: i64, now: Timestamp) -> ClaimState {
        ClaimState {
            id,
            version: 0,
            party_kind: PartyKind::Provider,
            party: String::new(),
            month: String::new(),
            status: ClaimStatus::Prepared,
            lines: Vec::new(),
            total_fen: 0,
            prepared_at: now,
            approved_at: None,
            approved_by: None,
        }
    }

    fn create(
        n: &NewClaim,
        actor: &Actor,
        _ctx: &Ctx<'_>,
    ) -> Result<Vec<Decided<ClaimEvent>>, DomainError> {
        if !matches!(actor.role, Role::CareAdmin | Role::System) {
            return Err(DomainError::forbidden(
                "settlement: only 民政养老管理员 may do this",
            ));
        }
        parse_month("month", &n.month)?;
        Ok(vec![(
            ClaimEvent::Prepared {
                party_kind: n.party_kind,
                party: n.party.clone(),
                month: n.month.clone(),
                total_fen: total(&n.lines),
                lines: n.lines.clone(),
            },
            None,
        )])
    }

    fn decide(
        st: &ClaimState,
        actor: &Actor,
        cmd: &ClaimCommand,
        _ctx: &Ctx<'_>,
    ) -> Result<Vec<Decided<ClaimEvent>>, DomainError> {
        if actor.role != Role::CareAdmin {
            return Err(DomainError::forbidden(
                "settlement: only 民政养老管理员 may do this",
            ));
        }
        if st.status == ClaimStatus::Approved {
            return Err(DomainError::refused(
                "claim_locked",
                "the claim is approved and locked; corrections go into next month's claim",
            ));
        }
        match cmd {
            ClaimCommand::Revise { lines } => {
                if *lines == st.lines {
                    return Ok(vec![]);
                }
                Ok(vec![(
                    ClaimEvent::Revised {
                        lines: lines.clone(),
                        total_fen: total(lines),
                    },
                    None,
                )])
            }
            ClaimCommand::Approve { total_fen } => {
                if *total_fen != st.total_fen {
                    return Err(DomainError::invalid(
                        "total_fen",
                        "claim_changed",
                        format!(
                            "the claim's total is now {} fen; review it again",
                            st.total_fen
                        ),
                    ));
                }
                Ok(vec![(
                    ClaimEvent::Approved {
                        total_fen: st.total_fen,
                    },
                    None,
                )])
            }
        }
    }

    fn apply(st: &mut ClaimState, e: &CaseEvent<ClaimEvent>) {
        st.version = e.seq;
        match &e.payload {
            ClaimEvent::Prepared {
                party_kind,
                party,
                month,
                lines,
                total_fen,
            } => {
                st.party_kind = *party_kind;
                st.party = party.clone();
                st.month = month.clone();
                st.lines = lines.clone();
                st.total_fen = *total_fen;
                st.prepared_at = e.at;
            }
            ClaimEvent::Revised { lines, total_fen } => {
                st.lines = lines.clone();
                st.total_fen = *total_fen;
                st.prepared_at = e.at;
            }
            ClaimEvent::Approved { .. } => {
                st.status = ClaimStatus::Approved;
                st.approved_at = Some(e.at);
                st.approved_by = Some(e.actor.username.clone());
            }
        }
    }

    fn id(st: &ClaimState) -> i64 {
        st.id
    }
    fn version(st: &ClaimState) -> i64 {
        st.version
    }
    fn status(st: &ClaimState) -> &str {
        st.status.as_str()
    }
    fn can_see(actor: &Actor, st: &ClaimState) -> bool {
        match actor.role {
            Role::Provider => actor.unit.as_deref() == Some(st.party.as_str()),
            _ => true,
        }
    }
    fn next_timer(_st: &ClaimState) -> Option<Timestamp> {
        None
    }
    fn fire_timers(_st: &ClaimState, _now: Timestamp) -> Vec<Decided<ClaimEvent>> {
        Vec::new()
    }
    fn index(st: &ClaimState) -> CaseIndex {
        CaseIndex {
            code: Some(ClaimState::key(st.party_kind, &st.party, &st.month)),
            owner: Some(st.party.clone()),
            region: Some(st.month.clone()),
            subject: None,
            at: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::care::meals::MealKind;

    fn meal(id: i64, elder: i64, day: i8, subsidy: i64) -> Meal {
        Meal {
            id,
            elder_id: elder,
            point: "MP1".into(),
            date: jiff::civil::date(2026, 11, day),
            meal: MealKind::Lunch,
            bill_fen: 1500,
            elder_subsidy_fen: subsidy,
            elder_paid_fen: 1500 - subsidy,
            voided: false,
        }
    }

    #[test]
    fn due_less_paid_with_adjustments() {
        let nov = jiff::civil::date(2026, 11, 1);
        // Two meals for elder 1 on the 3rd (one subsidised), one ineligible elder 2.
        let meals = vec![meal(1, 1, 3, 500), meal(2, 1, 3, 0), meal(3, 2, 3, 0)];
        let due = meals_due(&meals, 300);
        let lines = claim_lines(nov, &due, &BTreeMap::new());
        assert_eq!(total(&lines), 500 + 300 + 300);
        assert!(lines.iter().all(|l| !l.adjustment));

        // November approved; then a late November meal and a void of meal 1 appear.
        let approved = ClaimState {
            status: ClaimStatus::Approved,
            lines: lines.clone(),
            total_fen: total(&lines),
            ..Claim::initial(1, Timestamp::UNIX_EPOCH)
        };
        let mut later = meals.clone();
        later[0].voided = true;
        later.push(meal(4, 3, 28, 500));
        let dec = jiff::civil::date(2026, 12, 1);
        let lines = claim_lines(dec, &meals_due(&later, 300), &paid_by_item([&approved]));
        // Paid back meal 1's 500; elder 1 still dined on the 3rd (meal 2) so no operating
        // change; elder 3's late meal: 500 + 300, all adjustments of November.
        let (paid_back, late) = (-500, 500 + 300);
        assert_eq!(total(&lines), paid_back + late);
        assert!(lines.iter().all(|l| l.adjustment));
        // Nothing twice: paying the December claim too leaves nothing due.
        let dec_claim = ClaimState {
            status: ClaimStatus::Approved,
            lines: lines.clone(),
            ..approved.clone()
        };
        let again = claim_lines(
            dec,
            &meals_due(&later, 300),
            &paid_by_item([&approved, &dec_claim]),
        );
        assert!(again.is_empty(), "{again:?}");
    }

    #[test]
    fn months() {
        assert_eq!(
            parse_month("m", "2026-11").unwrap(),
            jiff::civil::date(2026, 11, 1)
        );
        assert_eq!(parse_month("m", "2026-13").unwrap_err().code(), "bad_month");
        assert_eq!(parse_month("m", "26-1").unwrap_err().code(), "bad_month");
        assert_eq!(month_of(jiff::civil::date(2026, 2, 9)), "2026-02");
    }
}
