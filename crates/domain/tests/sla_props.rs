//! Property tests of the working calendar and the SLA rules, on the shipped holiday files.

use jiesu_domain::lifecycle::{Caller, Intake};
use jiesu_domain::{
    Actor, Channel, Command, Ctx, Directory, EscalationKind, Event, EventKind, RequestState,
    RequestType, Role, decide, sla_breaches,
};
use jiesu_world::Span;
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use std::sync::LazyLock;

static DIR: LazyLock<Directory> = LazyLock::new(|| {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../world/xicheng");
    match jiesu_world::load_dir(&path) {
        Ok(w) => Directory::new(w),
        Err(e) => panic!("world: {e}"),
    }
});

/// Instants from 2023 to 2028: across every holiday file and past both ends of them.
fn instant() -> impl Strategy<Value = Timestamp> {
    (1_672_531_200_000i64..1_830_297_600_000i64)
        .prop_map(|ms| Timestamp::from_millisecond(ms).expect("in range"))
}

fn local(t: Timestamp) -> jiff::civil::DateTime {
    t.to_zoned_datetime(DIR.calendar.time_zone().clone())
        .datetime()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn working_day_deadline_ends_on_the_nth_working_day(from in instant(), n in 1u32..30) {
        let cal = &DIR.calendar;
        let due = cal.due(from, Span::WorkingDays(n));
        let dt = local(due);
        prop_assert_eq!((dt.hour(), dt.minute(), dt.second()), (23, 59, 59));
        prop_assert!(cal.is_working_day(dt.date()));
        // Exactly n working days in (from's date, due's date].
        let mut d: Date = cal.local_date(from);
        let mut count = 0;
        while d < dt.date() {
            d = d.tomorrow().expect("date");
            if cal.is_working_day(d) {
                count += 1;
            }
        }
        prop_assert_eq!(count, n);
        prop_assert!(due > from);
    }

    #[test]
    fn deadlines_are_monotonic(a in instant(), b in instant(), n in 1u32..20, m in 1u32..20) {
        let cal = &DIR.calendar;
        let (early, late) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(cal.due(early, Span::WorkingDays(n)) <= cal.due(late, Span::WorkingDays(n)));
        let (lo, hi) = if n <= m { (n, m) } else { (m, n) };
        prop_assert!(cal.due(a, Span::WorkingDays(lo)) <= cal.due(a, Span::WorkingDays(hi)));
        if lo < hi {
            prop_assert!(cal.due(a, Span::WorkingDays(lo)) < cal.due(a, Span::WorkingDays(hi)));
        }
    }

    #[test]
    fn hour_spans_are_calendar_time(from in instant(), h in 0u32..500) {
        let due = DIR.calendar.due(from, Span::Hours(h));
        prop_assert_eq!(due.duration_since(from), SignedDuration::from_hours(i64::from(h)));
    }

    #[test]
    fn far_dates_never_panic(ms in -2_000_000_000_000i64..5_000_000_000_000i64, n in 0u32..40) {
        let from = Timestamp::from_millisecond(ms).expect("in range");
        let due = DIR.calendar.due(from, Span::WorkingDays(n));
        prop_assert!(due >= from || n == 0);
    }

    /// Pausing (an extension pending) and resuming never shortens the deadline, whether the
    /// extension is approved or refused.
    #[test]
    fn pausing_never_shortens_a_deadline(
        start in instant(),
        wait_ms in 0i64..(20 * 86_400_000),
        pause_ms in 0i64..(30 * 86_400_000),
        days in 1u32..15,
        approve in any::<bool>(),
    ) {
        let mut st = dispatched(start);
        let before = st.completion_due.expect("due");
        let handler = handler();
        let t1 = start + SignedDuration::from_millis(wait_ms);
        step(&mut st, &handler, &Command::Accept, t1);
        step(&mut st, &handler, &Command::Extend { working_days: days, reason: "协调".into() }, t1);
        let t2 = t1 + SignedDuration::from_millis(pause_ms);
        let boss = Actor { user_id: Some(2), username: "d".into(), role: Role::Dispatcher, unit: None };
        step(&mut st, &boss, &Command::DecideExtension { approve, reason: Some("理由".into()) }, t2);
        let after = st.completion_due.expect("due");
        prop_assert!(after >= before + SignedDuration::from_millis(pause_ms));
        if approve {
            prop_assert!(after > before + SignedDuration::from_millis(pause_ms));
        }
    }

    /// However often and whenever the sweep runs, each deadline is breached at most once, and
    /// a breach that happened is always flagged.
    #[test]
    fn overdue_is_raised_exactly_once(start in instant(), offsets in prop::collection::vec(0i64..(40 * 86_400_000), 1..12)) {
        let mut st = dispatched(start);
        let mut times: Vec<Timestamp> = offsets.iter().map(|o| start + SignedDuration::from_millis(*o)).collect();
        times.sort();
        let system = Actor::system();
        let mut raised = Vec::new();
        for t in &times {
            for n in sla_breaches(&st, *t) {
                if let EventKind::Escalated { escalation, .. } = &n.kind {
                    raised.push(*escalation);
                }
                let e = Event { seq: st.version + 1, at: *t, actor: system.clone(), reason: n.reason, kind: n.kind };
                st.apply(&e);
            }
        }
        let count = |k: EscalationKind| raised.iter().filter(|x| **x == k).count();
        prop_assert!(count(EscalationKind::ResponseOverdue) <= 1);
        prop_assert!(count(EscalationKind::CompletionOverdue) <= 1);
        let last = *times.last().expect("non-empty");
        prop_assert_eq!(count(EscalationKind::ResponseOverdue) == 1, st.response_due.expect("due") < last);
        prop_assert_eq!(count(EscalationKind::CompletionOverdue) == 1, st.completion_due.expect("due") < last);
    }
}

fn handler() -> Actor {
    Actor {
        user_id: Some(3),
        username: "h".into(),
        role: Role::Handler,
        unit: Some("110102012".into()),
    }
}

fn step(st: &mut RequestState, actor: &Actor, cmd: &Command, now: Timestamp) {
    let ctx = Ctx { dir: &DIR, now };
    match decide(st, actor, cmd, &ctx) {
        Ok(events) => {
            for n in events {
                let e = Event {
                    seq: st.version + 1,
                    at: now,
                    actor: actor.clone(),
                    reason: n.reason,
                    kind: n.kind,
                };
                st.apply(&e);
            }
        }
        Err(e) => panic!("{} refused: {e}", cmd.name()),
    }
}

/// A complaint dispatched to 什刹海街道 at `at`.
fn dispatched(at: Timestamp) -> RequestState {
    let intake = Intake {
        request_type: RequestType::Complaint,
        channel: Channel::Hotline,
        category: Some("property.service".into()),
        street: Some("110102012".into()),
        community: None,
        address: None,
        title: None,
        text: "楼道堆物".into(),
        caller: Caller::default(),
        urgent: false,
        received_at: at,
    };
    let mut st = RequestState::new(1, "XC".into(), intake, at);
    let d = Actor {
        user_id: Some(2),
        username: "d".into(),
        role: Role::Dispatcher,
        unit: None,
    };
    step(
        &mut st,
        &d,
        &Command::Dispatch {
            unit: "110102012".into(),
            reason: None,
        },
        at,
    );
    st
}
