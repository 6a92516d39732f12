//! `jiesu childcare allocate` on a small market built through the application's use cases: the
//! dry run prints every child's outcome and reason and stores nothing; `--publish` issues the
//! offers; a dry run of the published round re-runs it from its stored market and seed and
//! finds the identical result; an unknown round names the flag.
//!
//! Market: TY1 (普惠, one 托小班 place, in the families' street). A (低保 30 + street 20 = 50
//! points) and B (street 20) both rank TY1 first: A is placed, B waits with TY1's cut-off.

mod common;

use jiesu_app::App;
use jiesu_app::childcare::applications::{self, ApplyRequest, GuardianInput, VerifyRequest};
use jiesu_app::childcare::{institutions, rounds};
use jiesu_app::console::{self, Database};
use jiesu_domain::childcare::allocation::Criterion;
use jiesu_domain::childcare::institution::{Band, Class, Institution, InstitutionKind};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn temp_db() -> (PathBuf, String) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_nanos();
    let p = std::env::temp_dir().join(format!("jiesu-childcare-{}-{nanos}.db", std::process::id()));
    let url = format!("sqlite://{}", p.display());
    (p, url)
}

async fn build(url: &str) -> (String, String) {
    let world = jiesu_world::load_dir(Path::new(&common::world_dir())).expect("world");
    let app: App = Database::open(url)
        .await
        .expect("open")
        .into_app(true, || Ok((world, "test".into())))
        .await
        .expect("app");
    common::add_user(url, "health-admin", "health_admin", None, &[]);
    let admin = console::account(&app, "health-admin")
        .await
        .expect("account");
    let community = app.dir.world.communities[0].clone();
    let (street, comm) = (community.street_code.clone(), community.code.clone());
    institutions::save(
        &app,
        &admin,
        &Institution {
            code: "TY1".into(),
            name: "示范普惠托育园".into(),
            kind: InstitutionKind::Puhui,
            operator: "某托育公司".into(),
            street: street.clone(),
            community: comm.clone(),
            address: "测试路1号".into(),
            licence_no: "京西托备001".into(),
            community_point: false,
            monthly_price_fen: Some(380_000),
            classes: vec![Class {
                band: Band::Toddler,
                capacity: 1,
                carers: 1,
            }],
            health_contract: None,
        },
    )
    .await
    .expect("institution");
    let today = jiesu_domain::childcare::application::today(jiff::Timestamp::now());
    let birth = today
        .checked_sub(jiff::Span::new().months(18))
        .expect("birth");
    let start = today
        .checked_add(jiff::Span::new().days(30))
        .expect("start");
    let mut codes = Vec::new();
    for (phone, criteria) in [
        ("13900000001", vec![Criterion::Dibao]),
        ("13900000002", vec![]),
    ] {
        let st = applications::apply(
            &app,
            &admin,
            &ApplyRequest {
                child_ref: format!("C-{phone}"),
                birth_date: birth,
                guardians: vec![GuardianInput {
                    name: "王芳".into(),
                    phone: phone.into(),
                }],
                street: street.clone(),
                community: comm.clone(),
                choices: vec!["TY1".into()],
                criteria: criteria.clone(),
                sibling_enrolled_at: None,
                sibling_application: None,
                start_date: start,
            },
        )
        .await
        .expect("apply");
        applications::verify(
            &app,
            &admin,
            &st.code,
            &VerifyRequest {
                criteria,
                sibling_enrolled_at: None,
            },
        )
        .await
        .expect("verify");
        codes.push(st.code);
    }
    rounds::create(
        &app,
        &admin,
        &rounds::CreateRound {
            code: "R1".into(),
            name: "测试派位".into(),
            seed_text: "公证处 2026-12-01".into(),
        },
    )
    .await
    .expect("round");
    app.close().await;
    (codes[0].clone(), codes[1].clone())
}

fn allocate(url: &str, args: &[&str]) -> std::process::Output {
    Command::new(common::BIN)
        .args([
            "childcare",
            "allocate",
            "--db",
            url,
            "--user",
            "health-admin",
        ])
        .args(args)
        .env("JIESU_LOG", "warn")
        .output()
        .expect("jiesu childcare allocate")
}

fn json_of(o: &std::process::Output) -> Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("json")
}

#[tokio::test]
async fn allocate_dry_run_then_publish_then_reproduce() {
    let (path, url) = temp_db();
    let (a, b) = build(&url).await;

    let dry = json_of(&allocate(&url, &["--round", "R1"]));
    assert_eq!(dry["dry_run"], true, "{dry}");
    assert_eq!(dry["status"], "draft");
    let child = |v: &Value, code: &str| {
        v["children"]
            .as_array()
            .expect("children")
            .iter()
            .find(|c| c["application"] == code)
            .cloned()
            .expect("child")
    };
    assert_eq!(child(&dry, &a)["placed"], "TY1");
    assert!(
        child(&dry, &a)["reason_zh"]
            .as_str()
            .expect("zh")
            .contains("第1志愿TY1")
    );
    assert_eq!(child(&dry, &b)["placed"], Value::Null);
    let why = child(&dry, &b)["reason_zh"]
        .as_str()
        .expect("zh")
        .to_string();
    assert!(
        why.contains("录取线为50分") && why.contains("孩子为20分"),
        "{why}"
    );
    // The dry run stored nothing: running it again gives the same, still a draft.
    let dry2 = json_of(&allocate(&url, &["--round", "R1"]));
    assert_eq!(dry2["result"], dry["result"]);
    assert_eq!(dry2["status"], "draft");

    let published = json_of(&allocate(&url, &["--round", "R1", "--publish"]));
    assert_eq!(published["dry_run"], false);
    assert_eq!(published["status"], "published");
    assert_eq!(published["result"], dry["result"]);
    let again = json_of(&allocate(&url, &["--round", "R1"]));
    assert_eq!(again["reproduced"], true, "{again}");
    assert_eq!(again["result"], dry["result"]);

    let o = allocate(&url, &["--round", "NOPE"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--round"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let _ = std::fs::remove_file(&path);
}
