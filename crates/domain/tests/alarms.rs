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
        code: None,
        pressed_at: None,
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

// ---- what devices send (message.rs) and the device registry's rules (device.rs)

use jiesu_domain::DomainError;
use jiesu_domain::alarms::device::{self, DeviceInput};
use jiesu_domain::alarms::kpi::kpis;
use jiesu_domain::alarms::message::{self, AlarmCode, Channel};

fn now() -> Timestamp {
    "2026-12-04T03:00:00Z".parse().unwrap()
}

fn field_of(e: DomainError) -> (String, &'static str) {
    match e {
        DomainError::Invalid { field, code, .. } => (field, code),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn an_alarm_message_parses_with_its_default_priority() {
    let m = message::parse_alarm(
        br#"{"reference":"A-1","device_type":"pendant","status_code":"fall","time":"2026-12-04T11:00:00+08:00","gps":{"lat":39.9,"lon":116.36},"extra":"ignored"}"#,
        now(),
    )
    .unwrap();
    assert_eq!(m.status_code, AlarmCode::Fall);
    assert_eq!(m.priority, Some(1));
    assert_eq!(m.time, now());
}

#[test]
fn hostile_alarm_messages_are_refused_naming_the_field() {
    let cases: &[(&[u8], &str, &str)] = &[
        (b"{not json", "payload", "bad_json"),
        (b"[]", "payload", "bad_json"),
        (
            br#"{"reference":"","status_code":"button","time":"2026-12-04T03:00:00Z"}"#,
            "reference",
            "empty",
        ),
        (
            br#"{"reference":"r","status_code":"explode","time":"2026-12-04T03:00:00Z"}"#,
            "payload",
            "bad_json",
        ),
        (
            br#"{"reference":"r","status_code":"button","time":"2026-12-05T03:00:00Z"}"#,
            "time",
            "time_in_future",
        ),
        (
            br#"{"reference":"r","status_code":"button","time":"2026-11-01T03:00:00Z"}"#,
            "time",
            "time_too_early",
        ),
        (
            br#"{"reference":"r","status_code":"button","priority":0,"time":"2026-12-04T03:00:00Z"}"#,
            "priority",
            "bad_priority",
        ),
        (
            br#"{"reference":"r","status_code":"button","gps":{"lat":91,"lon":0},"time":"2026-12-04T03:00:00Z"}"#,
            "gps",
            "out_of_range",
        ),
        (
            br#"{"device_id":"a/b","reference":"r","status_code":"button","time":"2026-12-04T03:00:00Z"}"#,
            "device_id",
            "bad_device_code",
        ),
    ];
    for (payload, field, code) in cases {
        let got = field_of(message::parse_alarm(payload, now()).unwrap_err());
        assert_eq!(
            (got.0.as_str(), got.1),
            (*field, *code),
            "{}",
            String::from_utf8_lossy(payload)
        );
    }
    let huge = vec![b' '; message::MAX_PAYLOAD + 1];
    assert_eq!(
        field_of(message::parse_alarm(&huge, now()).unwrap_err()).1,
        "too_long"
    );
}

#[test]
fn topics_name_a_device_and_a_channel_or_nothing() {
    assert_eq!(
        message::parse_topic("jiesu/v1/devices/D-1/alarm"),
        Some(("D-1", Channel::Alarm))
    );
    assert_eq!(
        message::parse_topic(&message::topic("X9", Channel::Heartbeat)),
        Some(("X9", Channel::Heartbeat))
    );
    for t in [
        "jiesu/v1/devices/D-1/reply",
        "jiesu/v1/devices//alarm",
        "jiesu/v1/devices/D-1/alarm/x",
        "other/D-1/alarm",
    ] {
        assert_eq!(message::parse_topic(t), None, "{t}");
    }
    assert!(message::parse_heartbeat(b"").is_ok());
    assert_eq!(
        field_of(message::parse_heartbeat(br#"{"battery":101}"#).unwrap_err()).0,
        "battery"
    );
    assert!(
        !message::parse_status(br#"{"online":false}"#)
            .unwrap()
            .online
    );
}

#[test]
fn a_device_registration_is_checked_field_by_field() {
    let today: jiff::civil::Date = "2026-12-04".parse().unwrap();
    let good = DeviceInput {
        device_id: " YJH-000001 ".into(),
        vendor: "acme".into(),
        model: "AK-100".into(),
        elder_id: 3,
        installed_on: today,
        room: "卧室".into(),
        network_id: String::new(),
        heartbeat_secs: 60,
    };
    assert_eq!(
        good.clone().normalized(today).unwrap().device_id,
        "YJH-000001"
    );
    let bad = |f: fn(&mut DeviceInput)| {
        let mut d = good.clone();
        f(&mut d);
        field_of(d.normalized(today).unwrap_err())
    };
    assert_eq!(bad(|d| d.device_id = "a+b".into()).0, "device_id");
    assert_eq!(bad(|d| d.model = " ".into()).0, "model");
    assert_eq!(
        bad(|d| d.installed_on = "2026-12-05".parse().unwrap()).1,
        "date_in_future"
    );
    assert_eq!(bad(|d| d.heartbeat_secs = 5).0, "heartbeat_secs");
    assert_eq!(bad(|d| d.elder_id = 0).0, "elder_id");
    // Three silent intervals make a device offline.
    assert_eq!(
        device::offline_after(now(), 60),
        now() + jiff::SignedDuration::from_secs(180)
    );
}

#[test]
fn kpis_count_the_shares_the_standards_ask_for() {
    let mk = |ack: Option<i64>, site: Option<i64>, outcome: Option<Outcome>| {
        let mut st = Alarm::initial(1, t(0));
        st.acknowledged_at = ack.map(t);
        st.on_site_at = site.map(t);
        st.outcome = outcome;
        st
    };
    let list = [
        mk(Some(30), Some(630), Some(Outcome::HelpedAtHome)),
        mk(Some(90), Some(1290), Some(Outcome::FalseAlarm)),
        mk(Some(200), None, None),
        mk(None, None, None),
    ];
    let k = kpis(&list);
    assert_eq!(k.alarms, 4);
    assert_eq!(k.acknowledged, 3);
    assert_eq!(k.ack_within_60s_pct, Some(25.0));
    assert_eq!(k.ack_within_180s_pct, Some(50.0));
    assert_eq!(k.median_ack_secs, Some(90));
    // 600 s and 1200 s to site: the median of two is their mean.
    assert_eq!(k.median_on_site_secs, Some(900));
    assert_eq!(k.false_alarm_pct, Some(50.0));
}
