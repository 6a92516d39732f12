//! Pure helpers for the formulas' arithmetic. The app counts records; these turn counts into
//! values. A zero denominator gives `None` (shown as "no data"), never NaN or infinity.
//!
//! Keep the counts, not only the value: a [`Fraction`] is what the dashboard opens down to
//! (its numerator's and denominator's records), and a district's value is the sum of the
//! streets' numerators over the sum of their denominators — not the mean of street rates,
//! which would weigh a street of 40,000 people like one of 120,000.

use serde::{Deserialize, Serialize};

/// `numerator / denominator`, `None` when the denominator is zero or either is not finite.
pub fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    if denominator == 0.0 || !numerator.is_finite() || !denominator.is_finite() {
        None
    } else {
        Some(numerator / denominator)
    }
}

/// `100 · part / whole`, `None` for an empty whole.
pub fn percent(part: u64, whole: u64) -> Option<f64> {
    per(part, whole, 100.0)
}

/// `scale · count / base`: a rate per `scale` of the base (per 1,000 elders, per 10,000
/// residents).
pub fn per(count: u64, base: u64, scale: f64) -> Option<f64> {
    ratio(count as f64 * scale, base as f64)
}

/// Per 1,000 of the base.
pub fn per_1000(count: u64, base: u64) -> Option<f64> {
    per(count, base, 1000.0)
}

/// Per 10,000 of the base.
pub fn per_10000(count: u64, base: u64) -> Option<f64> {
    per(count, base, 10_000.0)
}

/// The arithmetic mean, `None` for no values.
pub fn mean(values: &[f64]) -> Option<f64> {
    ratio(values.iter().sum(), values.len() as f64)
}

/// Percent of durations (seconds) at or under `limit_secs`; a duration that never ended (the
/// alarm never acknowledged) is `None` and counts as over the limit.
pub fn percent_within(durations_secs: &[Option<i64>], limit_secs: i64) -> Option<f64> {
    let within = durations_secs
        .iter()
        .filter(|d| d.is_some_and(|s| s <= limit_secs))
        .count();
    percent(within as u64, durations_secs.len() as u64)
}

/// Highest minus lowest of the values that exist (the gap between streets), `None` with fewer
/// than two.
pub fn spread(values: &[Option<f64>]) -> Option<f64> {
    let v: Vec<f64> = values.iter().flatten().copied().collect();
    if v.len() < 2 {
        return None;
    }
    let max = v.iter().copied().fold(f64::MIN, f64::max);
    let min = v.iter().copied().fold(f64::MAX, f64::min);
    Some(max - min)
}

/// A count over a count, kept whole so it can be summed across streets and opened down to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fraction {
    pub numerator: u64,
    pub denominator: u64,
}

impl Fraction {
    pub fn new(numerator: u64, denominator: u64) -> Self {
        Fraction {
            numerator,
            denominator,
        }
    }
    pub fn percent(self) -> Option<f64> {
        percent(self.numerator, self.denominator)
    }
    /// Per `scale` of the denominator.
    pub fn per(self, scale: f64) -> Option<f64> {
        per(self.numerator, self.denominator, scale)
    }
}

impl std::ops::Add for Fraction {
    type Output = Fraction;
    fn add(self, o: Fraction) -> Fraction {
        Fraction::new(
            self.numerator.saturating_add(o.numerator),
            self.denominator.saturating_add(o.denominator),
        )
    }
}

impl std::iter::Sum for Fraction {
    fn sum<I: Iterator<Item = Fraction>>(it: I) -> Fraction {
        it.fold(Fraction::default(), |a, b| a + b)
    }
}
