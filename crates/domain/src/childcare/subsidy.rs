//! The per-place operating subsidy for 普惠 places: the city's and the district's amounts per
//! child-month (data, fen), paid for each enrolled child and pro-rated by the days enrolled in
//! the month (rule as data), settled monthly per institution. Market places get none.
//!
//! Rounding: each amount (city, district) of each child's line is rounded half up to the fen;
//! the totals are the sums of the lines, so an export of the lines adds up to the totals exactly.

use crate::childcare::institution::{Band, Institution, InstitutionKind};
use crate::error::DomainError;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// How a part month is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Proration {
    /// amount × days enrolled ÷ days in the month.
    ByDays,
    /// The full amount when enrolled at least `min_days` days of the month, otherwise by days.
    FullMonthFrom { min_days: u32 },
}

/// The subsidy's amounts and rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubsidyRules {
    /// The city's amount per 普惠 place per month, fen.
    pub city_fen: i64,
    /// The district's top-up per 普惠 place per month, fen.
    pub district_fen: i64,
    pub proration: Proration,
}

impl SubsidyRules {
    /// Placeholder amounts for the demo (¥500 city, ¥200 district, by days): local policy sets
    /// the real ones.
    pub fn demo() -> Self {
        SubsidyRules {
            city_fen: 50_000,
            district_fen: 20_000,
            proration: Proration::ByDays,
        }
    }

    /// The amount `rate` for `days` of a month of `dim` days.
    pub fn prorate(&self, rate: i64, days: u32, dim: u32) -> i64 {
        let days = days.min(dim);
        if let Proration::FullMonthFrom { min_days } = self.proration
            && days >= min_days
        {
            return rate;
        }
        let (d, m) = (i64::from(days), i64::from(dim.max(1)));
        (rate * d * 2 + m) / (2 * m)
    }
}

/// One enrolment of the log: a child at an institution from `from` to `to` (both inclusive;
/// `None`: still enrolled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolmentSpell {
    /// The application's code.
    pub application: String,
    pub child_ref: String,
    pub institution: String,
    pub band: Band,
    pub from: Date,
    pub to: Option<Date>,
}

impl EnrolmentSpell {
    /// The spell of an enrolled (or left) application; `left_on` is the last day enrolled.
    pub fn of(st: &crate::childcare::application::ApplicationState) -> Option<Self> {
        Some(EnrolmentSpell {
            application: st.code.clone(),
            child_ref: st.child_ref.clone(),
            institution: st.institution()?.to_string(),
            band: st.band,
            from: st.enrolled_on?,
            to: st.left_on,
        })
    }
}

/// One child's line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubsidyLine {
    pub application: String,
    pub child_ref: String,
    pub band: Band,
    /// Days enrolled in the month.
    pub days: u32,
    pub first_day: Date,
    pub last_day: Date,
    pub city_fen: i64,
    pub district_fen: i64,
    pub total_fen: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubsidyTotals {
    pub children: u32,
    pub child_days: u32,
    pub city_fen: i64,
    pub district_fen: i64,
    pub total_fen: i64,
}

/// An institution's settlement for one month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    pub institution: String,
    pub kind: InstitutionKind,
    /// `YYYY-MM`.
    pub month: String,
    pub days_in_month: u32,
    pub rules: SubsidyRules,
    /// One per child enrolled on any day of the month (market institutions too, at zero), by
    /// application code.
    pub lines: Vec<SubsidyLine>,
    pub totals: SubsidyTotals,
}

impl Settlement {
    /// Whether the totals are the sums of the lines.
    pub fn adds_up(&self) -> bool {
        let mut t = SubsidyTotals::default();
        for l in &self.lines {
            t.children += 1;
            t.child_days += l.days;
            t.city_fen += l.city_fen;
            t.district_fen += l.district_fen;
            t.total_fen += l.total_fen;
        }
        t == self.totals
            && self
                .lines
                .iter()
                .all(|l| l.city_fen + l.district_fen == l.total_fen)
    }
}

/// Settles `month` (any day of it) for `inst` from the enrolment log (spells of other
/// institutions are ignored; a child's overlapping spells count each day once).
pub fn settle_month(
    inst: &Institution,
    log: &[EnrolmentSpell],
    month: Date,
    rules: &SubsidyRules,
) -> Result<Settlement, DomainError> {
    if rules.city_fen < 0 || rules.district_fen < 0 {
        return Err(DomainError::invalid(
            if rules.city_fen < 0 {
                "city_fen"
            } else {
                "district_fen"
            },
            "negative_amount",
            "must not be negative",
        ));
    }
    let first = month.first_of_month();
    let last = month.last_of_month();
    let dim = u32::from(month.days_in_month().unsigned_abs());
    let mut days: BTreeMap<&str, (BTreeSet<Date>, &EnrolmentSpell)> = BTreeMap::new();
    for (i, s) in log.iter().enumerate() {
        if s.to.is_some_and(|t| t < s.from) {
            return Err(DomainError::invalid(
                &format!("log[{i}].to"),
                "bad_range",
                "the end is before the start",
            ));
        }
        if s.institution != inst.code {
            continue;
        }
        let (a, b) = (s.from.max(first), s.to.unwrap_or(last).min(last));
        let entry = days
            .entry(s.application.as_str())
            .or_insert_with(|| (BTreeSet::new(), s));
        let mut d = a;
        while d <= b {
            entry.0.insert(d);
            match d.tomorrow() {
                Ok(n) => d = n,
                Err(_) => break,
            }
        }
    }
    let paid = inst.kind == InstitutionKind::Puhui;
    let mut lines = Vec::new();
    let mut totals = SubsidyTotals::default();
    for (app, (set, spell)) in days {
        let (Some(&f), Some(&l)) = (set.first(), set.last()) else {
            continue;
        };
        let n = set.len() as u32;
        let (city, district) = if paid {
            (
                rules.prorate(rules.city_fen, n, dim),
                rules.prorate(rules.district_fen, n, dim),
            )
        } else {
            (0, 0)
        };
        totals.children += 1;
        totals.child_days += n;
        totals.city_fen += city;
        totals.district_fen += district;
        totals.total_fen += city + district;
        lines.push(SubsidyLine {
            application: app.to_string(),
            child_ref: spell.child_ref.clone(),
            band: spell.band,
            days: n,
            first_day: f,
            last_day: l,
            city_fen: city,
            district_fen: district,
            total_fen: city + district,
        });
    }
    Ok(Settlement {
        institution: inst.code.clone(),
        kind: inst.kind,
        month: crate::care::claim::month_of(first),
        days_in_month: dim,
        rules: *rules,
        lines,
        totals,
    })
}
