//! The service order's rules: the whole lifecycle, refusals, and the late-start timers
//! firing once each whatever the sweep's timing.

use jiesu_domain::care::order::*;
use jiesu_domain::case::{CaseKind, stamp};
use jiesu_domain::{Actor, Ctx, Directory, Role};
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

fn actor(role: Role, unit: Option<&str>) -> Actor {
    Actor {
        user_id: Some(1),
        username: format!("{role}"),
        role,
        unit: unit.map(str::to_string),
    }
}

fn t(mins: i64) -> Timestamp {
    Timestamp::from_second(1_796_000_000).unwrap() + SignedDuration::from_mins(mins)
}

fn new_order() -> NewOrder {
    NewOrder {
        code: "YL0001".into(),
        elder_id: 7,
        street: "110102001".into(),
        community: "110102001001".into(),
        service: ServiceKind::Bath,
        origin: Origin::Request {
            request_id: 3,
            code: "XC1".into(),
        },
        care_manager: Some("cm".into()),
        note: "需要助浴".into(),
        wanted: None,
    }
}

/// Runs one command; the state as the engine would leave it.
fn act(st: &mut OrderState, a: &Actor, cmd: OrderCommand, now: Timestamp) -> Result<(), String> {
    let ctx = Ctx { dir: &DIR, now };
    let d = ServiceOrder::decide(st, a, &cmd, &ctx).map_err(|e| e.code().to_string())?;
    stamp::<ServiceOrder>(st, d, a, now);
    Ok(())
}

fn created(now: Timestamp) -> OrderState {
    let op = actor(Role::Operator, None);
    let mut st = ServiceOrder::initial(1, now);
    let d = ServiceOrder::create(&new_order(), &op, &Ctx { dir: &DIR, now }).unwrap();
    stamp::<ServiceOrder>(&mut st, d, &op, now);
    st
}

fn scheduled() -> OrderState {
    let mut st = created(t(0));
    let cm = actor(Role::CareManager, Some("110102001"));
    let p = actor(Role::Provider, Some("P001"));
    act(
        &mut st,
        &cm,
        OrderCommand::Assign {
            provider: "P001".into(),
            price_fen: 8000,
            copay_fen: 2000,
            reason: "覆盖社区".into(),
        },
        t(1),
    )
    .unwrap();
    act(
        &mut st,
        &p,
        OrderCommand::Schedule {
            carer_id: 11,
            slot: Slot {
                start: t(120),
                end: t(180),
            },
        },
        t(2),
    )
    .unwrap();
    st
}

#[test]
fn lifecycle_to_settled() {
    let mut st = scheduled();
    let p = actor(Role::Provider, Some("P001"));
    assert_eq!(st.status, OrderStatus::Scheduled);
    act(
        &mut st,
        &p,
        OrderCommand::StartVisit {
            carer_id: 11,
            place: "39.91,116.36".into(),
            at: None,
        },
        t(121),
    )
    .unwrap();
    // A finish recorded before the start is refused naming the field.
    let e = act(
        &mut st,
        &p,
        OrderCommand::FinishVisit {
            notes: String::new(),
            at: Some(t(100)),
        },
        t(170),
    );
    assert_eq!(e, Err("time_too_early".into()));
    act(
        &mut st,
        &p,
        OrderCommand::FinishVisit {
            notes: "助浴完成".into(),
            at: None,
        },
        t(170),
    )
    .unwrap();
    let v = st.verified_visit().expect("verified");
    assert_eq!((v.started_at, v.finished_at), (t(121), Some(t(170))));
    assert_eq!(st.claim_fen(), 6000);
    // The provider may not rate its own visit; the family may, once.
    let rate = || OrderCommand::Rate {
        score: 5,
        comment: "很好".into(),
    };
    assert_eq!(
        act(&mut st, &p, rate(), t(200)),
        Err("forbidden_role".into())
    );
    let fam = actor(Role::Citizen, None);
    act(&mut st, &fam, rate(), t(200)).unwrap();
    assert_eq!(st.status, OrderStatus::Rated);
    assert_eq!(
        act(&mut st, &fam, rate(), t(201)),
        Err("already_rated".into())
    );
    act(
        &mut st,
        &actor(Role::CareAdmin, None),
        OrderCommand::Settle { claim_id: 9 },
        t(300),
    )
    .unwrap();
    assert_eq!((st.status, st.claim_id), (OrderStatus::Settled, Some(9)));
    assert_eq!(ServiceOrder::next_timer(&st), None);
}

#[test]
fn visibility_and_refusals() {
    let st = scheduled();
    assert!(ServiceOrder::can_see(
        &actor(Role::Provider, Some("P001")),
        &st
    ));
    assert!(!ServiceOrder::can_see(
        &actor(Role::Provider, Some("P002")),
        &st
    ));
    assert!(ServiceOrder::can_see(
        &actor(Role::CareManager, Some("110102001")),
        &st
    ));
    assert!(!ServiceOrder::can_see(
        &actor(Role::CareManager, Some("110102003")),
        &st
    ));
    let mut st = created(t(0));
    let cm = actor(Role::CareManager, Some("110102001"));
    let bad = |price_fen, copay_fen| OrderCommand::Assign {
        provider: "P001".into(),
        price_fen,
        copay_fen,
        reason: String::new(),
    };
    assert_eq!(
        act(&mut st, &cm, bad(-1, 0), t(1)),
        Err("negative_amount".into())
    );
    assert_eq!(
        act(&mut st, &cm, bad(100, 200), t(1)),
        Err("bad_copay".into())
    );
    // Starting before scheduling is refused, nothing changes.
    let before = st.clone();
    let p = actor(Role::Provider, Some("P001"));
    let e = act(
        &mut st,
        &p,
        OrderCommand::StartVisit {
            carer_id: 1,
            place: "x".into(),
            at: None,
        },
        t(2),
    );
    assert_eq!(e, Err("invalid_transition".into()));
    assert_eq!(st, before);
    // A community outside the street.
    let mut n = new_order();
    n.community = "110102003001".into();
    let ctx = Ctx {
        dir: &DIR,
        now: t(0),
    };
    let e = ServiceOrder::create(&n, &actor(Role::Operator, None), &ctx).unwrap_err();
    assert_eq!(e.code(), "community_not_in_street");
}

#[test]
fn late_alerts_then_missed() {
    let st = scheduled();
    // Due at start + 15 min.
    assert_eq!(ServiceOrder::next_timer(&st), Some(t(135)));
    assert!(ServiceOrder::fire_timers(&st, t(134)).is_empty());
}

proptest! {
    /// However often and whenever the sweep runs, each alert fires once, in order, and the
    /// order is missed once after the last, never before.
    #[test]
    fn timers_fire_once(mut sweeps in proptest::collection::vec(0i64..400, 1..12)) {
        sweeps.sort();
        let mut st = scheduled();
        let sys = Actor::system();
        let mut names = Vec::new();
        for m in sweeps {
            let now = t(m);
            if ServiceOrder::next_timer(&st).is_some_and(|at| at <= now) {
                let d = ServiceOrder::fire_timers(&st, now);
                prop_assert!(!d.is_empty());
                for e in stamp::<ServiceOrder>(&mut st, d, &sys, now) {
                    names.push(ServiceOrder::event_name(&e.payload));
                }
                prop_assert!(ServiceOrder::next_timer(&st).is_none_or(|at| at > now));
            } else {
                prop_assert!(ServiceOrder::fire_timers(&st, now).is_empty());
            }
        }
        let alerts = names.iter().filter(|n| **n == "care_order.late_alert").count();
        let missed = names.iter().filter(|n| **n == "care_order.missed").count();
        prop_assert!(alerts <= 3 && missed <= 1);
        if missed == 1 {
            prop_assert_eq!(alerts, 3);
            prop_assert_eq!(names.last().copied(), Some("care_order.missed"));
            prop_assert_eq!(st.status, OrderStatus::Missed);
        }
    }
}
