//! `jiesu report --format xlsx|json|csv` on a small October recorded through the API: the
//! spreadsheet, opened with calamine, carries the same numbers as `GET /api/v1/assessment` and
//! `/api/v1/analytics/…` for the same month and cut-off.
//!
//! Fixture (Monday 12 October 2026, property.service, which goes to the street office):
//! 什刹海 (S): #1 handled at once, resolved/满意; #2 signed two days late, unresolved/不满意;
//! #3 never handled (overdue from 21 October). 大栅栏 (O): #4 handled, resolved/基本满意;
//! #5 handled, callback unreached.

use calamine::{Data, Reader, Xlsx, open_workbook};
use jiesu_domain::{Directory, Role};
use jiesu_server::{AppState, Clock};
use jiesu_store::{NewUser, Store};
use jiff::Timestamp;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const S: &str = "110102012";
const O: &str = "110102013";
const PASSWORD: &str = "correct-horse-battery";
const AS_OF: &str = "2026-11-01T00:00:00+08:00";

struct Api {
    base: String,
    client: reqwest::Client,
    clock: Clock,
    tokens: HashMap<String, String>,
}

impl Api {
    async fn call(&self, user: &str, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let mut rb = match method {
            "GET" => self.client.get(url),
            _ => self.client.post(url),
        };
        if let Some(t) = self.tokens.get(user) {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let resp = rb.send().await.expect("send");
        let status = resp.status();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        assert!(
            status.is_success(),
            "{method} {path} as {user}: {status} {v}"
        );
        v
    }
    async fn act(&self, user: &str, id: i64, action: &str, body: Value) {
        self.call(
            user,
            "POST",
            &format!("/api/v1/requests/{id}/{action}"),
            Some(body),
        )
        .await;
    }
    fn at(&self, t: &str) {
        self.clock.set(t.parse().expect("time"));
    }
    async fn handle(&self, user: &str, id: i64) {
        self.act(user, id, "accept", json!({})).await;
        self.act(
            user,
            id,
            "contact",
            json!({"method": "phone", "reached": true, "note": "已联系"}),
        )
        .await;
        self.act(user, id, "reply", json!({"text": "已处理。"}))
            .await;
    }
}

async fn start(url: &str) -> (Api, Store) {
    let store = Store::open(url).await.expect("open");
    let world_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../world/xicheng");
    let world = jiesu_world::load_dir(&world_dir).expect("world");
    store
        .save_world(&world, "test", Timestamp::now())
        .await
        .expect("save world");
    let clock = Clock::manual("2026-10-12T09:00:00+08:00".parse().expect("t0"));
    let mut state = AppState::new(store.clone(), Directory::new(world), clock.clone());
    state.session_ttl = jiff::SignedDuration::from_hours(24 * 90);
    state.session_idle = state.session_ttl;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = jiesu_server::serve(listener, state, std::future::pending()).await;
    });
    let hash = jiesu_server::auth::hash_password(PASSWORD).expect("hash");
    let accounts = [
        ("operator", Role::Operator, None),
        ("dispatcher", Role::Dispatcher, None),
        ("handler-s", Role::Handler, Some(S)),
        ("handler-o", Role::Handler, Some(O)),
        ("callback", Role::Callback, None),
        ("supervisor", Role::Supervisor, None),
    ];
    let mut api = Api {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        clock,
        tokens: HashMap::new(),
    };
    for (name, role, unit) in accounts {
        store
            .create_user(
                &NewUser {
                    username: name.into(),
                    display_name: name.into(),
                    password_hash: hash.clone(),
                    role,
                    unit_code: unit.map(str::to_string),
                },
                Timestamp::now(),
            )
            .await
            .expect("user");
        let v = api
            .call(
                "",
                "POST",
                "/api/v1/auth/login",
                Some(json!({"username": name, "password": PASSWORD})),
            )
            .await;
        api.tokens
            .insert(name.into(), v["token"].as_str().unwrap_or_default().into());
    }
    (api, store)
}

async fn fixture(api: &Api) -> Vec<i64> {
    let mut ids = Vec::new();
    for (street, community) in [
        (S, "110102012001"),
        (S, "110102012001"),
        (S, "110102012001"),
        (O, "110102013001"),
        (O, "110102013001"),
    ] {
        let v = api
            .call(
                "operator",
                "POST",
                "/api/v1/requests",
                Some(json!({
                    "request_type": "complaint", "category": "property.service",
                    "street": street, "community": community, "address": "某胡同1号",
                    "text": "楼道堆放杂物无人清理", "caller_phone": "13812345678",
                })),
            )
            .await;
        let id = v["id"].as_i64().expect("id");
        api.act("dispatcher", id, "dispatch", json!({"unit": street}))
            .await;
        ids.push(id);
    }
    api.at("2026-10-12T09:30:00+08:00");
    api.handle("handler-s", ids[0]).await;
    api.handle("handler-o", ids[3]).await;
    api.handle("handler-o", ids[4]).await;
    api.at("2026-10-14T15:00:00+08:00");
    api.handle("handler-s", ids[1]).await;
    api.at("2026-10-15T10:00:00+08:00");
    for (id, body) in [
        (
            ids[0],
            json!({"reached": true, "resolved": true, "satisfaction": "satisfied"}),
        ),
        (
            ids[1],
            json!({"reached": true, "resolved": false, "satisfaction": "unsatisfied"}),
        ),
        (
            ids[3],
            json!({"reached": true, "resolved": true, "satisfaction": "basically_satisfied"}),
        ),
        (ids[4], json!({"reached": false})),
    ] {
        api.act("callback", id, "callback", body).await;
    }
    api.at("2026-11-02T09:00:00+08:00");
    ids
}

fn report(url: &str, format: &str, out: &Path) {
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_jiesu"))
        .args([
            "report", "--month", "2026-10", "--db", url, "--format", format,
        ])
        .args(["--as-of", AS_OF, "--out"])
        .arg(out)
        .status()
        .expect("run jiesu report");
    assert!(status.success(), "jiesu report --format {format}: {status}");
}

fn num(d: &Data) -> Option<f64> {
    match d {
        Data::Float(f) => Some(*f),
        Data::Int(i) => Some(*i as f64),
        _ => None,
    }
}

fn string(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => other.to_string(),
    }
}

/// A rate cell (a fraction) against the API's percent; both blank/null or equal.
fn same_rate(cell: &Data, api: &Value, what: &str) {
    match (num(cell), api.as_f64()) {
        (None, None) => {}
        (Some(x), Some(y)) => assert!((x * 100.0 - y).abs() < 1e-9, "{what}: {x} vs {y}"),
        other => panic!("{what}: {other:?}"),
    }
}

fn same_number(cell: &Data, api: &Value, what: &str) {
    match (num(cell), api.as_f64()) {
        (None, None) => {}
        (Some(x), Some(y)) => assert!((x - y).abs() < 1e-9, "{what}: {x} vs {y}"),
        other => panic!("{what}: {other:?}"),
    }
}

fn temp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "jiesu-report-test-{}-{}",
        std::process::id(),
        Timestamp::now().as_millisecond()
    ));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xlsx_report_carries_the_apis_numbers() {
    let dir = temp_dir();
    let url = format!("sqlite://{}", dir.join("report.db").display());
    let (api, store) = start(&url).await;
    let ids = fixture(&api).await;
    let q = format!("period=2026-10&as_of={}", AS_OF.replace('+', "%2B"));
    let assessment = api
        .call(
            "supervisor",
            "GET",
            &format!("/api/v1/assessment?{q}"),
            None,
        )
        .await;
    let overdue = api
        .call(
            "supervisor",
            "GET",
            &format!("/api/v1/analytics/overdue?{q}"),
            None,
        )
        .await;
    let hotspots = api
        .call(
            "supervisor",
            "GET",
            "/api/v1/analytics/hotspots?period=2026-10&limit=50",
            None,
        )
        .await;
    let groups = assessment["groups"].as_array().cloned().unwrap_or_default();
    // What the API says, by hand: S office 响应 1/3, 解决 1/2, 满意 (100+0)/2 = 50 →
    // composite 3.33 + 22.5 + 22.5 = 48.33; O office 响应 2/2, 解决 1/1, 满意 80 → 10 + 45 + 36 = 91.
    assert_eq!(groups.len(), 2, "{assessment}");
    assert_eq!(groups[0]["key"], O);
    assert!((groups[0]["composite"].as_f64().unwrap_or(0.0) - 91.0).abs() < 1e-9);
    assert!((groups[1]["composite"].as_f64().unwrap_or(0.0) - (100.0 / 30.0 + 45.0)).abs() < 1e-9);
    assert_eq!(overdue["total"], 1, "{overdue}");
    assert_eq!(overdue["items"][0]["id"], ids[2]);

    // ---- XLSX
    let xlsx = dir.join("report.xlsx");
    report(&url, "xlsx", &xlsx);
    let mut wb: Xlsx<_> = open_workbook(&xlsx).expect("open xlsx");
    assert_eq!(
        wb.sheet_names(),
        [
            "排名",
            "三率明细",
            "超期清单",
            "热点",
            "突增预警",
            "每月一题候选",
            "说明"
        ]
    );
    // 排名: the API's order and ranks.
    let rank = wb.worksheet_range("排名").expect("排名");
    let rows: Vec<&[Data]> = rank.rows().collect();
    assert_eq!(string(&rows[0][0]), "排名");
    assert_eq!(rows.len(), groups.len() + 1);
    for (row, g) in rows[1..].iter().zip(&groups) {
        assert_eq!(string(&row[1]), g["key"].as_str().unwrap_or(""));
        assert_eq!(string(&row[2]), g["name"].as_str().unwrap_or(""));
        same_number(&row[0], &g["rank"], "rank");
        same_number(&row[3], &g["composite"], "composite");
        same_rate(&row[4], &g["response_rate"], "response rate");
        same_rate(&row[5], &g["resolution_rate"], "resolution rate");
        same_number(&row[6], &g["satisfaction_score"], "satisfaction");
        assert_eq!(string(&row[7]) == "末位", g["bottom"] == true);
    }
    // 三率明细: every count and rate, then the totals.
    let detail = wb.worksheet_range("三率明细").expect("三率明细");
    let rows: Vec<&[Data]> = detail.rows().collect();
    let counts = [
        (2, "dispatched"),
        (3, "responded_in_time"),
        (5, "replied"),
        (6, "replied_in_time"),
        (7, "callbacks"),
        (8, "callbacks_unreached"),
        (9, "callbacks_reached"),
        (10, "resolved"),
        (12, "satisfaction_answers"),
        (13, "satisfied"),
        (14, "basically_satisfied"),
        (15, "unsatisfied"),
        (18, "whistled"),
        (19, "whistle_reported_in_time"),
    ];
    let rates = [
        (4, "response_rate"),
        (11, "resolution_rate"),
        (17, "satisfied_share"),
        (20, "whistle_response_rate"),
    ];
    let check = |row: &[Data], g: &Value| {
        for (c, field) in counts {
            same_number(&row[c], &g[field], field);
        }
        for (c, field) in rates {
            same_rate(&row[c], &g[field], field);
        }
        same_number(&row[16], &g["satisfaction_score"], "satisfaction_score");
        same_number(&row[21], &g["composite"], "composite");
    };
    assert_eq!(rows.len(), groups.len() + 2);
    for g in &groups {
        let row = rows
            .iter()
            .find(|r| string(&r[0]) == g["key"].as_str().unwrap_or("-"))
            .unwrap_or_else(|| panic!("no row for {}", g["key"]));
        check(row, g);
    }
    let totals = rows.last().expect("totals");
    assert_eq!(string(&totals[1]), "合计");
    check(totals, &assessment["totals"]);
    // 超期清单: the overdue endpoint's requests and lateness.
    let sheet = wb.worksheet_range("超期清单").expect("超期清单");
    let rows: Vec<&[Data]> = sheet.rows().skip(1).collect();
    let items = overdue["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), items.len());
    for (row, o) in rows.iter().zip(&items) {
        assert_eq!(string(&row[0]), o["tracking_code"].as_str().unwrap_or(""));
        same_number(&row[1], &o["id"], "id");
        same_number(&row[8], &o["late_hours"], "late hours");
        same_number(&row[9], &o["late_days"], "late days");
        assert_eq!(string(&row[7]), "未答复");
    }
    // 热点: the hot-spot endpoint's cells and counts (October has no baseline here).
    let sheet = wb.worksheet_range("热点").expect("热点");
    let rows: Vec<&[Data]> = sheet.rows().skip(1).collect();
    let items = hotspots["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), items.len());
    assert_eq!(items.len(), 2, "{hotspots}");
    for (row, h) in rows.iter().zip(&items) {
        assert_eq!(string(&row[1]), h["category"].as_str().unwrap_or(""));
        assert_eq!(string(&row[3]), h["place"].as_str().unwrap_or(""));
        same_number(&row[5], &h["observed"], "observed");
    }

    // ---- JSON: the assessment's fields as the API gives them, the analytics beside them.
    let json_path = dir.join("report.json");
    report(&url, "json", &json_path);
    let j: Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).expect("json")).expect("parse");
    assert_eq!(j["groups"], assessment["groups"]);
    assert_eq!(j["totals"], assessment["totals"]);
    assert_eq!(j["overdue"]["items"], overdue["items"]);
    assert_eq!(j["hotspots"]["items"], hotspots["items"]);

    // ---- CSV: the rates table, one line per group plus the totals.
    let csv_path = dir.join("report.csv");
    report(&url, "csv", &csv_path);
    let csv = std::fs::read_to_string(&csv_path).expect("csv");
    assert_eq!(csv.lines().count(), groups.len() + 2);
    assert!(csv.starts_with("rank,key,name,dispatched"));

    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
