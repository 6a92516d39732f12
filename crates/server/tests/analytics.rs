//! `/api/v1/analytics/…` on a small history recorded through the API with the manual clock;
//! every expected number is worked out by hand from the fixture below.
//!
//! Fixture (A = property.service, B = noise.neighborhood; S = 什刹海 110102012 / 西四北社区
//! 110102012001, O = 大栅栏 110102013 / 前门西河沿社区 110102013001):
//!
//! | when (received)          | A/S | A/O | B/S | B/O |
//! |--------------------------|-----|-----|-----|-----|
//! | Tue 15 Sep (W38)         |  3  |     |     |     |
//! | Tue 13 Oct (W42)         |  2  |  1  |     |     |
//! | Tue 20 Oct (W43)         |  4  |  1  |     |  6  |
//! | Tue 27 / Wed 28 Oct (W44)| 12  |  2  |  5  |     |
//!
//! The three September requests are dispatched to 什刹海's street office: one replied at once,
//! one replied late on 10 Oct, one never. Two of the W44 A/S requests (28 Oct) go through
//! the whole cycle in time and are called back: resolved/满意 and unresolved/不满意.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

const A: &str = STREET_CATEGORY;
const B: &str = "noise.neighborhood";
const O: &str = "110102013";
const O_COMMUNITY: &str = "110102013001";
const OLD_TEXT: &str = "楼道堆放杂物无人清理";
const HEAT_TEXT: &str = "暖气不热屋里冷";
const NOISE_TEXT: &str = "楼上邻居深夜喧哗";

fn close(v: &Value, expected: f64, what: &str) {
    let got = v.as_f64().unwrap_or(f64::NAN);
    assert!(
        (got - expected).abs() < 1e-6 * expected.abs().max(1.0),
        "{what}: {got} != {expected}"
    );
}

async fn put(app: &common::App, at: &str, category: &str, street: &str, text: &str) -> i64 {
    app.advance_to(at);
    let community = if street == STREET {
        COMMUNITY
    } else {
        O_COMMUNITY
    };
    app.intake(
        json!({"category": category, "street": street, "community": community, "text": text}),
    )
    .await
}

async fn handle(app: &common::App, id: i64) {
    app.act_ok("handler", id, "accept", json!({})).await;
    app.act_ok(
        "handler",
        id,
        "contact",
        json!({"method": "phone", "reached": true, "note": "已联系"}),
    )
    .await;
    app.act_ok("handler", id, "reply", json!({"text": "已处理。"}))
        .await;
}

struct Fixture {
    september: Vec<i64>,
    w44_a_s: Vec<i64>,
}

async fn fixture(app: &common::App) -> Fixture {
    let mut september = Vec::new();
    for i in 0..3 {
        let id = put(
            app,
            &format!("2026-09-15T10:0{i}:00+08:00"),
            A,
            STREET,
            OLD_TEXT,
        )
        .await;
        app.act_ok("dispatcher", id, "dispatch", json!({"unit": STREET}))
            .await;
        september.push(id);
    }
    app.advance_to("2026-09-15T11:00:00+08:00");
    handle(app, september[0]).await;
    for i in 0..2 {
        put(
            app,
            &format!("2026-10-13T10:0{i}:00+08:00"),
            A,
            STREET,
            OLD_TEXT,
        )
        .await;
    }
    put(app, "2026-10-13T11:00:00+08:00", A, O, OLD_TEXT).await;
    app.advance_to("2026-10-10T10:00:00+08:00");
    handle(app, september[1]).await;
    for i in 0..4 {
        put(
            app,
            &format!("2026-10-20T10:0{i}:00+08:00"),
            A,
            STREET,
            OLD_TEXT,
        )
        .await;
    }
    put(app, "2026-10-20T11:00:00+08:00", A, O, OLD_TEXT).await;
    for i in 0..6 {
        put(app, &format!("2026-10-20T12:0{i}:00+08:00"), B, O, OLD_TEXT).await;
    }
    let mut w44_a_s = Vec::new();
    for i in 0..10 {
        w44_a_s.push(
            put(
                app,
                &format!("2026-10-27T10:{i:02}:00+08:00"),
                A,
                STREET,
                HEAT_TEXT,
            )
            .await,
        );
    }
    for i in 0..2 {
        put(app, &format!("2026-10-27T11:0{i}:00+08:00"), A, O, OLD_TEXT).await;
    }
    for i in 0..5 {
        put(
            app,
            &format!("2026-10-27T12:0{i}:00+08:00"),
            B,
            STREET,
            NOISE_TEXT,
        )
        .await;
    }
    for (i, (resolved, satisfaction)) in [(true, "satisfied"), (false, "unsatisfied")]
        .into_iter()
        .enumerate()
    {
        let id = put(
            app,
            &format!("2026-10-28T10:0{i}:00+08:00"),
            A,
            STREET,
            HEAT_TEXT,
        )
        .await;
        app.act_ok("dispatcher", id, "dispatch", json!({"unit": STREET}))
            .await;
        app.advance_to(&format!("2026-10-28T10:3{i}:00+08:00"));
        handle(app, id).await;
        app.advance_to(&format!("2026-10-28T11:0{i}:00+08:00"));
        app.act_ok(
            "callback",
            id,
            "callback",
            json!({"reached": true, "resolved": resolved, "satisfaction": satisfaction}),
        )
        .await;
        w44_a_s.push(id);
    }
    app.advance_to(T0);
    Fixture { september, w44_a_s }
}

async fn ok(app: &common::App, user: &str, path: &str) -> Value {
    let (s, v) = app.get(user, path).await;
    assert_eq!(s, StatusCode::OK, "[{}] {path}: {v}", app.backend());
    v
}

fn key(v: &Value) -> (String, String) {
    (
        v["category"].as_str().unwrap_or("").to_string(),
        v["place"].as_str().unwrap_or("").to_string(),
    )
}

async fn scenario(app: &common::App) {
    let fx = fixture(app).await;
    let be = app.backend();

    // ---- hot spots, W44 against the two trailing weeks W42, W43
    let v = ok(
        app,
        "supervisor",
        "/api/v1/analytics/hotspots?period=2026-W44&trailing=2",
    )
    .await;
    assert_eq!(v["baseline"]["kind"], "trailing", "[{be}] {v}");
    assert_eq!(v["baseline"]["windows"][0]["label"], "2026-W42");
    assert_eq!(v["baseline"]["windows"][1]["label"], "2026-W43");
    assert_eq!(v["requests"], 19);
    let items = v["items"].as_array().cloned().unwrap_or_default();
    let keys: Vec<_> = items.iter().map(key).collect();
    assert_eq!(
        keys,
        [
            (A.to_string(), STREET.to_string()),
            (B.to_string(), STREET.to_string()),
            (A.to_string(), O.to_string()),
        ],
        "[{be}] {v}"
    );
    // A/S: 12 against (2 + 4)/2 = 3 → +9, +300 %.
    assert_eq!(items[0]["observed"], 12);
    close(&items[0]["expected"], 3.0, "A/S expected");
    close(&items[0]["change"], 9.0, "A/S change");
    close(&items[0]["change_pct"], 300.0, "A/S %");
    assert_eq!(items[0]["baseline"], json!([2, 4]));
    assert_eq!(items[0]["place_name"], "什刹海街道");
    assert_eq!(items[0]["category_name"], "物业服务");
    // B/S: new (expected 0, no percentage); A/O: 2 against 1.
    close(&items[1]["expected"], 0.0, "B/S expected");
    assert_eq!(items[1]["change_pct"], Value::Null);
    close(&items[2]["change_pct"], 100.0, "A/O %");

    // Default trailing (8 weeks W36–W43): W36–W38 start before the first request (15 Sep
    // 10:00) and are left out; W39–W43 stay. A/S: 6/5 = 1.2.
    let v = ok(
        app,
        "admin",
        "/api/v1/analytics/hotspots?period=2026-W44&sort=increase&limit=1",
    )
    .await;
    assert_eq!(
        v["baseline"]["skipped"],
        json!(["2026-W36", "2026-W37", "2026-W38"]),
        "[{be}] {v}"
    );
    assert_eq!(v["baseline"]["windows"].as_array().map(Vec::len), Some(5));
    close(&v["items"][0]["expected"], 1.2, "A/S over 5 weeks");
    assert_eq!(v["items"].as_array().map(Vec::len), Some(1));

    // Community level: the same counts under the communities.
    let v = ok(
        app,
        "dispatcher",
        "/api/v1/analytics/hotspots?period=2026-W44&trailing=2&level=community",
    )
    .await;
    assert_eq!(key(&v["items"][0]), (A.to_string(), COMMUNITY.to_string()));
    assert_eq!(v["items"][0]["place_name"], "西四北社区");
    assert_eq!(
        key(&v["items"][2]),
        (A.to_string(), O_COMMUNITY.to_string())
    );

    // ---- spikes: A/S P(X ≥ 12 | 3) = 7.1387e-5; B/S never seen, P(X ≥ 5 | 0.5) = 1.7212e-4;
    // A/O 2 < min_count 5.
    let v = ok(
        app,
        "supervisor",
        "/api/v1/analytics/spikes?period=2026-W44&trailing=2&sample=3",
    )
    .await;
    let alerts = v["alerts"].as_array().cloned().unwrap_or_default();
    assert_eq!(alerts.len(), 2, "[{be}] {v}");
    assert_eq!(key(&alerts[0]), (A.to_string(), STREET.to_string()));
    close(&alerts[0]["p_value"], 7.138_662_897_410_164e-5, "A/S p");
    close(&alerts[0]["expected"], 3.0, "A/S expected");
    close(
        &alerts[0]["score"],
        -(7.138_662_897_410_164e-5f64).log10(),
        "A/S score",
    );
    assert_eq!(key(&alerts[1]), (B.to_string(), STREET.to_string()));
    close(&alerts[1]["tested_mean"], 0.5, "B/S tested mean");
    close(&alerts[1]["p_value"], 1.721_156_299_557_824_5e-4, "B/S p");
    // The evidence: the three oldest A/S requests of the week.
    let ev: Vec<i64> = alerts[0]["evidence"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["id"].as_i64()).collect())
        .unwrap_or_default();
    assert_eq!(ev, fx.w44_a_s[..3]);
    let code = app.state(fx.w44_a_s[0]).await["tracking_code"].clone();
    assert_eq!(alerts[0]["evidence"][0]["tracking_code"], code);
    assert_eq!(alerts[0]["evidence"][0]["excerpt"], HEAT_TEXT);
    // A stricter α keeps only A/S.
    let v = ok(
        app,
        "supervisor",
        "/api/v1/analytics/spikes?period=2026-W44&trailing=2&alpha=0.0001",
    )
    .await;
    assert_eq!(v["alerts"].as_array().map(Vec::len), Some(1));

    // ---- 每月一题: September and October by community.
    // A/西四北 [3, 18] = 21, 2/2 months, 1 community, 不满意 1 of 2 answers:
    //   35 + 30 + 15 + 20·½ = 90.
    // B/前门西河沿 [0, 6]: 35·6/21 + 15 + 15 = 40; B/西四北 [0, 5]: 35·5/21 + 30 = 38.33;
    // A/前门西河沿 [0, 4]: 35·4/21 + 30 = 36.67.
    let v = ok(
        app,
        "supervisor",
        "/api/v1/analytics/recurring?period=2026-10&months=2",
    )
    .await;
    assert_eq!(v["months"], json!(["2026-09", "2026-10"]), "[{be}] {v}");
    let items = v["items"].as_array().cloned().unwrap_or_default();
    let keys: Vec<_> = items.iter().map(key).collect();
    assert_eq!(
        keys,
        [
            (A.to_string(), COMMUNITY.to_string()),
            (B.to_string(), O_COMMUNITY.to_string()),
            (B.to_string(), COMMUNITY.to_string()),
            (A.to_string(), O_COMMUNITY.to_string()),
        ],
        "[{be}] {v}"
    );
    close(&items[0]["score"], 90.0, "A/西四北");
    assert_eq!(items[0]["monthly"], json!([3, 18]));
    assert_eq!(
        (items[0]["answers"].clone(), items[0]["unsatisfied"].clone()),
        (json!(2), json!(1))
    );
    close(&items[0]["unsatisfied_share"], 50.0, "不满意 share");
    close(&items[1]["score"], 40.0, "B/前门西河沿");
    close(&items[2]["score"], 35.0 * 5.0 / 21.0 + 30.0, "B/西四北");
    close(&items[3]["score"], 35.0 * 4.0 / 21.0 + 30.0, "A/前门西河沿");
    assert!(
        items[0]["explanation"]
            .as_str()
            .is_some_and(|e| e.contains("不满意 1/2 → 10.0"))
    );
    // Two months present required: only A/西四北.
    let v = ok(
        app,
        "supervisor",
        "/api/v1/analytics/recurring?period=2026-10&months=2&min_months=2",
    )
    .await;
    assert_eq!(v["items"].as_array().map(Vec::len), Some(1));

    // ---- keyword trends: W44 (19 requests) against W42 + W43 (14 requests, all OLD_TEXT).
    // The heating words are in 12 of W44's requests and in none before: z = 12/√1 = 12; the
    // noise words in 5: z = 5. The OLD_TEXT words are in 2 now (below min_count) and fell.
    let v = ok(
        app,
        "supervisor",
        "/api/v1/analytics/keywords?period=2026-W44&previous=2",
    )
    .await;
    assert_eq!(
        (v["docs"].clone(), v["previous_docs"].clone()),
        (json!(19), json!(14)),
        "[{be}] {v}"
    );
    let items = v["items"].as_array().cloned().unwrap_or_default();
    assert!(!items.is_empty(), "{v}");
    assert_eq!(items[0]["count"], 12, "{v}");
    close(&items[0]["z"], 12.0, "z");
    assert!(items.iter().any(|k| k["term"] == "暖气不热"), "{v}");
    for k in &items {
        let term = k["term"].as_str().unwrap_or("");
        assert!(
            HEAT_TEXT.contains(term) || NOISE_TEXT.contains(term),
            "{term} in {v}"
        );
        if NOISE_TEXT.contains(term) {
            assert_eq!(k["count"], 5, "{v}");
            close(&k["z"], 5.0, "noise z");
        }
    }

    // ---- overdue: the September deadlines. As of 31 Oct, #3 was never replied and #2 was
    // replied on 10 Oct, after its deadline.
    let due = |v: &Value| {
        v["completion_due"]
            .as_str()
            .unwrap_or("")
            .parse::<jiff::Timestamp>()
            .expect("due")
    };
    let due2 = due(&app.state(fx.september[1]).await);
    let due3 = due(&app.state(fx.september[2]).await);
    let as_of: jiff::Timestamp = "2026-10-31T00:00:00+08:00".parse().expect("as_of");
    let replied2: jiff::Timestamp = "2026-10-10T10:00:00+08:00".parse().expect("replied");
    let v = ok(
        app,
        "supervisor",
        "/api/v1/analytics/overdue?period=2026-09&as_of=2026-10-31T00:00:00%2B08:00",
    )
    .await;
    assert_eq!(
        (v["total"].clone(), v["open"].clone()),
        (json!(2), json!(1)),
        "[{be}] {v}"
    );
    assert_eq!(v["items"][0]["id"], fx.september[2]);
    assert_eq!(v["items"][0]["unit"], STREET);
    assert_eq!(v["items"][0]["unit_name"], "什刹海街道办事处");
    let hours = |a: jiff::Timestamp, b: jiff::Timestamp| {
        (a.as_millisecond() - b.as_millisecond()) as f64 / 3.6e6
    };
    close(
        &v["items"][0]["late_hours"],
        (hours(as_of, due3) * 10.0).round() / 10.0,
        "#3 late",
    );
    assert_eq!(v["items"][1]["id"], fx.september[1]);
    close(
        &v["items"][1]["late_hours"],
        (hours(replied2, due2) * 10.0).round() / 10.0,
        "#2 late",
    );
    // As of 1 October neither was replied yet.
    let v = ok(
        app,
        "dispatcher",
        "/api/v1/analytics/overdue?period=2026-09&as_of=2026-10-01T00:00:00%2B08:00",
    )
    .await;
    assert_eq!(
        (v["total"].clone(), v["open"].clone()),
        (json!(2), json!(2))
    );
    let v = ok(
        app,
        "dispatcher",
        "/api/v1/analytics/overdue?period=2026-10&as_of=2026-10-31T00:00:00%2B08:00",
    )
    .await;
    assert_eq!(v["total"], 0, "{v}");
    let v = ok(
        app,
        "dispatcher",
        &format!(
            "/api/v1/analytics/overdue?period=2026-09&unit={O}&as_of=2026-10-31T00:00:00%2B08:00"
        ),
    )
    .await;
    assert_eq!(v["total"], 0, "{v}");

    // ---- flags: October for 什刹海's office: response 2/2 = 100, resolution 1/2 = 50,
    // satisfaction (100 + 0)/2 = 50 → composite 10 + 22.5 + 22.5 = 55 < 60.
    let v = ok(app, "supervisor", "/api/v1/analytics/flags?period=2026-10&months=1&threshold=60&as_of=2026-11-01T00:00:00%2B08:00").await;
    assert_eq!(v["flags"].as_array().map(Vec::len), Some(1), "[{be}] {v}");
    assert_eq!(v["flags"][0]["key"], STREET);
    close(&v["flags"][0]["values"][0], 55.0, "composite");
    assert_eq!(
        v["flags"][0]["reasons"],
        json!(["below_threshold", "bottom"])
    );
    assert_eq!(v["bottom_latest"][0]["key"], STREET);
    // Two months in a row: September has no callback, so no composite, and the run breaks.
    let v = ok(app, "supervisor", "/api/v1/analytics/flags?period=2026-10&months=2&threshold=60&as_of=2026-11-01T00:00:00%2B08:00").await;
    assert_eq!(v["flags"], json!([]), "{v}");
    assert_eq!(v["months"], json!(["2026-09", "2026-10"]));

    // ---- roles and bad queries
    for user in ["handler", "operator", "callback"] {
        let (s, v) = app
            .get(user, "/api/v1/analytics/hotspots?period=2026-W44")
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{user}: {v}");
        assert_eq!(v["code"], "forbidden_role");
    }
    let (s, _) = app
        .call(
            "GET",
            None,
            "/api/v1/analytics/spikes?period=2026-W44",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    for (path, field) in [
        ("/api/v1/analytics/hotspots?period=2026-Q4", "period"),
        ("/api/v1/analytics/hotspots", "period"),
        (
            "/api/v1/analytics/hotspots?period=2026-W44&level=house",
            "level",
        ),
        (
            "/api/v1/analytics/hotspots?period=2026-W44&sort=mood",
            "sort",
        ),
        (
            "/api/v1/analytics/hotspots?period=2026-W44&baseline=ever",
            "baseline",
        ),
        (
            "/api/v1/analytics/hotspots?period=2026-W44&limit=abc",
            "limit",
        ),
        (
            "/api/v1/analytics/hotspots?period=2026-W44&limit=0",
            "limit",
        ),
        (
            "/api/v1/analytics/hotspots?period=2026-W44&colour=red",
            "colour",
        ),
        ("/api/v1/analytics/spikes?period=2026-W44&alpha=2", "alpha"),
        (
            "/api/v1/analytics/spikes?period=2026-W44&min_count=0",
            "min_count",
        ),
        ("/api/v1/analytics/recurring?period=2026-W44", "period"),
        (
            "/api/v1/analytics/recurring?period=2026-10&months=0",
            "months",
        ),
        (
            "/api/v1/analytics/recurring?period=2026-10&months=2&min_months=3",
            "min_months",
        ),
        (
            "/api/v1/analytics/keywords?period=2026&previous=2",
            "period",
        ),
        (
            "/api/v1/analytics/keywords?period=2026-W44&previous=99",
            "previous",
        ),
        (
            "/api/v1/analytics/overdue?period=2026-09&as_of=yesterday",
            "as_of",
        ),
        (
            "/api/v1/analytics/overdue?period=2026-09&unit=nowhere",
            "unit",
        ),
        (
            "/api/v1/analytics/flags?period=2026-10&metric=mood",
            "metric",
        ),
        (
            "/api/v1/analytics/flags?period=2026-10&threshold=120",
            "threshold",
        ),
        ("/api/v1/analytics/flags?period=2026-10&by=colour", "by"),
    ] {
        let (s, v) = app.get("admin", path).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "[{be}] {path}: {v}");
        assert_eq!(v["code"], "bad_query", "{path}: {v}");
        assert_eq!(v["field"], field, "{path}: {v}");
    }

    // ---- documented
    let (_, doc) = app.call("GET", None, "/api/v1/openapi.json", None).await;
    for p in [
        "hotspots",
        "spikes",
        "recurring",
        "keywords",
        "overdue",
        "flags",
    ] {
        assert!(
            doc["paths"][format!("/api/v1/analytics/{p}")]["get"].is_object(),
            "{p}"
        );
    }
}

#[tokio::test]
async fn analytics_endpoints_match_hand_counts() {
    on_every_backend!(scenario);
}
