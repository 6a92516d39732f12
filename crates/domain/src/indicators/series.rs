//! Values by period, street and district, as the dashboard reads them: Open SDG's "one data
//! file per indicator (year, optional breakdowns, value)". A computed value keeps its
//! [`Fraction`] so it opens down to the records behind it; an imported one has none.
//!
//! The progress measure runs on yearly values: an observation for a year (`Period::Year`) is
//! the value over that whole year. Monthly observations are the trend chart's; the app writes
//! the year's own value (computed over the year, not the mean of months) as a `Year` period.

use super::definition::Point;
use super::import::{ImportedRow, Period};
use super::rates::Fraction;
use serde::{Deserialize, Serialize};

/// One value of an indicator in a period, for a street or (street `None`) the district.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub indicator: String,
    pub period: Period,
    #[serde(default)]
    pub street: Option<String>,
    pub value: f64,
    /// The counts behind a computed value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fraction: Option<Fraction>,
}

impl From<&ImportedRow> for Observation {
    fn from(r: &ImportedRow) -> Self {
        Observation {
            indicator: r.indicator.clone(),
            period: r.period,
            street: r.street.clone(),
            value: r.value,
            fraction: None,
        }
    }
}

/// The yearly values of `indicator` for `street` (`None`: the district), by year; a year given
/// twice keeps the last one given (a corrected edition replaces the first).
pub fn yearly_series(obs: &[Observation], indicator: &str, street: Option<&str>) -> Vec<Point> {
    let mut out: Vec<Point> = Vec::new();
    for o in obs {
        let Period::Year(year) = o.period else {
            continue;
        };
        if o.indicator != indicator || o.street.as_deref() != street || !o.value.is_finite() {
            continue;
        }
        match out.iter_mut().find(|p| p.year == year) {
            Some(p) => p.value = o.value,
            None => out.push(Point {
                year,
                value: o.value,
            }),
        }
    }
    out.sort_by_key(|p| p.year);
    out
}

/// The streets' values of `indicator` in `period`, best first for `direction` (ties by street
/// name, so the order is stable): the street comparison.
pub fn street_comparison(
    obs: &[Observation],
    indicator: &str,
    period: Period,
    direction: super::definition::Direction,
) -> Vec<(String, f64)> {
    let mut v: Vec<(String, f64)> = obs
        .iter()
        .filter(|o| o.indicator == indicator && o.period == period && o.value.is_finite())
        .filter_map(|o| o.street.clone().map(|s| (s, o.value)))
        .collect();
    v.sort_by(|a, b| {
        let ord = a.1.total_cmp(&b.1);
        let ord = match direction {
            super::definition::Direction::Higher => ord.reverse(),
            super::definition::Direction::Lower => ord,
        };
        ord.then_with(|| a.0.cmp(&b.0))
    });
    v
}
