//! Property tests of the progress measure.

use jiesu_domain::indicators::definition::{Direction, Point};
use jiesu_domain::indicators::progress::{ProgressStatus, progress};
use proptest::prelude::*;

fn rank(s: ProgressStatus) -> u8 {
    match s {
        ProgressStatus::Deterioration => 0,
        ProgressStatus::LimitedProgress => 1,
        ProgressStatus::NeedsAcceleration => 2,
        ProgressStatus::OnTrack => 3,
        ProgressStatus::Achieved => 4,
        ProgressStatus::Unassessable => 99,
    }
}

proptest! {
    /// A better current value never gives a worse status, in either direction and with either
    /// method (values of any sign).
    #[test]
    fn status_is_monotone_in_the_current_value(
        x in -50.0f64..200.0,
        z in -50.0f64..200.0,
        a in -50.0f64..200.0,
        b in -50.0f64..200.0,
        elapsed in 1i16..10,
        horizon in 1i16..15,
        lower in any::<bool>(),
    ) {
        let dir = if lower { Direction::Lower } else { Direction::Higher };
        let (worse, better) = match dir {
            Direction::Higher => (a.min(b), a.max(b)),
            Direction::Lower => (a.max(b), a.min(b)),
        };
        let base = Point { year: 2020, value: x };
        let target = Point { year: 2020 + horizon, value: z };
        let at = |v| progress(dir, base, target, Point { year: 2020 + elapsed, value: v });
        let (w, bt) = (at(worse), at(better));
        prop_assert!(w.status != ProgressStatus::Unassessable);
        prop_assert!(rank(w.status) <= rank(bt.status), "{:?} then {:?}", w, bt);
        for s in [&w, &bt] {
            prop_assert!(s.ratio.is_none_or(f64::is_finite));
        }
    }
}
