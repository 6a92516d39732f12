//! The demo's 一键呼: a device in the home of every registered elder, a vendor, and the last
//! three months of
//! alarms taken through the real ingestion (`ingest::mqtt`) and the desk's steps on a walking
//! clock: most presses are by mistake or a test of the button, some elders are helped at home,
//! a few are taken to hospital (each with a follow-up 12345 request), and the acknowledgement
//! clock escalates the alarms nobody took within a minute.

use super::rng::Rng;
use anyhow::Result;
use jiesu_app::App;
use jiesu_app::alarms::desk::{self, Step};
use jiesu_app::alarms::ingest;
use jiesu_domain::alarms::device::VendorInput;
use jiesu_domain::alarms::{Alarm, Outcome, Responder};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

/// Alarms a day over the fleet (about 6,000 a year for 20,000 homes).
const PER_DAY: u64 = 16;
const DAYS: i64 = 90;

pub(super) async fn build(
    app: &App,
    rng: &mut Rng,
    end: Timestamp,
    elders: &[i64],
) -> Result<Value> {
    let started = std::time::Instant::now();
    let from = end - SignedDuration::from_hours(24 * DAYS);
    app.clock.set(from - SignedDuration::from_hours(24 * 30));
    let today = app.dir.calendar.local_date(app.now());
    let installed = today - jiff::Span::new().days(200);
    let vendor = VendorInput {
        code: "yjh-demo".into(),
        name: "一键呼设备运营商（演示）".into(),
    };
    jiesu_app::console::provision_devices(
        app,
        &vendor,
        "YJH",
        elders.len() as u32,
        elders,
        installed,
    )
    .await?;
    let operator = jiesu_app::console::account(app, "operator").await?;
    let (mut raised, mut escalated, mut hospital, mut follow_ups) = (0u64, 0u64, 0u64, 0u64);
    for day in 0..DAYS {
        let day_start = from + SignedDuration::from_hours(24 * day);
        let n = PER_DAY / 2 + rng.below(PER_DAY);
        let mut times: Vec<i64> = (0..n).map(|_| rng.range(0, 86_399)).collect();
        times.sort_unstable();
        for (k, secs) in times.into_iter().enumerate() {
            let at = day_start + SignedDuration::from_secs(secs);
            app.clock.set(at);
            let device = format!("YJH-{:06}", 1 + rng.below(elders.len() as u64));
            let code = *rng.pick(&[
                "button",
                "button",
                "button",
                "button",
                "fall",
                "inactivity",
                "smoke",
                "medical",
            ]);
            let body = json!({"reference": format!("D{day}-{k}"), "device_type": "pendant", "status_code": code, "time": at.to_string()});
            let topic = format!("jiesu/v1/devices/{device}/alarm");
            let Some((_, reply)) = ingest::mqtt(app, &topic, body.to_string().as_bytes()).await?
            else {
                continue;
            };
            let Some(id) = reply.alarm_id else { continue };
            raised += 1;
            // 97% taken within a minute; the rest after the chain's first step(s) fired.
            let ack = if rng.chance(0.97) {
                rng.range(4, 58)
            } else {
                rng.range(61, 240)
            };
            if ack > 60 {
                app.store
                    .sweep_case_timers::<Alarm>(at + SignedDuration::from_secs(ack - 1))
                    .await?;
                escalated += 1;
            }
            let mut t = at + SignedDuration::from_secs(ack);
            let mut step = |app: &App, secs: i64, s: Step| {
                t += SignedDuration::from_secs(secs);
                app.clock.set(t);
                let (app, user) = (app.clone(), operator.clone());
                async move { desk::act(&app, &user, id, s).await }
            };
            step(app, 0, Step::Acknowledge).await?;
            let roll = rng.below(100);
            let outcome = match roll {
                0..=54 => Outcome::FalseAlarm,
                55..=79 => Outcome::HelpedAtHome,
                80..=87 => Outcome::TakenToHospital,
                88..=97 => Outcome::NoAnswerSafe,
                _ => Outcome::Other,
            };
            let reached = outcome != Outcome::NoAnswerSafe;
            step(
                app,
                rng.range(20, 90),
                Step::Contact {
                    reached,
                    note: String::new(),
                },
            )
            .await?;
            if outcome != Outcome::FalseAlarm {
                let responder = match outcome {
                    Outcome::TakenToHospital => Responder::Transfer999,
                    Outcome::NoAnswerSafe => Responder::StreetDuty,
                    _ => *rng.pick(&[
                        Responder::CareManager,
                        Responder::Family,
                        Responder::StreetDuty,
                    ]),
                };
                step(
                    app,
                    rng.range(30, 120),
                    Step::Dispatch {
                        responder,
                        note: String::new(),
                    },
                )
                .await?;
                step(app, rng.range(6 * 60, 25 * 60), Step::OnSite).await?;
            }
            step(
                app,
                rng.range(60, 1800),
                Step::Resolve {
                    outcome,
                    note: String::new(),
                },
            )
            .await?;
            if outcome == Outcome::TakenToHospital {
                hospital += 1;
                step(app, 60, Step::FollowUp).await?;
                follow_ups += 1;
            }
            step(app, 30, Step::Close).await?;
        }
    }
    app.clock.set(end);
    Ok(json!({
        "devices": elders.len(),
        "alarms": raised,
        "escalated": escalated,
        "taken_to_hospital": hospital,
        "follow_up_requests": follow_ups,
        "days": DAYS,
        "seconds": (started.elapsed().as_secs_f64() * 100.0).round() / 100.0,
    }))
}
