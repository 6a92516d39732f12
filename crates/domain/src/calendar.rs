//! The Chinese working calendar and deadline arithmetic.
//!
//! *N working days from instant T ends at 23:59:59 local time on the Nth working day strictly
//! after T's local date.* Hour spans are plain calendar time (24/7 services).
//!
//! A date in a year with no holiday file is treated as a plain week (Mon–Fri working) and a
//! warning is logged once per year — never a panic: deadlines must keep working on 1 January
//! even if nobody loaded next year's notice yet.

use jiesu_world::{DayKind, HolidayTable, Span};
use jiff::civil::{Date, Weekday};
use jiff::tz::{Offset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeSet;
use std::sync::Mutex;

pub struct WorkCalendar {
    table: HolidayTable,
    tz: TimeZone,
    /// Years already warned about, so a busy server logs the gap once, not per request.
    warned: Mutex<BTreeSet<i16>>,
}

impl std::fmt::Debug for WorkCalendar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkCalendar")
            .field("years", &self.table.years)
            .finish()
    }
}

/// Upper bound on working days a single span may ask for; keeps a hostile value from looping
/// for years of calendar.
pub const MAX_WORKING_DAYS: u32 = 3650;

impl WorkCalendar {
    /// `time_zone` is an IANA name; Asia/Shanghai has been a fixed +08:00 since 1991, so if the
    /// machine has no zone database we fall back to that offset rather than fail.
    pub fn new(table: HolidayTable, time_zone: &str) -> Self {
        let tz = TimeZone::get(time_zone).unwrap_or_else(|e| {
            tracing::warn!(zone = time_zone, error = %e, "time zone not found; using +08:00");
            TimeZone::fixed(Offset::constant(8))
        });
        WorkCalendar {
            table,
            tz,
            warned: Mutex::new(BTreeSet::new()),
        }
    }

    /// A calendar with no holidays at all (plain weeks), in Asia/Shanghai.
    pub fn plain() -> Self {
        Self::new(HolidayTable::default(), "Asia/Shanghai")
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    pub fn local_date(&self, t: Timestamp) -> Date {
        t.to_zoned_datetime(self.tz.clone()).date()
    }

    /// Whether the calendar knows the year's holidays.
    pub fn knows_year(&self, year: i16) -> bool {
        self.table.years.contains(&year)
    }

    pub fn is_working_day(&self, d: Date) -> bool {
        if !self.knows_year(d.year()) {
            self.warn_unknown_year(d.year());
        }
        match self.table.days.get(&d) {
            Some((DayKind::Holiday, _)) => false,
            Some((DayKind::MakeupWorkday, _)) => true,
            None => !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday),
        }
    }

    fn warn_unknown_year(&self, year: i16) {
        if let Ok(mut w) = self.warned.lock()
            && w.insert(year)
        {
            tracing::warn!(
                year,
                "no holiday file for this year: treating it as plain weeks"
            );
        }
    }

    /// The Nth working day strictly after `date` (n ≥ 1); `n = 0` gives `date` itself.
    pub fn nth_working_day_after(&self, date: Date, n: u32) -> Date {
        let n = n.min(MAX_WORKING_DAYS);
        let mut d = date;
        let mut left = n;
        while left > 0 {
            d = match d.tomorrow() {
                Ok(next) => next,
                Err(_) => return d, // end of the representable calendar; stop rather than panic
            };
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// 23:59:59 local on the given date.
    pub fn end_of_day(&self, d: Date) -> Timestamp {
        d.at(23, 59, 59, 0)
            .to_zoned_datetime(self.tz.clone())
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::MAX)
    }

    /// The deadline `span` after `from`.
    pub fn due(&self, from: Timestamp, span: Span) -> Timestamp {
        match span {
            Span::Hours(h) => add(from, SignedDuration::from_hours(i64::from(h))),
            Span::WorkingDays(n) => {
                self.end_of_day(self.nth_working_day_after(self.local_date(from), n))
            }
        }
    }

    /// The deadline moved `n` more working days beyond an existing one (an approved 延期).
    pub fn extend(&self, due: Timestamp, n: u32) -> Timestamp {
        self.due(due, Span::WorkingDays(n))
    }
}

/// Saturating add: a deadline at the end of time is still a deadline, not a panic.
pub fn add(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.checked_add(d).unwrap_or(if d.is_negative() {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiesu_world::DayKind;

    fn cal_2026() -> WorkCalendar {
        let mut t = HolidayTable::default();
        t.years.insert(2026);
        for d in [
            "2026-10-01",
            "2026-10-02",
            "2026-10-05",
            "2026-10-06",
            "2026-10-07",
        ] {
            t.days
                .insert(d.parse().unwrap(), (DayKind::Holiday, "国庆节".into()));
        }
        for d in ["2026-10-03", "2026-10-04"] {
            t.days
                .insert(d.parse().unwrap(), (DayKind::Holiday, "国庆节".into()));
        }
        t.days.insert(
            "2026-10-10".parse().unwrap(),
            (DayKind::MakeupWorkday, "国庆节".into()),
        );
        t.days.insert(
            "2026-09-20".parse().unwrap(),
            (DayKind::MakeupWorkday, "国庆节".into()),
        );
        WorkCalendar::new(t, "Asia/Shanghai")
    }

    #[test]
    fn seven_working_days_over_national_day() {
        let cal = cal_2026();
        let from: Timestamp = "2026-09-30T10:00:00+08:00".parse().unwrap();
        let due = cal.due(from, Span::WorkingDays(7));
        assert_eq!(due, "2026-10-15T23:59:59+08:00".parse().unwrap());
    }

    #[test]
    fn hours_are_calendar_time() {
        let cal = cal_2026();
        let from: Timestamp = "2026-10-01T10:00:00+08:00".parse().unwrap();
        assert_eq!(
            cal.due(from, Span::Hours(24)),
            "2026-10-02T10:00:00+08:00".parse().unwrap()
        );
    }

    #[test]
    fn unknown_year_is_plain_week() {
        let cal = cal_2026();
        // 2031-01-03 is a Friday; the next working day is Monday 6 January.
        let from: Timestamp = "2031-01-03T09:00:00+08:00".parse().unwrap();
        assert_eq!(
            cal.due(from, Span::WorkingDays(1)),
            "2031-01-06T23:59:59+08:00".parse().unwrap()
        );
    }
}
