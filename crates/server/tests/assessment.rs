//! `GET /api/v1/assessment` on requests driven through the API with the manual clock; the
//! expected numbers are worked out by hand from the scenario.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn close(v: &Value, expected: f64, what: &str) {
    let got = v.as_f64().unwrap_or(f64::NAN);
    assert!((got - expected).abs() < 1e-6, "{what}: {got} != {expected}");
}

fn street_group(v: &Value) -> Value {
    v["groups"]
        .as_array()
        .and_then(|gs| gs.iter().find(|g| g["key"] == STREET))
        .cloned()
        .unwrap_or_else(|| panic!("no group {STREET} in {v}"))
}

async fn handled(app: &common::App, id: i64) {
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

async fn scenario(app: &common::App) {
    // Mon 2 Nov 09:00: three requests dispatched to the street office (response due Tue 3 Nov).
    let mut ids = Vec::new();
    for _ in 0..3 {
        let id = app.intake(json!({})).await;
        app.act_ok("dispatcher", id, "dispatch", json!({"unit": STREET}))
            .await;
        ids.push(id);
    }
    // r1: handled at once, called back: resolved and satisfied.
    app.advance_to("2026-11-02T09:30:00+08:00");
    handled(app, ids[0]).await;
    app.advance_to("2026-11-02T10:00:00+08:00");
    app.act_ok(
        "callback",
        ids[0],
        "callback",
        json!({"reached": true, "resolved": true, "satisfaction": "satisfied"}),
    )
    .await;
    // r2: signed on Wed 4 Nov, after the response deadline; unresolved and unsatisfied.
    app.advance_to("2026-11-04T09:00:00+08:00");
    handled(app, ids[1]).await;
    app.advance_to("2026-11-04T10:00:00+08:00");
    app.act_ok(
        "callback",
        ids[1],
        "callback",
        json!({"reached": true, "resolved": false, "satisfaction": "unsatisfied"}),
    )
    .await;
    // r3: never signed.

    let (s, v) = app
        .get(
            "supervisor",
            "/api/v1/assessment?period=2026-11&by=unit&as_of=2026-11-30T00:00:00%2B08:00",
        )
        .await;
    assert_eq!(s, StatusCode::OK, "[{}] {v}", app.backend());
    let g = street_group(&v);
    assert_eq!(g["dispatched"], 3, "{g}");
    assert_eq!(g["responded_in_time"], 1, "{g}");
    assert_eq!(g["callbacks_reached"], 2, "{g}");
    assert_eq!(g["resolved"], 1, "{g}");
    close(&g["response_rate"], 100.0 / 3.0, "response rate");
    close(&g["resolution_rate"], 50.0, "resolution rate");
    // (100 + 0) / 2
    close(&g["satisfaction_score"], 50.0, "satisfaction");
    close(&g["satisfied_share"], 50.0, "satisfied share");
    // (10 × 33.33 + 45 × 50 + 45 × 50) / 100
    close(&g["composite"], 100.0 / 30.0 + 45.0, "composite");
    assert_eq!(g["rank"], 1);
    assert_eq!(g["name"], "什刹海街道办事处", "{g}");
    assert_eq!(v["weights"]["resolution"], 45.0);
    assert_eq!(v["totals"]["dispatched"], 3);

    // As of Tue 3 Nov noon: r2's late signing and its callback have not happened yet.
    let (s, early) = app
        .get(
            "dispatcher",
            "/api/v1/assessment?period=2026-11&as_of=2026-11-03T12:00:00%2B08:00",
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{early}");
    let g = street_group(&early);
    assert_eq!(g["dispatched"], 3);
    assert_eq!(g["responded_in_time"], 1);
    assert_eq!(g["callbacks_reached"], 1);
    close(&g["resolution_rate"], 100.0, "early resolution");
    close(&g["composite"], 100.0 / 30.0 + 90.0, "early composite");

    // By street: the same requests, keyed by the request's street.
    let (s, v) = app
        .get("admin", "/api/v1/assessment?period=2026-W45&by=street")
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(street_group(&v)["dispatched"], 3);

    // October has nothing.
    let (_, v) = app.get("admin", "/api/v1/assessment?period=2026-10").await;
    assert_eq!(v["groups"], json!([]));
    assert_eq!(v["totals"]["response_rate"], Value::Null);

    // Errors and roles.
    let (s, v) = app.get("admin", "/api/v1/assessment?period=2026-13").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["field"], "period");
    let (s, v) = app
        .get("admin", "/api/v1/assessment?period=2026-11&by=mood")
        .await;
    assert_eq!(
        (s, v["field"].clone()),
        (StatusCode::BAD_REQUEST, json!("by"))
    );
    let (s, _) = app
        .get("handler", "/api/v1/assessment?period=2026-11")
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app
        .get("operator", "/api/v1/assessment?period=2026-11")
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn assessment_endpoint_matches_hand_counts() {
    on_every_backend!(scenario);
}
