//! 医育结合: health-check records of enrolled children and the checks due by the national
//! schedule (国家基本公共卫生服务规范, 0–6岁儿童健康管理: 满月, then 3, 6, 8, 12, 18, 24, 30 and 36
//! months), as data.

use crate::childcare::application::today;
use crate::childcare::institution::check_code;
use crate::error::DomainError;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// One health check as the primary-care provider records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCheck {
    pub date: Date,
    /// The provider's code (社区卫生服务中心).
    pub provider: String,
    pub height_mm: u32,
    pub weight_g: u32,
    #[serde(default)]
    pub notes: String,
}

/// Plausible ranges for a child of 0–36 months (with margin): 40–130 cm, 1.5–30 kg.
pub const HEIGHT_MM: (u32, u32) = (400, 1300);
pub const WEIGHT_G: (u32, u32) = (1500, 30_000);

impl HealthCheck {
    /// Checks a record for a child born on `birth`: the provider's code, a date between the
    /// birth and today, plausible measurements (a height in cm or a weight in kg is caught),
    /// notes at most 2000 characters.
    pub fn check(&self, birth: Date, now: Timestamp) -> Result<(), DomainError> {
        check_code("provider", &self.provider)?;
        if self.date > today(now) {
            return Err(DomainError::invalid(
                "date",
                "date_in_future",
                "must not be in the future",
            ));
        }
        if self.date < birth {
            return Err(DomainError::invalid(
                "date",
                "date_before_birth",
                "the check is dated before the child's birth",
            ));
        }
        if !(HEIGHT_MM.0..=HEIGHT_MM.1).contains(&self.height_mm) {
            return Err(DomainError::invalid(
                "height_mm",
                "implausible_measurement",
                format!("between {} and {} mm", HEIGHT_MM.0, HEIGHT_MM.1),
            ));
        }
        if !(WEIGHT_G.0..=WEIGHT_G.1).contains(&self.weight_g) {
            return Err(DomainError::invalid(
                "weight_g",
                "implausible_measurement",
                format!("between {} and {} g", WEIGHT_G.0, WEIGHT_G.1),
            ));
        }
        if self.notes.chars().count() > 2000 {
            return Err(DomainError::invalid(
                "notes",
                "too_long",
                "at most 2000 characters",
            ));
        }
        Ok(())
    }
}

/// The schedule of checks (data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckSchedule {
    /// Ages in months at which a check is due (1 = 满月).
    pub months: Vec<u32>,
    /// A check this many days before its due date counts for it.
    pub early_days: i64,
    /// Days after the due date before a missing check is overdue.
    pub grace_days: i64,
}

impl Default for CheckSchedule {
    fn default() -> Self {
        Self::national()
    }
}

impl CheckSchedule {
    pub fn national() -> Self {
        CheckSchedule {
            months: vec![1, 3, 6, 8, 12, 18, 24, 30, 36],
            early_days: 15,
            grace_days: 30,
        }
    }
}

/// Where a scheduled check stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CheckStatus {
    /// A record falls in the check's window.
    Done { date: Date },
    /// Not yet due.
    Upcoming,
    /// Due, within the grace period.
    Due,
    /// Past the grace period, the window still open.
    Overdue,
    /// The window closed (the next check's window began) without a record.
    Missed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueCheck {
    pub month: u32,
    pub due_on: Date,
    #[serde(flatten)]
    pub status: CheckStatus,
}

fn add_months(d: Date, m: u32) -> Date {
    d.checked_add(jiff::Span::new().months(i64::from(m)))
        .unwrap_or(d)
}

fn add_days(d: Date, n: i64) -> Date {
    d.checked_add(jiff::Span::new().days(n)).unwrap_or(d)
}

impl CheckSchedule {
    /// Every scheduled check of a child born on `birth`, with its status on `today` given the
    /// dates of the checks `done`. A check's window runs from `early_days` before its due date
    /// to the start of the next check's window (the last: 90 days after its due date); the
    /// earliest record in the window counts.
    pub fn due_checks(&self, birth: Date, done: &[Date], today: Date) -> Vec<DueCheck> {
        let dues: Vec<Date> = self.months.iter().map(|m| add_months(birth, *m)).collect();
        dues.iter()
            .enumerate()
            .map(|(i, &due)| {
                let open = add_days(due, -self.early_days);
                let close = match dues.get(i + 1) {
                    Some(n) => add_days(*n, -self.early_days),
                    None => add_days(due, 90),
                };
                let hit = done
                    .iter()
                    .copied()
                    .filter(|d| open <= *d && *d < close)
                    .min();
                let status = match hit {
                    Some(date) => CheckStatus::Done { date },
                    None if today < due => CheckStatus::Upcoming,
                    None if today >= close => CheckStatus::Missed,
                    None if today > add_days(due, self.grace_days) => CheckStatus::Overdue,
                    None => CheckStatus::Due,
                };
                DueCheck {
                    month: self.months[i],
                    due_on: due,
                    status,
                }
            })
            .collect()
    }
}

/// [`CheckSchedule::due_checks`] by the national schedule.
pub fn due_checks(birth: Date, done: &[Date], today: Date) -> Vec<DueCheck> {
    CheckSchedule::national().due_checks(birth, done, today)
}
