//! `jiesu care settle --format json|xlsx` on a small October of elder care built through the
//! application's use cases (a settable clock walks the month): the workbook, opened with
//! calamine, equals the JSON line by line, and the totals equal the sum over the order and meal
//! log and the hand-computed sum, to the fen.
//!
//! Fixture (one community, provider P1 covering it, meal point M1 serving it):
//! - elder A (基本养老服务对象): five 助浴 visits planned 12–16 October at 09:00 (80.00 元, co-pay
//!   20.00 元): three verified (one rated by the family), one missed (the sweep's alerts then
//!   漏服务), one cancelled → 3 × 6000 fen.
//! - elder B (not eligible): one 助洁 visit on 20 October (50.00 元, co-pay 10.00 元) → 4000 fen;
//!   one on 2 November, not October's.
//! - meals at M1: A on the 6th lunch 15.00 元 (5 元 subsidy) and dinner 12.00 元 (the day's
//!   subsidy is taken), the 7th lunch 4.50 元 (below 5 元: none), the 8th lunch 5.00 元 (not
//!   above 5 元: none); B on the 6th lunch 15.00 元 (not eligible: none). Subsidy 500 fen;
//!   operating subsidy 4 diner-days × 300 fen = 1200 fen.
//!
//! Hand-computed: P1 18000 + 4000 = 22000 fen; M1 500 + 1200 = 1700 fen; total 23700 fen.

mod common;

use calamine::{Data, Reader, Xlsx, open_workbook};
use jiesu_app::care::{meals, network, orders, registry};
use jiesu_app::console::{self, Database};
use jiesu_app::{App, Clock};
use jiesu_domain::Role;
use jiesu_domain::care::meals::{MealInput, MealKind};
use jiesu_domain::care::order::{OrderCommand, OrderStatus, ServiceKind};
use jiesu_domain::care::person::ElderInput;
use jiesu_store::care::{CarePlan, Carer, MealPoint, PriceItem, Provider, WeeklySlot};
use jiesu_store::{NewUser, User};
use jiff::civil::{Date, date};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A synthetic 居民身份证号码 with its GB 11643 check character.
fn id_number(birth: Date, seq: u32) -> String {
    let body = format!(
        "110102{:04}{:02}{:02}{seq:03}",
        birth.year(),
        birth.month(),
        birth.day()
    );
    jiesu_domain::care::person::with_check_character(&body)
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn temp_db(name: &str) -> (PathBuf, String) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let p = std::env::temp_dir().join(format!(
        "jiesu-care-{name}-{}-{nanos}.db",
        std::process::id()
    ));
    let url = format!("sqlite://{}", p.display());
    (p, url)
}

async fn user(app: &App, name: &str) -> User {
    console::account(app, name).await.expect("account")
}

/// What the fixture recorded, summed from the use cases' own answers (the log).
#[derive(Default)]
struct Log {
    visits_fen: i64,
    meal_subsidy_fen: i64,
    diner_days: BTreeSet<(i64, Date)>,
}

/// Builds the fixture; returns the log sums.
async fn build(url: &str) -> Log {
    let world = jiesu_world::load_dir(Path::new(&common::world_dir())).expect("world");
    let app = Database::open(url)
        .await
        .unwrap()
        .into_app(true, || Ok((world, "test".into())))
        .await
        .unwrap();
    let clock = Clock::manual(at("2026-10-01T08:00:00+08:00"));
    let app = App {
        clock: clock.clone(),
        ..app
    };
    let community = app.dir.world.communities[0].clone();
    let (street, comm) = (community.street_code.clone(), community.code.clone());

    // Accounts: the 民政 admin and an operator through `jiesu user add`; the provider's staff
    // (its unit is the provider's code) through the console.
    common::add_user(url, "care-admin", "care_admin", None, &[]);
    common::add_user(url, "operator", "operator", None, &[]);
    console::create_account(
        &app,
        &NewUser {
            username: "p1-staff".into(),
            display_name: "服务商P1".into(),
            password_hash: jiesu_app::accounts::hash_password(common::PASSWORD).unwrap(),
            role: Role::Provider,
            unit_code: Some("P1".into()),
        },
    )
    .await
    .unwrap();
    let admin = user(&app, "care-admin").await;
    let staff = user(&app, "p1-staff").await;

    // The network.
    network::save_provider(
        &app,
        &admin,
        &Provider {
            code: "P1".into(),
            name: "康乐居家养老服务中心".into(),
            street: street.clone(),
            community: comm.clone(),
            phone: "13800138000".into(),
            active: true,
            services: vec![
                PriceItem {
                    service: ServiceKind::Bath,
                    price_fen: 8000,
                    copay_fen: 2000,
                },
                PriceItem {
                    service: ServiceKind::Clean,
                    price_fen: 5000,
                    copay_fen: 1000,
                },
            ],
            coverage: vec![comm.clone()],
            slots: (1..=7)
                .map(|weekday| WeeklySlot {
                    weekday,
                    start_min: 8 * 60,
                    end_min: 18 * 60,
                    capacity: 3,
                })
                .collect(),
        },
    )
    .await
    .unwrap();
    let carer = network::add_carer(
        &app,
        &admin,
        &Carer {
            id: 0,
            provider: "P1".into(),
            name: "护理员刘芳".into(),
            skills: vec![ServiceKind::Bath, ServiceKind::Clean],
            active: true,
        },
    )
    .await
    .unwrap();
    network::save_meal_point(
        &app,
        &admin,
        &MealPoint {
            code: "M1".into(),
            name: "父母食堂（测试）".into(),
            street: street.clone(),
            community: comm.clone(),
            address: "测试路1号".into(),
            capacity: 50,
            hours: "11:00-13:00 17:00-18:30".into(),
            active: true,
            communities: vec![comm.clone()],
        },
    )
    .await
    .unwrap();

    // The registry.
    let elder = |name: &str, birth: Date, seq: u32, eligible: bool| ElderInput {
        name: name.into(),
        id_number: id_number(birth, seq),
        phone: Some("13900139000".into()),
        birth_date: birth,
        street: street.clone(),
        community: comm.clone(),
        address: "测试路2号院1号楼".into(),
        living_alone: eligible,
        basic_service_object: eligible,
        subsidies: vec![],
        family: vec![],
        care_manager: None,
        medical_notes: String::new(),
        consent: None,
    };
    let a = registry::register(&app, &admin, &elder("王淑兰", date(1940, 3, 8), 22, true))
        .await
        .unwrap();
    let b = registry::register(&app, &admin, &elder("李建国", date(1950, 7, 1), 31, false))
        .await
        .unwrap();

    let plan = |elder_id, service, from: Date, to: Date| CarePlan {
        id: 0,
        elder_id,
        service,
        weekdays: vec![1, 2, 3, 4, 5],
        start_min: 9 * 60,
        duration_min: 60,
        from_date: from,
        to_date: to,
        created_by: String::new(),
    };
    let (_, mut a_orders) = orders::plan(
        &app,
        &admin,
        &plan(a, ServiceKind::Bath, date(2026, 10, 12), date(2026, 10, 16)),
    )
    .await
    .unwrap();
    let (_, b_oct) = orders::plan(
        &app,
        &admin,
        &plan(
            b,
            ServiceKind::Clean,
            date(2026, 10, 20),
            date(2026, 10, 20),
        ),
    )
    .await
    .unwrap();
    let (_, b_nov) = orders::plan(
        &app,
        &admin,
        &plan(b, ServiceKind::Clean, date(2026, 11, 2), date(2026, 11, 2)),
    )
    .await
    .unwrap();
    assert_eq!(a_orders.len(), 5);
    a_orders.sort_by_key(|o| o.wanted.map(|w| w.start));
    let all: Vec<_> = a_orders
        .iter()
        .chain(&b_oct)
        .chain(&b_nov)
        .cloned()
        .collect();
    for o in &all {
        let st = orders::assign(&app, &admin, o.id, "P1").await.unwrap();
        assert_eq!(st.status, OrderStatus::Assigned);
        assert!(!st.match_reason.is_empty());
        let slot = o.wanted.unwrap();
        orders::act(
            &app,
            &staff,
            o.id,
            &OrderCommand::Schedule {
                carer_id: carer,
                slot,
            },
        )
        .await
        .unwrap();
    }
    orders::act(&app, &admin, a_orders[4].id, &OrderCommand::Cancel)
        .await
        .unwrap();

    let mut log = Log::default();
    for o in &a_orders[..3] {
        let st = finish(&app, &staff, o.id, carer).await;
        log.visits_fen += st.price_fen - st.copay_fen;
    }
    let rated = orders::rate_by_code(&app, &a_orders[0].code, 5, "服务很周到")
        .await
        .unwrap();
    assert_eq!(rated.status, OrderStatus::Rated);
    // The fourth is never started: the sweep raises the three alerts, then 漏服务.
    let late = a_orders[3].wanted.unwrap().start;
    clock.set(late + SignedDuration::from_mins(61));
    jiesu_app::sla::sweep_cases(&app).await.unwrap();
    let missed = orders::detail(&app, &admin, a_orders[3].id).await.unwrap();
    assert_eq!(missed.order.status, OrderStatus::Missed);
    assert_eq!(missed.order.alerts, 3);

    let st = finish(&app, &staff, b_oct[0].id, carer).await;
    log.visits_fen += st.price_fen - st.copay_fen;

    // Meals, recorded after the month's last day by the 民政 desk.
    clock.set(at("2026-10-25T12:00:00+08:00"));
    for (elder_id, day, meal, bill) in [
        (a, 6, MealKind::Lunch, 1500),
        (a, 6, MealKind::Dinner, 1200),
        (a, 7, MealKind::Lunch, 450),
        (a, 8, MealKind::Lunch, 500),
        (b, 6, MealKind::Lunch, 1500),
    ] {
        let m = meals::record(
            &app,
            &admin,
            &MealInput {
                elder_id,
                point: "M1".into(),
                date: date(2026, 10, day),
                meal,
                bill_fen: bill,
            },
        )
        .await
        .unwrap();
        log.meal_subsidy_fen += m.elder_subsidy_fen;
        log.diner_days.insert((m.elder_id, m.date));
    }
    // A second lunch the same day is refused naming `meal`; nothing is stored.
    let dup = meals::record(
        &app,
        &admin,
        &MealInput {
            elder_id: a,
            point: "M1".into(),
            date: date(2026, 10, 6),
            meal: MealKind::Lunch,
            bill_fen: 1500,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        (dup.code.as_str(), dup.field.as_deref()),
        ("duplicate_meal", Some("meal"))
    );

    // November's visit (not October's).
    finish(&app, &staff, b_nov[0].id, carer).await;
    app.close().await;
    log
}

/// Starts and finishes a scheduled visit at its slot (5 and 55 minutes in).
async fn finish(app: &App, staff: &User, id: i64, carer: i64) -> jiesu_domain::care::OrderState {
    let o = orders::detail(app, staff, id).await.unwrap().order;
    let start = o.slot.unwrap().start;
    app.clock.set(start + SignedDuration::from_mins(5));
    orders::act(
        app,
        staff,
        id,
        &OrderCommand::StartVisit {
            carer_id: carer,
            place: "39.9133,116.3670".into(),
            at: None,
        },
    )
    .await
    .unwrap();
    app.clock.set(start + SignedDuration::from_mins(55));
    let st = orders::act(
        app,
        staff,
        id,
        &OrderCommand::FinishVisit {
            notes: "服务完成，老人状态良好".into(),
            at: None,
        },
    )
    .await
    .unwrap();
    assert!(st.verified_visit().is_some());
    st
}

fn settle(url: &str, args: &[&str]) -> std::process::Output {
    Command::new(common::BIN)
        .args(["care", "settle", "--db", url])
        .args(args)
        .env("JIESU_LOG", "warn")
        .output()
        .expect("jiesu care settle")
}

fn cell_str(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

fn cell_i64(d: &Data) -> i64 {
    match d {
        Data::Float(f) => {
            assert_eq!(f.fract(), 0.0, "a fractional fen: {f}");
            *f as i64
        }
        Data::Int(i) => *i,
        other => panic!("not a number: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settlement_xlsx_equals_json_and_the_logs() {
    let (path, url) = temp_db("settle");
    let log = build(&url).await;
    let dir = path.parent().unwrap().to_path_buf();
    let stem = path.file_stem().unwrap().to_string_lossy().to_string();
    let json_out = dir.join(format!("{stem}.json"));
    let xlsx_out = dir.join(format!("{stem}.xlsx"));

    let run = |format: &str, file: &Path, extra: &[&str]| {
        let mut args = vec![
            "--month",
            "2026-10",
            "--format",
            format,
            "--user",
            "care-admin",
        ];
        args.extend_from_slice(extra);
        args.extend(["--out", file.to_str().unwrap()]);
        let out = settle(&url, &args);
        assert!(
            out.status.success(),
            "care settle {format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).expect("summary JSON")
    };
    let summary = run("json", &json_out, &[]);
    run("xlsx", &xlsx_out, &[]);
    let report: Value = serde_json::from_slice(&std::fs::read(&json_out).unwrap()).unwrap();

    // The totals: the log's sum and the hand-computed sum, to the fen.
    let operating = 300 * log.diner_days.len() as i64;
    assert_eq!(log.visits_fen, 22_000);
    assert_eq!(log.meal_subsidy_fen, 500);
    assert_eq!(operating, 1_200);
    assert_eq!(report["total_fen"], 23_700);
    assert_eq!(
        report["total_fen"],
        log.visits_fen + log.meal_subsidy_fen + operating
    );
    assert_eq!(summary["total_fen"], 23_700);
    let claims = report["claims"].as_array().unwrap();
    let claim = |code: &str| {
        claims
            .iter()
            .find(|c| c["party"] == code)
            .unwrap_or_else(|| panic!("no claim of {code}: {report}"))
    };
    let (p1, m1) = (claim("P1"), claim("M1"));
    assert_eq!(p1["visits_fen"], log.visits_fen);
    assert_eq!(p1["total_fen"], 22_000);
    assert_eq!(p1["lines"].as_array().unwrap().len(), 4, "{p1}");
    assert_eq!(m1["meal_subsidy_fen"], 500);
    assert_eq!(m1["operating_fen"], 1_200);
    assert_eq!(m1["total_fen"], 1_700);
    assert_eq!(m1["lines"].as_array().unwrap().len(), 5, "{m1}");
    for c in claims {
        assert_eq!(c["status"], "draft");
        assert_eq!(c["adjustments_fen"], 0);
        let sum: i64 = c["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["amount_fen"].as_i64().unwrap())
            .sum();
        assert_eq!(c["total_fen"], sum);
    }

    // The workbook equals the JSON: one summary row per claim, one detail row per line.
    let mut wb: Xlsx<_> = open_workbook(&xlsx_out).expect("open the workbook");
    let sum = wb.worksheet_range("汇总").expect("汇总");
    let rows: Vec<&[Data]> = sum.rows().collect();
    assert_eq!(cell_str(&rows[0][0]), "月份");
    assert_eq!(rows.len(), claims.len() + 2, "header, claims, 总计");
    for (row, c) in rows[1..].iter().zip(claims) {
        assert_eq!(cell_str(&row[0]), c["month"].as_str().unwrap());
        assert_eq!(cell_str(&row[2]), c["party"].as_str().unwrap());
        assert_eq!(cell_str(&row[3]), c["party_name"].as_str().unwrap());
        assert_eq!(cell_str(&row[4]), "草稿");
        for (col, key) in [
            "visits_fen",
            "meal_subsidy_fen",
            "operating_fen",
            "adjustments_fen",
            "total_fen",
        ]
        .iter()
        .enumerate()
        {
            assert_eq!(cell_i64(&row[5 + col]), c[*key].as_i64().unwrap(), "{key}");
        }
    }
    let last = rows.last().unwrap();
    assert_eq!(cell_str(&last[3]), "总计");
    assert_eq!(cell_i64(&last[9]), 23_700);

    let detail = wb.worksheet_range("明细").expect("明细");
    let lines: Vec<(&Value, &Value)> = claims
        .iter()
        .flat_map(|c| c["lines"].as_array().unwrap().iter().map(move |l| (c, l)))
        .collect();
    let rows: Vec<&[Data]> = detail.rows().skip(1).collect();
    assert_eq!(rows.len(), lines.len());
    let mut xlsx_total = 0;
    for (row, (c, l)) in rows.iter().zip(&lines) {
        assert_eq!(cell_str(&row[0]), c["party"].as_str().unwrap());
        assert_eq!(cell_str(&row[2]), l["item"].as_str().unwrap());
        assert_eq!(cell_str(&row[3]), l["service_date"].as_str().unwrap());
        assert_eq!(cell_i64(&row[4]), l["elder_id"].as_i64().unwrap());
        assert_eq!(cell_i64(&row[5]), l["amount_fen"].as_i64().unwrap());
        let adj = if l["adjustment"].as_bool().unwrap() {
            "是"
        } else {
            "否"
        };
        assert_eq!(cell_str(&row[6]), adj);
        xlsx_total += cell_i64(&row[5]);
    }
    assert_eq!(xlsx_total, 23_700);

    // One party: only its claim.
    let one = dir.join(format!("{stem}-p1.json"));
    let s = run("json", &one, &["--provider", "P1"]);
    assert_eq!(
        (s["claims"].as_i64(), s["total_fen"].as_i64()),
        (Some(1), Some(22_000))
    );

    // Refusals name the flag and write nothing.
    let bad = dir.join(format!("{stem}-bad.json"));
    let b = bad.to_str().unwrap();
    for (args, flag) in [
        (
            vec!["--month", "2026-13", "--user", "care-admin"],
            "--month",
        ),
        (
            vec![
                "--month",
                "2026-10",
                "--user",
                "care-admin",
                "--provider",
                "NOPE",
            ],
            "--provider",
        ),
        (vec!["--month", "2026-10", "--user", "nobody"], "--user"),
    ] {
        let mut a = args.clone();
        a.extend(["--out", b]);
        let out = settle(&url, &a);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(flag),
            "{args:?}: {err}"
        );
        assert!(!bad.exists());
    }
    // An operator may not read the settlement.
    let out = settle(
        &url,
        &["--month", "2026-10", "--user", "operator", "--out", b],
    );
    assert!(!out.status.success());
    assert!(!bad.exists());

    for p in [json_out, xlsx_out, one] {
        let _ = std::fs::remove_file(p);
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
