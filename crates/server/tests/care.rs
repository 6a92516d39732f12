//! Elder care through the API on every backend: a 12345 request turned into a service order,
//! matched, scheduled, visited (EVV), rated by the family and settled; every refusal a 4xx
//! naming the field with nothing changed; meals and their subsidies reconciled to the fen; the
//! late-visit timers firing once each across a restart; the supply–demand view.

mod common;

use common::*;
use jiesu_domain::care::order::ServiceOrder;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// An ID number with a valid GB 11643 check character for `body` (17 digits).
fn id_number(body17: &str) -> String {
    jiesu_domain::care::person::with_check_character(body17)
}

fn elder(id: &str, birth: &str, basic: bool) -> Value {
    json!({
        "name": "李秀英", "id_number": id, "phone": "13900001111", "birth_date": birth,
        "street": STREET, "community": COMMUNITY, "address": "鼓楼西大街12号院3号楼2单元301",
        "living_alone": true, "basic_service_object": basic,
        "family": [{"name": "李明", "relation": "儿子", "phone": "13700002222"}],
        "care_manager": "care-manager", "medical_notes": "高血压，青霉素过敏",
        "consent": {"date": "2026-10-01", "scope": ["基本信息", "健康信息", "服务记录"]},
    })
}

fn provider(code: &str, community: &str) -> Value {
    json!({
        "code": code, "name": format!("{code}居家养老服务中心"), "street": STREET, "community": community,
        "phone": "01066001234", "active": true,
        "services": [{"service": "bath", "price_fen": 8000, "copay_fen": 2000},
                     {"service": "clean", "price_fen": 5000, "copay_fen": 1000}],
        "coverage": [community],
        "slots": (1..=7).map(|d| json!({"weekday": d, "start_min": 480, "end_min": 1080, "capacity": 2})).collect::<Vec<_>>(),
    })
}

async fn put(app: &App, user: &str, path: &str, body: Value) -> (StatusCode, Value) {
    app.call("PUT", Some(user), path, Some(body)).await
}

/// Expects a 4xx with `code` naming `field` (a prefix is enough for nested fields).
fn refused(r: &(StatusCode, Value), status: StatusCode, code: &str, field: &str) {
    assert_eq!(r.0, status, "{}", r.1);
    assert_eq!(r.1["code"], code, "{}", r.1);
    assert!(
        r.1["field"].as_str().is_some_and(|f| f.starts_with(field)),
        "field {field}: {}",
        r.1
    );
}

async fn order_events(app: &App, id: i64) -> Vec<String> {
    app.store
        .case_events::<ServiceOrder>(id)
        .await
        .expect("events")
        .iter()
        .map(|e| <ServiceOrder as jiesu_domain::CaseKind>::event_name(&e.payload).to_string())
        .collect()
}

async fn scenario(app: &App) {
    let b = app.backend();
    // -- the network --
    let r = put(
        app,
        "care-admin",
        "/api/v1/care/providers/P001",
        provider("P001", COMMUNITY),
    )
    .await;
    assert_eq!(r.0, StatusCode::OK, "[{b}] {}", r.1);
    let other_community = "110102012002";
    let r = put(
        app,
        "care-admin",
        "/api/v1/care/providers/P002",
        provider("P002", other_community),
    )
    .await;
    assert_eq!(r.0, StatusCode::OK, "[{b}] {}", r.1);
    // Bad prices and slots, each naming its field; nothing saved.
    let mut bad = provider("P003", COMMUNITY);
    bad["services"][0]["price_fen"] = json!(-100);
    refused(
        &put(app, "care-admin", "/api/v1/care/providers/P003", bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "negative_amount",
        "services[0].price_fen",
    );
    let mut bad = provider("P003", COMMUNITY);
    bad["services"][0]["price_fen"] = json!(80.5);
    let r = put(app, "care-admin", "/api/v1/care/providers/P003", bad).await;
    assert_eq!(r.0, StatusCode::UNPROCESSABLE_ENTITY, "[{b}] {}", r.1);
    assert!(
        r.1["message"]
            .as_str()
            .unwrap_or_default()
            .contains("price_fen"),
        "{}",
        r.1
    );
    let mut bad = provider("P003", COMMUNITY);
    bad["slots"] = json!([{"weekday": 1, "start_min": 480, "end_min": 720, "capacity": 2},
                          {"weekday": 1, "start_min": 700, "end_min": 900, "capacity": 2}]);
    refused(
        &put(app, "care-admin", "/api/v1/care/providers/P003", bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "overlapping_slots",
        "slots[1]",
    );
    let (_, list) = app.get("care-admin", "/api/v1/care/providers").await;
    assert_eq!(list.as_array().map(Vec::len), Some(2), "{list}");
    // A provider may not edit another.
    let r = put(
        app,
        "provider",
        "/api/v1/care/providers/P002",
        provider("P002", other_community),
    )
    .await;
    assert_eq!(r.0, StatusCode::NOT_FOUND, "{}", r.1);
    let (s, carer) = app
        .post(
            "provider",
            "/api/v1/care/providers/P001/carers",
            json!({"name": "张护理", "skills": ["bath", "clean"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{carer}");
    let carer = carer["id"].as_i64().expect("carer id");

    // -- the registry --
    let good = id_number("11010219460520123");
    let mut wrong = good.clone();
    let last = if wrong.ends_with('0') { '1' } else { '0' };
    wrong.pop();
    wrong.push(last);
    refused(
        &app.post(
            "care-manager",
            "/api/v1/care/elders",
            elder(&wrong, "1946-05-20", true),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "bad_id_check",
        "id_number",
    );
    refused(
        &app.post(
            "care-manager",
            "/api/v1/care/elders",
            elder(&id_number("11010220300520123"), "2030-05-20", true),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "birth_date_in_future",
        "birth_date",
    );
    let (s, v) = app
        .post(
            "care-manager",
            "/api/v1/care/elders",
            elder(&good, "1946-05-20", true),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "[{b}] {v}");
    let elder_id = v["id"].as_i64().expect("elder id");
    let r = app
        .post(
            "care-manager",
            "/api/v1/care/elders",
            elder(&good, "1946-05-20", true),
        )
        .await;
    refused(&r, StatusCode::CONFLICT, "duplicate", "id_number");
    let (s, v) = app
        .post(
            "care-manager",
            "/api/v1/care/elders",
            elder(&id_number("11010219500101456"), "1950-01-01", false),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let ineligible = v["id"].as_i64().expect("id");

    // The care manager sees the identity (audited); the operator a masked record.
    let (_, v) = app
        .get("care-manager", &format!("/api/v1/care/elders/{elder_id}"))
        .await;
    assert_eq!(
        (v["name"].as_str(), v["masked"].as_bool()),
        (Some("李秀英"), Some(false)),
        "{v}"
    );
    let (_, v) = app
        .get("operator", &format!("/api/v1/care/elders/{elder_id}"))
        .await;
    assert_eq!(v["masked"], true, "{v}");
    assert_ne!(v["id_number"], json!(good));
    assert!(v["medical_notes"].is_null());
    let (_, audit) = app
        .get("admin", &format!("/api/v1/audit?target=elder:{elder_id}"))
        .await;
    let views = audit.as_array().map_or(0, |a| {
        a.iter().filter(|e| e["action"] == "view_elder").count()
    });
    assert_eq!(views, 1, "one unmasked view, one audit entry: {audit}");
    let (_, found) = app
        .get("operator", &format!("/api/v1/care/elders/find?q={good}"))
        .await;
    assert_eq!(found[0]["id"], elder_id, "{found}");

    // An assessment: the grade derived; an out-of-range item named.
    let mut scores = serde_json::Map::new();
    for (code, _, _, max) in jiesu_domain::care::ability::ITEMS {
        scores.insert(code.to_string(), json!(max.saturating_sub(1)));
    }
    let a = json!({"date": "2026-10-20", "assessor": "评估员王", "scores": scores});
    let (s, v) = app
        .post(
            "care-manager",
            &format!("/api/v1/care/elders/{elder_id}/assessments"),
            a.clone(),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(
        (v["total"].as_i64(), v["grade"].as_str()),
        (Some(64), Some("moderate")),
        "{v}"
    );
    let mut bad = a.clone();
    bad["scores"]["B2.4"] = json!(4);
    refused(
        &app.post(
            "care-manager",
            &format!("/api/v1/care/elders/{elder_id}/assessments"),
            bad,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "score_out_of_range",
        "scores.B2.4",
    );

    // -- a 12345 request becomes an order --
    let request = app
        .intake(
            json!({"request_type": "help_request", "category": "elderly.home-care",
            "text": "我母亲八十岁了，一个人住，洗澡不方便，希望社区能安排人上门助浴。"}),
        )
        .await;
    let (s, order) = app.post("operator", "/api/v1/care/orders", json!({"request_id": request, "elder_id": elder_id, "service": "bath", "note": "每周一次"})).await;
    assert_eq!(s, StatusCode::CREATED, "[{b}] {order}");
    let id = order["id"].as_i64().expect("order id");
    let code = order["code"].as_str().expect("code").to_string();
    assert_eq!(order["status"], "requested");
    assert_eq!(order["origin"]["request_id"], request);

    let (_, m) = app
        .get("care-manager", &format!("/api/v1/care/orders/{id}/matches"))
        .await;
    let m = m.as_array().cloned().unwrap_or_default();
    assert_eq!(m.len(), 1, "only P001 covers the community: {m:?}");
    assert_eq!(m[0]["provider"], "P001");
    assert!(
        m[0]["reasons"].as_array().is_some_and(|r| r.len() >= 3),
        "{m:?}"
    );

    let before = order_events(app, id).await.len();
    refused(
        &app.post(
            "care-manager",
            &format!("/api/v1/care/orders/{id}/assign"),
            json!({"provider": "P002"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "provider_not_covering",
        "provider",
    );
    assert_eq!(
        order_events(app, id).await.len(),
        before,
        "a refusal changes nothing"
    );
    let (s, v) = app
        .post(
            "care-manager",
            &format!("/api/v1/care/orders/{id}/assign"),
            json!({"provider": "P001"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["status"].as_str(), v["price_fen"].as_i64()),
        (Some("assigned"), Some(8000))
    );

    // Another provider cannot see or act on it.
    let (s, _) = app
        .get("provider-other", &format!("/api/v1/care/orders/{id}"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let slot = json!({"start": "2026-11-03T10:00:00+08:00", "end": "2026-11-03T11:00:00+08:00"});
    let (s, _) = app
        .post(
            "provider-other",
            &format!("/api/v1/care/orders/{id}/schedule"),
            json!({"carer_id": carer, "slot": slot}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // A slot outside the weekly slots is refused naming it.
    let night = json!({"start": "2026-11-03T21:00:00+08:00", "end": "2026-11-03T22:00:00+08:00"});
    refused(
        &app.post(
            "provider",
            &format!("/api/v1/care/orders/{id}/schedule"),
            json!({"carer_id": carer, "slot": night}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "outside_slots",
        "slot",
    );
    let (s, v) = app
        .post(
            "provider",
            &format!("/api/v1/care/orders/{id}/schedule"),
            json!({"carer_id": carer, "slot": slot}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // The provider sees the elder's address to visit (audited).
    let (_, d) = app
        .get("provider", &format!("/api/v1/care/orders/{id}"))
        .await;
    assert_eq!(d["elder"]["masked"], false, "{d}");

    // -- the visit (EVV) --
    app.advance_to("2026-11-03T10:05:00+08:00");
    let (s, v) = app
        .post(
            "provider",
            &format!("/api/v1/care/orders/{id}/start"),
            json!({"carer_id": carer, "place": "39.9405,116.3890"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    app.advance_to("2026-11-03T10:55:00+08:00");
    let before = order_events(app, id).await.len();
    refused(
        &app.post(
            "provider",
            &format!("/api/v1/care/orders/{id}/finish"),
            json!({"at": "2026-11-03T09:00:00+08:00"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "time_too_early",
        "finished_at",
    );
    assert_eq!(order_events(app, id).await.len(), before);
    let (s, v) = app
        .post(
            "provider",
            &format!("/api/v1/care/orders/{id}/finish"),
            json!({"notes": "助浴完成，老人状态良好"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let visit = &v["visit"];
    for k in ["carer_id", "started_at", "place", "finished_at"] {
        assert!(!visit[k].is_null(), "EVV {k}: {v}");
    }

    // -- the family rate it by the order's number --
    let (s, p) = app
        .call(
            "GET",
            None,
            &format!("/api/v1/care/family/orders/{code}"),
            None,
        )
        .await;
    assert_eq!(
        (s, p["can_rate"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{p}"
    );
    assert!(
        p.get("elder_id").is_none() && !p.to_string().contains("李秀英"),
        "no identities: {p}"
    );
    let (s, p) = app
        .call(
            "POST",
            None,
            &format!("/api/v1/care/family/orders/{code}/rate"),
            Some(json!({"score": 5, "comment": "护理员很耐心"})),
        )
        .await;
    assert_eq!(
        (s, p["status_code"].as_str()),
        (StatusCode::OK, Some("rated")),
        "{p}"
    );
    let r = app
        .call(
            "POST",
            None,
            &format!("/api/v1/care/family/orders/{code}/rate"),
            Some(json!({"score": 4})),
        )
        .await;
    assert_eq!(
        (r.0, r.1["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_rated")),
        "{}",
        r.1
    );

    // -- meals --
    let mp = json!({"code": "MP001", "name": "鼓楼父母食堂", "street": STREET, "community": COMMUNITY,
        "address": "鼓楼西大街8号", "capacity": 100, "hours": "11:00-13:00 17:00-18:30", "active": true,
        "communities": [COMMUNITY]});
    let r = put(app, "care-admin", "/api/v1/care/meal-points/MP001", mp).await;
    assert_eq!(r.0, StatusCode::OK, "{}", r.1);
    let meal = |elder: i64, date: &str, kind: &str, bill: Value| json!({"elder_id": elder, "date": date, "meal": kind, "bill_fen": bill});
    let url = "/api/v1/care/meal-points/MP001/meals";
    let (s, v) = app
        .post(
            "meal-staff",
            url,
            meal(elder_id, "2026-11-02", "lunch", json!(1500)),
        )
        .await;
    assert_eq!(
        (s, v["elder_subsidy_fen"].as_i64()),
        (StatusCode::CREATED, Some(500)),
        "{v}"
    );
    let (_, v) = app
        .post(
            "meal-staff",
            url,
            meal(elder_id, "2026-11-02", "dinner", json!(1500)),
        )
        .await;
    assert_eq!(v["elder_subsidy_fen"], 0, "one subsidy a day: {v}");
    refused(
        &app.post(
            "meal-staff",
            url,
            meal(elder_id, "2026-11-02", "lunch", json!(1500)),
        )
        .await,
        StatusCode::CONFLICT,
        "duplicate_meal",
        "meal",
    );
    let (_, v) = app
        .post(
            "meal-staff",
            url,
            meal(elder_id, "2026-11-01", "lunch", json!(480)),
        )
        .await;
    assert_eq!(
        (
            v["elder_subsidy_fen"].as_i64(),
            v["elder_paid_fen"].as_i64()
        ),
        (Some(0), Some(480)),
        "below 5 元: {v}"
    );
    let (_, v) = app
        .post(
            "meal-staff",
            url,
            meal(ineligible, "2026-11-02", "lunch", json!(1500)),
        )
        .await;
    assert_eq!(v["elder_subsidy_fen"], 0, "ineligible: {v}");
    refused(
        &app.post(
            "meal-staff",
            url,
            meal(elder_id, "2026-11-01", "dinner", json!(-5)),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "negative_amount",
        "bill_fen",
    );
    let r = app
        .post(
            "meal-staff",
            url,
            meal(elder_id, "2026-11-01", "dinner", json!(12.5)),
        )
        .await;
    assert_eq!(
        r.0,
        StatusCode::UNPROCESSABLE_ENTITY,
        "fractional fen: {}",
        r.1
    );
    let (s, _) = app
        .post(
            "meal-staff",
            "/api/v1/care/meal-points/MP002/meals",
            meal(elder_id, "2026-11-01", "dinner", json!(1000)),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "staff of one point only");

    // -- settlement: totals reconcile to the logs to the fen --
    let (s, rep) = app
        .get("care-admin", "/api/v1/care/settlement?month=2026-11")
        .await;
    assert_eq!(s, StatusCode::OK, "{rep}");
    let claim_of = |rep: &Value, party: &str| {
        rep["claims"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["party"] == party).cloned())
            .unwrap_or(Value::Null)
    };
    assert_eq!(claim_of(&rep, "P001")["total_fen"], 8000 - 2000, "{rep}");
    assert_eq!(claim_of(&rep, "P002")["total_fen"], 0);
    // 500 (one subsidised lunch) + 300 × 3 diner-days (elder on the 1st and 2nd, the other on the 2nd).
    assert_eq!(claim_of(&rep, "MP001")["total_fen"], 500 + 900, "{rep}");
    assert_eq!(rep["total_fen"], 6000 + 1400);
    let (s, claim) = app
        .post(
            "care-admin",
            "/api/v1/care/claims",
            json!({"party_kind": "provider", "party": "P001", "month": "2026-11"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{claim}");
    let cid = claim["id"].as_i64().expect("claim id");
    refused(
        &app.post(
            "care-admin",
            &format!("/api/v1/care/claims/{cid}/approve"),
            json!({"total_fen": 1}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "claim_changed",
        "total_fen",
    );
    let (s, v) = app
        .post(
            "care-admin",
            &format!("/api/v1/care/claims/{cid}/approve"),
            json!({"total_fen": 6000}),
        )
        .await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("approved")),
        "{v}"
    );
    let (_, d) = app
        .get("care-manager", &format!("/api/v1/care/orders/{id}"))
        .await;
    assert_eq!(d["order"]["status"], "settled", "{d}");
    let r = app
        .post(
            "care-admin",
            "/api/v1/care/claims",
            json!({"party_kind": "provider", "party": "P001", "month": "2026-11"}),
        )
        .await;
    assert_eq!(
        (r.0, r.1["code"].as_str()),
        (StatusCode::CONFLICT, Some("claim_locked")),
        "{}",
        r.1
    );
    let (s, v) = app
        .get("provider", "/api/v1/care/settlement?month=2026-11")
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, v) = app
        .get("provider", &format!("/api/v1/care/claims/{cid}"))
        .await;
    assert_eq!(
        (s, v["total_fen"].as_i64()),
        (StatusCode::OK, Some(6000)),
        "its own claim: {v}"
    );
    let resp = app
        .client
        .get(format!(
            "{}/api/v1/care/settlement.xlsx?month=2026-11",
            app.base
        ))
        .bearer_auth(app.tokens["care-admin"].clone())
        .send()
        .await
        .expect("xlsx");
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = resp.bytes().await.expect("bytes");
    assert!(bytes.starts_with(b"PK"), "an XLSX (zip) workbook");

    // -- a handler answering a request: its reply records the order --
    let req2 = app
        .intake(
            json!({"request_type": "help_request", "category": "elderly.home-care",
            "text": "独居老人家里很久没打扫了，希望有人上门助洁，老人行动不便。"}),
        )
        .await;
    app.act_ok("dispatcher", req2, "dispatch", json!({"unit": STREET}))
        .await;
    app.act_ok("handler", req2, "accept", json!({})).await;
    app.act_ok(
        "handler",
        req2,
        "contact",
        json!({"method": "phone", "reached": true, "note": "已联系家属"}),
    )
    .await;
    let (s, o3) = app
        .post(
            "handler",
            "/api/v1/care/orders",
            json!({"request_id": req2, "elder_id": elder_id, "service": "clean", "reply": true}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{o3}");
    let st = app.state(req2).await;
    assert_eq!(st["status"], "replied", "{st}");
    let (_, ev) = app
        .get("dispatcher", &format!("/api/v1/requests/{req2}/events"))
        .await;
    assert!(
        ev.to_string().contains(o3["code"].as_str().expect("code")),
        "the reply names the order: {ev}"
    );
    let (s, _) = app
        .post(
            "care-manager",
            &format!("/api/v1/care/orders/{}/cancel", o3["id"]),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);

    // A care manager turns their street's elder-care requests into orders, and no others.
    let (s, v) = app
        .post(
            "care-manager",
            "/api/v1/care/orders",
            json!({"request_id": request, "elder_id": elder_id, "service": "haircut"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    app.post(
        "care-manager",
        &format!("/api/v1/care/orders/{}/cancel", v["id"]),
        json!({}),
    )
    .await;
    let other = app.intake(json!({})).await;
    let (s, v) = app
        .post(
            "care-manager",
            "/api/v1/care/orders",
            json!({"request_id": other, "elder_id": elder_id, "service": "bath"}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "not an elder-care request: {v}");
    // The family's phone finds the elder too (a caller is often a son or daughter).
    let (_, found) = app
        .get("operator", "/api/v1/care/elders/find?q=13700002222")
        .await;
    assert_eq!(found[0]["id"], elder_id, "{found}");

    // -- the late-visit timers fire once each, across a restart --
    let (_, o2) = app
        .post(
            "operator",
            "/api/v1/care/orders",
            json!({"request_id": request, "elder_id": ineligible, "service": "clean"}),
        )
        .await;
    let id2 = o2["id"].as_i64().expect("id");
    let (s, v) = app
        .post(
            "care-manager",
            &format!("/api/v1/care/orders/{id2}/assign"),
            json!({"provider": "P001"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let slot = json!({"start": "2026-11-04T09:00:00+08:00", "end": "2026-11-04T09:30:00+08:00"});
    let (s, v) = app
        .post(
            "provider",
            &format!("/api/v1/care/orders/{id2}/schedule"),
            json!({"carer_id": carer, "slot": slot}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let at = |t: &str| t.parse::<jiff::Timestamp>().expect("time");
    app.store
        .sweep_case_timers::<ServiceOrder>(at("2026-11-04T09:20:00+08:00"))
        .await
        .expect("sweep");
    // A restarted server: a new connection to the same database.
    let again = jiesu_store::Store::connect_with(&app.db_url(), jiesu_store::testing::test_pii())
        .await
        .expect("reconnect");
    again
        .sweep_case_timers::<ServiceOrder>(at("2026-11-04T09:20:00+08:00"))
        .await
        .expect("sweep");
    let names = order_events(app, id2).await;
    assert_eq!(
        names
            .iter()
            .filter(|n| *n == "care_order.late_alert")
            .count(),
        1,
        "{names:?}"
    );
    again
        .sweep_case_timers::<ServiceOrder>(at("2026-11-04T10:10:00+08:00"))
        .await
        .expect("sweep");
    app.store
        .sweep_case_timers::<ServiceOrder>(at("2026-11-04T10:10:00+08:00"))
        .await
        .expect("sweep");
    let names = order_events(app, id2).await;
    assert_eq!(
        names
            .iter()
            .filter(|n| *n == "care_order.late_alert")
            .count(),
        3,
        "{names:?}"
    );
    assert_eq!(
        names.iter().filter(|n| *n == "care_order.missed").count(),
        1,
        "{names:?}"
    );
    let (_, d) = app
        .get("care-manager", &format!("/api/v1/care/orders/{id2}"))
        .await;
    assert_eq!(d["order"]["status"], "missed", "{d}");
    again.close().await;

    // -- the supply–demand view --
    let (s, rows) = app.get("care-admin", "/api/v1/care/supply").await;
    assert_eq!(s, StatusCode::OK, "{rows}");
    let row = rows
        .as_array()
        .and_then(|r| r.iter().find(|r| r["community"] == COMMUNITY).cloned())
        .expect("row");
    assert_eq!(
        (
            row["elders"].as_i64(),
            row["providers"].as_i64(),
            row["meal_points"].as_i64()
        ),
        (Some(2), Some(1), Some(1)),
        "{row}"
    );
    assert!(row["requests_total"].as_i64() >= Some(1), "{row}");
    assert_eq!(row["orders_missed"], 1, "{row}");
    let (s, _) = app.get("provider", "/api/v1/care/supply").await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // -- the month's figures: district first, then the street --
    let (s, k) = app
        .get("care-admin", "/api/v1/care/kpis?month=2026-11")
        .await;
    assert_eq!(s, StatusCode::OK, "{k}");
    let district = &k[0];
    assert_eq!(district["street_name"], "全区", "{k}");
    assert_eq!(
        (
            district["orders"].as_i64(),
            district["visits_verified"].as_i64(),
            district["on_time"].as_i64()
        ),
        (Some(2), Some(1), Some(1)),
        "{k}"
    );
    assert_eq!(
        (
            district["missed"].as_i64(),
            district["late_alerts"].as_i64()
        ),
        (Some(1), Some(3)),
        "{k}"
    );
    assert_eq!(
        (district["rating_avg"].as_f64(), district["meals"].as_i64()),
        (Some(5.0), Some(4)),
        "{k}"
    );
}

#[tokio::test]
async fn elder_care_end_to_end() {
    on_every_backend!(scenario);
}
