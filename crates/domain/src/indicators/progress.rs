//! Progress towards a target by the Statistics Canada method that Open SDG uses.
//!
//! Observed growth is the compound annual growth rate since the baseline,
//! `CAGR_o = (y / y0)^(1 / (t − t0)) − 1`; the growth needed is the rate that reaches the target
//! on time from the baseline, `CAGR_T = (yT / y0)^(1 / (T − t0)) − 1`; the ratio is
//! `R = d · CAGR_o / |CAGR_T|` with `d = +1` when higher is better and `−1` when lower is better.
//! The target met (y ≥ yT, or ≤ for lower-is-better) is *achieved*, whatever the trend; else
//! R ≥ 0.95 *on track*, 0.6 ≤ R < 0.95 *needs acceleration*, 0 ≤ R < 0.6 *limited progress*,
//! R < 0 *deterioration*.
//!
//! Fallback: growth rates are undefined when the baseline, the current value or the target is
//! zero or negative (an indicator counted from zero, a target of zero incidents). There the
//! measure uses linear growth per year, `(y − y0) / (t − t0)` against `(yT − y0) / (T − t0)`,
//! with the same ratio and thresholds. (Open SDG substitutes 0.001 for a zero instead; linear
//! growth does not make the verdict depend on that arbitrary constant.)
//!
//! Unable to assess: no observation after the baseline year (and the target not met), a target
//! year not after the baseline year, or a value that is not finite.

use super::definition::{Direction, Indicator, Point};
use crate::model::vocabulary;
use serde::Serialize;

vocabulary! {
    /// The verdict, Open SDG's categories.
    ProgressStatus {
        Achieved = "achieved" / "已实现目标",
        OnTrack = "on_track" / "进展顺利",
        NeedsAcceleration = "needs_acceleration" / "有进展但需加速",
        LimitedProgress = "limited_progress" / "进展有限",
        Deterioration = "deterioration" / "出现倒退",
        Unassessable = "unable_to_assess" / "无法评估",
    }
}

impl ProgressStatus {
    /// The dashboard's colour for the status (Open SDG's gauge colours).
    pub fn colour(self) -> &'static str {
        match self {
            ProgressStatus::Achieved => "#006400",
            ProgressStatus::OnTrack => "#3f9c35",
            ProgressStatus::NeedsAcceleration => "#f2c500",
            ProgressStatus::LimitedProgress => "#f28c28",
            ProgressStatus::Deterioration => "#d62728",
            ProgressStatus::Unassessable => "#9e9e9e",
        }
    }
}

vocabulary! {
    /// How the growth rates were measured.
    Method {
        Compound = "compound" / "复合年均增长率",
        Linear = "linear" / "线性年均变化",
    }
}

/// R at or above this is on track.
pub const ON_TRACK: f64 = 0.95;
/// R at or above this (and below [`ON_TRACK`]) needs acceleration; below it, down to 0, is
/// limited progress.
pub const NEEDS_ACCELERATION: f64 = 0.6;

/// The verdict with the numbers behind it, so the dashboard can show its working.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    pub status: ProgressStatus,
    /// `None` when the target is met or the series cannot be assessed.
    pub method: Option<Method>,
    /// Observed growth per year (a rate for compound, units per year for linear).
    pub observed: Option<f64>,
    /// Growth per year needed to reach the target on time.
    pub required: Option<f64>,
    /// `d · observed / |required|`.
    pub ratio: Option<f64>,
    /// Why a series could not be assessed (a stable code).
    pub unassessable: Option<&'static str>,
}

impl Assessment {
    fn only(status: ProgressStatus, unassessable: Option<&'static str>) -> Self {
        Assessment {
            status,
            method: None,
            observed: None,
            required: None,
            ratio: None,
            unassessable,
        }
    }
}

/// The status for a ratio R (thresholds of the method).
pub fn status_for_ratio(r: f64) -> ProgressStatus {
    if r >= ON_TRACK {
        ProgressStatus::OnTrack
    } else if r >= NEEDS_ACCELERATION {
        ProgressStatus::NeedsAcceleration
    } else if r >= 0.0 {
        ProgressStatus::LimitedProgress
    } else {
        ProgressStatus::Deterioration
    }
}

/// Progress of `current` from `baseline` towards `target`.
pub fn progress(
    direction: Direction,
    baseline: Point,
    target: Point,
    current: Point,
) -> Assessment {
    use ProgressStatus::*;
    if ![baseline.value, target.value, current.value]
        .iter()
        .all(|v| v.is_finite())
    {
        return Assessment::only(Unassessable, Some("not_finite"));
    }
    if target.year <= baseline.year {
        return Assessment::only(Unassessable, Some("target_year_not_after_baseline"));
    }
    if current.year >= baseline.year && direction.meets(current.value, target.value) {
        return Assessment::only(Achieved, None);
    }
    if current.year <= baseline.year {
        return Assessment::only(Unassessable, Some("no_later_year"));
    }
    let (x, y, z) = (baseline.value, current.value, target.value);
    let elapsed = f64::from(current.year - baseline.year);
    let horizon = f64::from(target.year - baseline.year);
    let (method, observed, required) = if x > 0.0 && y > 0.0 && z > 0.0 {
        (
            Method::Compound,
            (y / x).powf(1.0 / elapsed) - 1.0,
            (z / x).powf(1.0 / horizon) - 1.0,
        )
    } else {
        (Method::Linear, (y - x) / elapsed, (z - x) / horizon)
    };
    // A target equal to the baseline needs no growth: not met, the value moved away from it.
    let (status, ratio) = if required == 0.0 {
        (Deterioration, None)
    } else {
        let r = direction.sign() * observed / required.abs();
        (status_for_ratio(r), Some(r))
    };
    Assessment {
        status,
        method: Some(method),
        observed: Some(observed),
        required: Some(required),
        ratio,
        unassessable: None,
    }
}

/// Progress of an indicator at `current` (its baseline and target from the definition).
pub fn assess(ind: &Indicator, current: Point) -> Assessment {
    progress(ind.direction, ind.baseline, ind.target, current)
}

/// Progress of an indicator over a yearly series: the latest year's value is the current one.
/// An empty series cannot be assessed.
pub fn assess_series(ind: &Indicator, series: &[Point]) -> Assessment {
    match series.iter().max_by_key(|p| p.year) {
        Some(p) => assess(ind, *p),
        None => Assessment::only(ProgressStatus::Unassessable, Some("no_data")),
    }
}

/// The value on the straight path from the baseline to the target in `year` (the dashboard's
/// "where we should be" line); the compound path where the method would use it.
pub fn trajectory(baseline: Point, target: Point, year: i16) -> Option<f64> {
    if target.year <= baseline.year {
        return None;
    }
    let k = f64::from(year - baseline.year) / f64::from(target.year - baseline.year);
    let (x, z) = (baseline.value, target.value);
    Some(if x > 0.0 && z > 0.0 {
        x * (z / x).powf(k)
    } else {
        x + (z - x) * k
    })
}
