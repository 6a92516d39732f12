//! Every counting rule of 考评 (see `docs/assessment.md`) on small hand-built event logs, with
//! the expected numbers worked out by hand.

use fixtures::*;
use jiesu_domain::assessment::{
    Assessment, GroupBy, GroupScore, Period, Query, RequestLog, assess,
};
use jiesu_domain::{
    Actor, Caller, Channel, CloseOutcome, ContactMethod, Event, EventKind, Intake, RequestType,
    Satisfaction, SpecialHandling,
};
use jiesu_world::AssessmentWeights;
use jiff::Timestamp;

/// Helpers that do not depend on the world files.
mod fixtures {
    use super::*;

    /// Beijing wall-clock time `2026-10-05T10:00` → instant.
    pub fn t(s: &str) -> Timestamp {
        match format!("{s}:00+08:00").parse() {
            Ok(t) => t,
            Err(e) => panic!("bad time {s}: {e}"),
        }
    }

    pub fn weights() -> AssessmentWeights {
        AssessmentWeights {
            response: 10.0,
            resolution: 45.0,
            satisfaction: 45.0,
            satisfied_score: 100.0,
            basically_satisfied_score: 80.0,
            unsatisfied_score: 0.0,
        }
    }

    /// Builds one request's log event by event.
    pub struct Log {
        pub log: RequestLog,
    }

    impl Log {
        pub fn new(id: i64, at: &str) -> Log {
            Self::with(
                id,
                at,
                RequestType::Complaint,
                Channel::Hotline,
                "A",
                "env.noise",
            )
        }
        pub fn with(
            id: i64,
            at: &str,
            request_type: RequestType,
            channel: Channel,
            street: &str,
            category: &str,
        ) -> Log {
            let mut l = Log {
                log: RequestLog {
                    id,
                    events: Vec::new(),
                },
            };
            l.push(
                at,
                EventKind::Received {
                    intake: Intake {
                        request_type,
                        channel,
                        category: Some(category.into()),
                        street: Some(street.into()),
                        community: None,
                        address: None,
                        title: None,
                        text: "诉求".into(),
                        caller: Caller::default(),
                        urgent: false,
                        received_at: t(at),
                    },
                },
            );
            l
        }
        pub fn push(&mut self, at: &str, kind: EventKind) -> &mut Self {
            let seq = self.log.events.len() as i64 + 1;
            self.log.events.push(Event {
                seq,
                at: t(at),
                actor: Actor::system(),
                reason: None,
                kind,
            });
            self
        }
        /// 派单 with a response deadline and a completion deadline.
        pub fn dispatch(
            &mut self,
            at: &str,
            unit: &str,
            response_due: &str,
            due: &str,
        ) -> &mut Self {
            self.dispatch_ex(at, unit, response_due, due, false)
        }
        pub fn dispatch_ex(
            &mut self,
            at: &str,
            unit: &str,
            response_due: &str,
            due: &str,
            overrule: bool,
        ) -> &mut Self {
            self.push(
                at,
                EventKind::Dispatched {
                    unit: unit.into(),
                    sla_class: "ordinary".into(),
                    response_due: t(response_due),
                    completion_due: t(due),
                    warn_at: t(due),
                    direct: false,
                    overrule,
                },
            )
        }
        pub fn accept(&mut self, at: &str, unit: &str) -> &mut Self {
            self.push(at, EventKind::Accepted { unit: unit.into() })
        }
        pub fn contact(&mut self, at: &str) -> &mut Self {
            self.push(
                at,
                EventKind::Contacted {
                    method: ContactMethod::Phone,
                    reached: true,
                    note: String::new(),
                },
            )
        }
        pub fn reply(&mut self, at: &str) -> &mut Self {
            self.push(
                at,
                EventKind::Replied {
                    text: "已处理".into(),
                },
            )
        }
        pub fn callback(
            &mut self,
            at: &str,
            reached: bool,
            resolved: Option<bool>,
            satisfaction: Option<Satisfaction>,
        ) -> &mut Self {
            self.push(
                at,
                EventKind::CallbackRecorded {
                    reached,
                    resolved,
                    satisfaction,
                    note: String::new(),
                },
            )
        }
        /// Dispatch, sign and contact in time, reply, then a reached callback.
        pub fn full(
            &mut self,
            day: &str,
            unit: &str,
            resolved: bool,
            s: Satisfaction,
        ) -> &mut Self {
            self.dispatch(
                &format!("{day}T09:00"),
                unit,
                &format!("{day}T23:59"),
                "2026-10-30T23:59",
            )
            .accept(&format!("{day}T10:00"), unit)
            .contact(&format!("{day}T11:00"))
            .reply(&format!("{day}T15:00"))
            .callback(&format!("{day}T17:00"), true, Some(resolved), Some(s))
        }
        pub fn done(&mut self) -> RequestLog {
            self.log.clone()
        }
    }
}

fn run_as_of(logs: &[RequestLog], period: &str, by: GroupBy, as_of: &str) -> Assessment {
    let w = weights();
    let top = |c: &str| c.split('.').next().unwrap_or(c).to_string();
    let q = Query {
        period: Period::parse(period).expect("period"),
        as_of: t(as_of),
        by,
        weights: &w,
        bottom: 1,
        top_category: &top,
    };
    assess(logs, &q)
}

fn run(logs: &[RequestLog], by: GroupBy) -> Assessment {
    run_as_of(logs, "2026-10", by, "2026-12-31T00:00")
}

fn group<'a>(a: &'a Assessment, key: &str) -> &'a GroupScore {
    match a.groups.iter().find(|g| g.key == key) {
        Some(g) => g,
        None => panic!("no group {key} in {:?}", a.groups),
    }
}

fn close(a: Option<f64>, b: f64) {
    match a {
        Some(a) if (a - b).abs() < 1e-9 => {}
        other => panic!("expected {b}, got {other:?}"),
    }
}

#[test]
fn response_needs_sign_and_contact_by_the_deadline() {
    let logs = vec![
        // In time: signed 10:00, contacted 11:00, due 23:59.
        Log::new(1, "2026-10-05T08:00")
            .dispatch(
                "2026-10-05T09:00",
                "U",
                "2026-10-05T23:59",
                "2026-10-14T23:59",
            )
            .accept("2026-10-05T10:00", "U")
            .contact("2026-10-05T11:00")
            .done(),
        // Signed in time, contacted the next day: late.
        Log::new(2, "2026-10-05T08:00")
            .dispatch(
                "2026-10-05T09:00",
                "U",
                "2026-10-05T23:59",
                "2026-10-14T23:59",
            )
            .accept("2026-10-05T10:00", "U")
            .contact("2026-10-06T08:00")
            .done(),
        // Signed, never contacted: not responded.
        Log::new(3, "2026-10-05T08:00")
            .dispatch(
                "2026-10-05T09:00",
                "U",
                "2026-10-05T23:59",
                "2026-10-14T23:59",
            )
            .accept("2026-10-05T10:00", "U")
            .done(),
        // Contacted without signing: not responded.
        Log::new(4, "2026-10-05T08:00")
            .dispatch(
                "2026-10-05T09:00",
                "U",
                "2026-10-05T23:59",
                "2026-10-14T23:59",
            )
            .contact("2026-10-05T10:00")
            .done(),
        // Dispatched in September: not in October's denominator.
        Log::new(5, "2026-09-29T08:00")
            .dispatch(
                "2026-09-29T09:00",
                "U",
                "2026-09-29T23:59",
                "2026-10-09T23:59",
            )
            .done(),
    ];
    let a = run(&logs, GroupBy::Unit);
    let u = group(&a, "U");
    assert_eq!((u.dispatched, u.responded_in_time), (4, 1));
    close(u.response_rate, 25.0);
    // No callbacks: resolution and satisfaction are null, not 0, and so is the composite.
    assert_eq!(u.resolution_rate, None);
    assert_eq!(u.satisfaction_score, None);
    assert_eq!(u.composite, None);
}

#[test]
fn consultations_answered_at_intake_and_special_handling_are_outside() {
    let logs = vec![
        Log::with(
            1,
            "2026-10-05T08:00",
            RequestType::Consultation,
            Channel::Hotline,
            "A",
            "x",
        )
        .push(
            "2026-10-05T08:05",
            EventKind::Closed {
                outcome: CloseOutcome::Answered,
                special: None,
                answer: Some("答".into()),
            },
        )
        .done(),
        Log::new(2, "2026-10-05T08:00")
            .push(
                "2026-10-05T08:05",
                EventKind::Closed {
                    outcome: CloseOutcome::Special,
                    special: Some(SpecialHandling::Transfer110),
                    answer: None,
                },
            )
            .done(),
        Log::new(3, "2026-10-05T08:00")
            .full("2026-10-06", "U", true, Satisfaction::Satisfied)
            .done(),
    ];
    let a = run(&logs, GroupBy::Unit);
    assert_eq!(a.groups.len(), 1);
    assert_eq!(a.totals.dispatched, 1);
    assert_eq!(a.totals.callbacks_reached, 1);
}

#[test]
fn merged_children_do_not_count_and_the_master_counts_once() {
    let master = Log::new(1, "2026-10-05T08:00")
        .full("2026-10-06", "U", true, Satisfaction::Satisfied)
        .done();
    let mut child = Log::new(2, "2026-10-05T08:30");
    child
        .dispatch(
            "2026-10-05T09:00",
            "U",
            "2026-10-05T23:59",
            "2026-10-14T23:59",
        )
        .push("2026-10-05T12:00", EventKind::MergedInto { master: 1 });
    let a = run(&[master, child.done()], GroupBy::Unit);
    let u = group(&a, "U");
    assert_eq!((u.dispatched, u.responded_in_time), (1, 1));
    assert_eq!((u.callbacks_reached, u.resolved), (1, 1));
}

#[test]
fn sustained_return_does_not_count_against_the_returning_unit() {
    let mut l = Log::new(1, "2026-10-05T08:00");
    l.dispatch(
        "2026-10-05T09:00",
        "U",
        "2026-10-05T23:59",
        "2026-10-14T23:59",
    )
    .push("2026-10-06T09:00", EventKind::Returned { unit: "U".into() })
    .dispatch(
        "2026-10-06T10:00",
        "V",
        "2026-10-06T23:59",
        "2026-10-15T23:59",
    )
    .accept("2026-10-06T11:00", "V")
    .contact("2026-10-06T12:00");
    let a = run(&[l.done()], GroupBy::Unit);
    assert!(a.groups.iter().all(|g| g.key != "U"), "{:?}", a.groups);
    let v = group(&a, "V");
    assert_eq!((v.dispatched, v.responded_in_time), (1, 1));
}

#[test]
fn overruled_return_counts_against_the_unit() {
    let mut l = Log::new(1, "2026-10-05T08:00");
    // U returns instead of signing; the dispatcher overrules; U signs after the deadline.
    l.dispatch(
        "2026-10-05T09:00",
        "U",
        "2026-10-05T23:59",
        "2026-10-14T23:59",
    )
    .push("2026-10-05T10:00", EventKind::Returned { unit: "U".into() })
    .dispatch_ex(
        "2026-10-06T09:00",
        "U",
        "2026-10-05T23:59",
        "2026-10-14T23:59",
        true,
    )
    .accept("2026-10-06T10:00", "U")
    .contact("2026-10-06T11:00");
    // A second request whose 退单 is still undecided at the cut-off is left out.
    let mut pending = Log::new(2, "2026-10-05T08:00");
    pending
        .dispatch(
            "2026-10-05T09:00",
            "U",
            "2026-10-05T23:59",
            "2026-10-14T23:59",
        )
        .push("2026-10-05T10:00", EventKind::Returned { unit: "U".into() });
    let a = run(&[l.done(), pending.done()], GroupBy::Unit);
    let u = group(&a, "U");
    assert_eq!((u.dispatched, u.responded_in_time), (1, 0));
    close(u.response_rate, 0.0);
}

#[test]
fn approved_extension_moves_the_completion_deadline() {
    let mut l = Log::new(1, "2026-10-05T08:00");
    l.dispatch(
        "2026-10-05T09:00",
        "U",
        "2026-10-05T23:59",
        "2026-10-14T23:59",
    )
    .accept("2026-10-05T10:00", "U")
    .contact("2026-10-05T11:00")
    .push(
        "2026-10-12T09:00",
        EventKind::ExtensionRequested { working_days: 5 },
    )
    .push(
        "2026-10-12T15:00",
        EventKind::ExtensionDecided {
            approved: true,
            paused_ms: 6 * 3_600_000,
            completion_due: t("2026-10-21T23:59"),
            warn_at: t("2026-10-20T23:59"),
        },
    )
    .reply("2026-10-19T10:00");
    // Same, without the extension: the reply on the 19th is late.
    let mut late = Log::new(2, "2026-10-05T08:00");
    late.dispatch(
        "2026-10-05T09:00",
        "U",
        "2026-10-05T23:59",
        "2026-10-14T23:59",
    )
    .accept("2026-10-05T10:00", "U")
    .contact("2026-10-05T11:00")
    .reply("2026-10-19T10:00");
    let a = run(&[l.done(), late.done()], GroupBy::Unit);
    let u = group(&a, "U");
    assert_eq!((u.replied, u.replied_in_time), (2, 1));
    assert_eq!((u.dispatched, u.responded_in_time), (2, 2));
}

#[test]
fn reopen_is_a_new_dispatch_and_the_latest_callback_counts() {
    let mut l = Log::new(1, "2026-10-05T08:00");
    l.full("2026-10-06", "U", false, Satisfaction::Unsatisfied)
        .push(
            "2026-10-07T09:00",
            EventKind::Reopened {
                unit: "U".into(),
                response_due: t("2026-10-07T12:00"),
                completion_due: t("2026-10-16T23:59"),
                warn_at: t("2026-10-15T23:59"),
            },
        )
        // The second cycle is signed late.
        .accept("2026-10-07T13:00", "U")
        .contact("2026-10-07T14:00")
        .reply("2026-10-08T10:00")
        .callback(
            "2026-10-09T10:00",
            true,
            Some(true),
            Some(Satisfaction::BasicallySatisfied),
        );
    let a = run(&[l.done()], GroupBy::Unit);
    let u = group(&a, "U");
    assert_eq!((u.dispatched, u.responded_in_time), (2, 1));
    assert_eq!((u.callbacks, u.callbacks_reached, u.resolved), (1, 1, 1));
    assert_eq!(u.basically_satisfied, 1);
    close(u.response_rate, 50.0);
    close(u.resolution_rate, 100.0);
    close(u.satisfaction_score, 80.0);
    // (10×50 + 45×100 + 45×80) / 100 = 86
    close(u.composite, 86.0);
}

#[test]
fn unreached_callbacks_are_excluded_from_both_rates() {
    let mut only_unreached = Log::new(1, "2026-10-05T08:00");
    only_unreached
        .dispatch(
            "2026-10-05T09:00",
            "U",
            "2026-10-05T23:59",
            "2026-10-14T23:59",
        )
        .reply("2026-10-06T09:00")
        .callback("2026-10-07T09:00", false, None, None)
        .callback("2026-10-08T09:00", false, None, None);
    // Unreached first, then reached and unresolved: the reached one counts.
    let mut then_reached = Log::new(2, "2026-10-05T08:00");
    then_reached
        .dispatch(
            "2026-10-05T09:00",
            "U",
            "2026-10-05T23:59",
            "2026-10-14T23:59",
        )
        .reply("2026-10-06T09:00")
        .callback("2026-10-07T09:00", false, None, None)
        .callback(
            "2026-10-08T09:00",
            true,
            Some(false),
            Some(Satisfaction::Satisfied),
        );
    let a = run(&[only_unreached.done(), then_reached.done()], GroupBy::Unit);
    let u = group(&a, "U");
    assert_eq!(
        (u.callbacks, u.callbacks_unreached, u.callbacks_reached),
        (2, 1, 1)
    );
    assert_eq!(u.resolved, 0);
    close(u.resolution_rate, 0.0);
    close(u.satisfaction_score, 100.0);
}

#[test]
fn satisfaction_is_the_mean_score_and_the_share_of_satisfied() {
    let logs = vec![
        Log::new(1, "2026-10-05T08:00")
            .full("2026-10-06", "U", true, Satisfaction::Satisfied)
            .done(),
        Log::new(2, "2026-10-05T08:00")
            .full("2026-10-06", "U", true, Satisfaction::BasicallySatisfied)
            .done(),
        Log::new(3, "2026-10-05T08:00")
            .full("2026-10-06", "U", false, Satisfaction::Unsatisfied)
            .done(),
    ];
    let a = run(&logs, GroupBy::Unit);
    let u = group(&a, "U");
    // (100 + 80 + 0) / 3 = 60; 2 of 3 satisfied or basically satisfied.
    close(u.satisfaction_score, 60.0);
    close(u.satisfied_share, 200.0 / 3.0);
    close(u.resolution_rate, 200.0 / 3.0);
    close(u.response_rate, 100.0);
    // (10×100 + 45×66.67 + 45×60) / 100 = 10 + 30 + 27 = 67
    close(u.composite, 67.0);
}

#[test]
fn whistle_double_assessment() {
    let mut l = Log::new(1, "2026-10-05T08:00");
    l.full("2026-10-06", "S", true, Satisfaction::Satisfied)
        .push(
            "2026-10-06T12:00",
            EventKind::Whistled {
                targets: vec![
                    jiesu_domain::lifecycle::WhistleTarget {
                        unit: "D1".into(),
                        response_due: t("2026-10-06T18:00"),
                    },
                    jiesu_domain::lifecycle::WhistleTarget {
                        unit: "D2".into(),
                        response_due: t("2026-10-06T18:00"),
                    },
                ],
            },
        )
        .push(
            "2026-10-06T13:00",
            EventKind::Reported {
                unit: "D1".into(),
                note: String::new(),
            },
        )
        .push(
            "2026-10-06T19:00",
            EventKind::Reported {
                unit: "D2".into(),
                note: String::new(),
            },
        );
    let a = run(&[l.done()], GroupBy::Unit);
    let s = group(&a, "S");
    assert_eq!((s.dispatched, s.callbacks_reached, s.whistled), (1, 1, 0));
    let d1 = group(&a, "D1");
    assert_eq!((d1.whistled, d1.whistle_reported_in_time), (1, 1));
    close(d1.whistle_response_rate, 100.0);
    assert_eq!(d1.dispatched, 0);
    let d2 = group(&a, "D2");
    close(d2.whistle_response_rate, 0.0);
    assert_eq!(
        (a.totals.whistled, a.totals.whistle_reported_in_time),
        (2, 1)
    );
}

#[test]
fn a_late_callback_counts_in_the_month_it_happened_and_as_of_hides_later_events() {
    let mut l = Log::new(1, "2026-10-28T08:00");
    l.dispatch(
        "2026-10-28T09:00",
        "U",
        "2026-10-28T23:59",
        "2026-11-06T23:59",
    )
    .accept("2026-10-28T10:00", "U")
    .contact("2026-10-29T10:00")
    .reply("2026-10-30T10:00")
    .callback(
        "2026-11-02T10:00",
        true,
        Some(true),
        Some(Satisfaction::Satisfied),
    );
    let logs = [l.done()];
    let oct = run(&logs, GroupBy::Unit);
    let u = group(&oct, "U");
    assert_eq!((u.dispatched, u.responded_in_time, u.callbacks), (1, 0, 0));
    let nov = run_as_of(&logs, "2026-11", GroupBy::Unit, "2026-12-31T00:00");
    let u = group(&nov, "U");
    assert_eq!((u.dispatched, u.callbacks_reached, u.resolved), (0, 1, 1));
    // November as of 1 Nov 23:59: the callback has not happened yet.
    let early = run_as_of(&logs, "2026-11", GroupBy::Unit, "2026-11-01T23:59");
    assert!(early.groups.is_empty());
    // October as of 28 Oct 09:30: dispatched, not yet signed, so not responded in time —
    // and the same month recomputed later with the same as_of gives the same numbers.
    let a1 = run_as_of(&logs, "2026-10", GroupBy::Unit, "2026-10-28T09:30");
    assert_eq!(group(&a1, "U").dispatched, 1);
    assert_eq!(group(&a1, "U").responded_in_time, 0);
    let mut longer = logs[0].clone();
    longer.events.push(jiesu_domain::Event {
        seq: 7,
        at: t("2026-12-01T00:00"),
        actor: Actor::system(),
        reason: None,
        kind: EventKind::Suspended,
    });
    assert_eq!(
        run_as_of(&[longer], "2026-10", GroupBy::Unit, "2026-10-28T09:30"),
        a1
    );
}

#[test]
fn composite_ranking_nulls_last_and_bottom_flag() {
    let logs = vec![
        // U: everything perfect → 100.
        Log::new(1, "2026-10-05T08:00")
            .full("2026-10-06", "U", true, Satisfaction::Satisfied)
            .done(),
        // V: in time, resolved, basically satisfied → 10 + 45 + 36 = 91.
        Log::new(2, "2026-10-05T08:00")
            .full("2026-10-06", "V", true, Satisfaction::BasicallySatisfied)
            .done(),
        // W: in time, unresolved, unsatisfied → 10.
        Log::new(3, "2026-10-05T08:00")
            .full("2026-10-06", "W", false, Satisfaction::Unsatisfied)
            .done(),
        // X: dispatched, no callback → null composite, ranked last.
        Log::new(4, "2026-10-05T08:00")
            .dispatch(
                "2026-10-05T09:00",
                "X",
                "2026-10-05T23:59",
                "2026-10-14T23:59",
            )
            .done(),
    ];
    let a = run(&logs, GroupBy::Unit);
    let order: Vec<(&str, Option<u32>, bool)> = a
        .groups
        .iter()
        .map(|g| (g.key.as_str(), g.rank, g.bottom))
        .collect();
    assert_eq!(
        order,
        vec![
            ("U", Some(1), false),
            ("V", Some(2), false),
            ("W", Some(3), true),
            ("X", Some(4), false),
        ]
    );
    close(group(&a, "V").composite, 91.0);
    close(group(&a, "W").composite, 10.0);
    // Totals: 4 dispatched, 3 in time; 2 of 3 resolved; (100+80+0)/3 = 60.
    close(a.totals.response_rate, 75.0);
    close(a.totals.satisfaction_score, 60.0);
}

#[test]
fn ties_share_a_rank() {
    let logs = vec![
        Log::new(1, "2026-10-05T08:00")
            .full("2026-10-06", "U", true, Satisfaction::Satisfied)
            .done(),
        Log::new(2, "2026-10-05T08:00")
            .full("2026-10-06", "V", true, Satisfaction::Satisfied)
            .done(),
    ];
    let a = run(&logs, GroupBy::Unit);
    assert_eq!(a.groups[0].rank, Some(1));
    assert_eq!(a.groups[1].rank, Some(1));
    // Both are the worst too: the bottom-1 flag includes ties.
    assert!(a.groups.iter().all(|g| g.bottom));
}

#[test]
fn grouping_by_street_category_and_channel() {
    let logs = vec![
        Log::with(
            1,
            "2026-10-05T08:00",
            RequestType::Complaint,
            Channel::Hotline,
            "A",
            "env.noise",
        )
        .full("2026-10-06", "U", true, Satisfaction::Satisfied)
        .done(),
        Log::with(
            2,
            "2026-10-05T08:00",
            RequestType::Complaint,
            Channel::Web,
            "A",
            "env.dust",
        )
        .full("2026-10-06", "V", false, Satisfaction::Unsatisfied)
        .done(),
        Log::with(
            3,
            "2026-10-05T08:00",
            RequestType::Complaint,
            Channel::Web,
            "B",
            "traffic.parking",
        )
        .full("2026-10-06", "U", true, Satisfaction::Satisfied)
        .done(),
    ];
    let street = run(&logs, GroupBy::Street);
    let a = group(&street, "A");
    assert_eq!((a.dispatched, a.callbacks_reached, a.resolved), (2, 2, 1));
    close(a.satisfaction_score, 50.0);
    assert_eq!(group(&street, "B").dispatched, 1);
    let top = run(&logs, GroupBy::TopCategory);
    assert_eq!(group(&top, "env").dispatched, 2);
    assert_eq!(group(&top, "traffic").dispatched, 1);
    let leaf = run(&logs, GroupBy::Category);
    assert_eq!(leaf.groups.len(), 3);
    let ch = run(&logs, GroupBy::Channel);
    assert_eq!(group(&ch, "web").resolved, 1);
    assert_eq!(group(&ch, "hotline").resolved, 1);
}

#[test]
fn periods_parse_in_beijing_time() {
    let p = |s: &str| Period::parse(s).map(|p| (p.start.to_string(), p.end.to_string()));
    let day = |a: &str, b: &str| Some((a.to_string(), b.to_string()));
    assert_eq!(
        p("2026-10"),
        day("2026-09-30T16:00:00Z", "2026-10-31T16:00:00Z")
    );
    assert_eq!(
        p("2026-10-05"),
        day("2026-10-04T16:00:00Z", "2026-10-05T16:00:00Z")
    );
    // ISO week 43 of 2026 is Mon 19 – Sun 25 October.
    assert_eq!(
        p("2026-W43"),
        day("2026-10-18T16:00:00Z", "2026-10-25T16:00:00Z")
    );
    assert_eq!(
        p("2026-Q4"),
        day("2026-09-30T16:00:00Z", "2026-12-31T16:00:00Z")
    );
    assert_eq!(
        p("2026"),
        day("2025-12-31T16:00:00Z", "2026-12-31T16:00:00Z")
    );
    for bad in [
        "",
        "2026-13",
        "2026-Q5",
        "2026-Q04",
        "2026-W54",
        "26-10",
        "2026-1",
        "2026-10-32",
        "x",
    ] {
        assert_eq!(p(bad), None, "{bad}");
    }
}
