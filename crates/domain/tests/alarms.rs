//! The alarm's rules: the desk's steps, the escalation chain before acknowledgement and the
//! on-site limit after it, each firing once whatever the sweep's timing.

use jiesu_domain::alarms::*;
use jiesu_domain::case::{CaseKind, stamp};
use jiesu_domain::{Actor, Ctx, Directory, Role};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use std::sync::LazyLock;

static DIR: LazyLock<Directory> = LazyLock::new(|| {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../world/xicheng");
    Directory::new(jiesu_world::load_dir(&path).expect("world"))
});

fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_796_000_000).unwrap() + SignedDuration::from_secs(secs)
}

fn raised() -> AlarmState {
    let sys = Actor::system();
    let n = NewAlarm {
        device_id: "D1".into(),
        reference: "R1".into(),
        elder_id: Some(7),
        street: "110102001".into(),
        community: "110102001001".into(),
        priority: 1,
        room: Some("卫生间".into()),
        chain: Chain::default(),
    };
    let mut st = Alarm::initial(1, t(0));
    let d = Alarm::create(
        &n,
        &sys,
        &Ctx {
            dir: &DIR,
            now: t(0),
        },
    )
    .unwrap();
    stamp::<Alarm>(&mut st, d, &sys, t(0));
    st
}

fn op() -> Actor {
    Actor {
        user_id: Some(1),
        username: "op".into(),
        role: Role::Operator,
        unit: None,
    }
}

fn act(st: &mut AlarmState, cmd: AlarmCommand, now: Timestamp) -> Result<(), String> {
    let d = Alarm::decide(st, &op(), &cmd, &Ctx { dir: &DIR, now })
        .map_err(|e| e.code().to_string())?;
    stamp::<Alarm>(st, d, &op(), now);
    Ok(())
}

fn sweep(st: &mut AlarmState, now: Timestamp) -> Vec<&'static str> {
    let d = Alarm::fire_timers(st, now);
    stamp::<Alarm>(st, d, &Actor::system(), now)
        .iter()
        .map(|e| Alarm::event_name(&e.payload))
        .collect()
}

#[test]
fn the_desk_works_an_alarm_through() {
    let mut st = raised();
    assert_eq!(Alarm::next_timer(&st), Some(t(60)));
    act(&mut st, AlarmCommand::Acknowledge, t(20)).unwrap();
    assert_eq!(seconds_to_acknowledge(&st), Some(20));
    assert_eq!(
        act(&mut st, AlarmCommand::OnSite, t(21)),
        Err("invalid_transition".into())
    );
    act(
        &mut st,
        AlarmCommand::Contact {
            reached: false,
            note: "无人接听".into(),
        },
        t(40),
    )
    .unwrap();
    act(
        &mut st,
        AlarmCommand::Dispatch {
            responder: Responder::StreetDuty,
            note: String::new(),
        },
        t(60),
    )
    .unwrap();
    // Nobody on site 30 minutes after acknowledgement: re-escalated once.
    assert_eq!(sweep(&mut st, t(20 + 1800)), vec!["alarm.on_site_overdue"]);
    assert!(sweep(&mut st, t(20 + 1801)).is_empty());
    act(&mut st, AlarmCommand::OnSite, t(1900)).unwrap();
    assert_eq!(Alarm::next_timer(&st), None);
    act(
        &mut st,
        AlarmCommand::Resolve {
            outcome: Outcome::TakenToHospital,
            note: "送往人民医院".into(),
        },
        t(2500),
    )
    .unwrap();
    act(&mut st, AlarmCommand::Close, t(2600)).unwrap();
    assert_eq!(st.status, AlarmStatus::Closed);
}

#[test]
fn refusals() {
    let mut st = raised();
    let provider = Actor {
        role: Role::Provider,
        ..op()
    };
    let e = Alarm::decide(
        &st,
        &provider,
        &AlarmCommand::Acknowledge,
        &Ctx {
            dir: &DIR,
            now: t(1),
        },
    )
    .unwrap_err();
    assert_eq!(e.code(), "forbidden_role");
    // A real outcome needs someone sent; a false alarm does not.
    act(&mut st, AlarmCommand::Acknowledge, t(5)).unwrap();
    assert_eq!(
        act(
            &mut st,
            AlarmCommand::Resolve {
                outcome: Outcome::HelpedAtHome,
                note: String::new()
            },
            t(6)
        ),
        Err("invalid_transition".into())
    );
    act(
        &mut st,
        AlarmCommand::Resolve {
            outcome: Outcome::FalseAlarm,
            note: "老人误触".into(),
        },
        t(7),
    )
    .unwrap();
    let mut bad = Chain::default();
    bad.steps[1].after_secs = 30;
    assert_eq!(bad.check().unwrap_err().code(), "bad_chain");
}

proptest! {
    /// However the sweeps fall, each chain step fires once and in order while unacknowledged.
    #[test]
    fn the_chain_fires_once_per_step(mut sweeps in proptest::collection::vec(0i64..900, 1..15)) {
        sweeps.sort();
        let mut st = raised();
        let mut fired = Vec::new();
        for s in sweeps {
            fired.extend(sweep(&mut st, t(s)));
            prop_assert!(Alarm::next_timer(&st).is_none_or(|at| at > t(s)));
        }
        prop_assert!(fired.len() <= 3);
        prop_assert!(fired.iter().all(|n| *n == "alarm.escalated"));
        prop_assert_eq!(fired.len(), st.escalations as usize);
    }
}
