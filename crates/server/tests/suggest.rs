//! Routing suggestions at intake, through HTTP, on every backend: rules before any model,
//! emergencies, duplicate candidates, the suggestion stored beside the operator's choice, models
//! trained on closed requests taking over, and bad input.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn suggest(app: &App, user: &str, body: Value) -> (StatusCode, Value) {
    app.post(user, "/api/v1/requests/suggest", body).await
}

async fn suggest_ok(app: &App, body: Value) -> Value {
    let (s, v) = suggest(app, "operator", body).await;
    assert_eq!(s, StatusCode::OK, "[{}] suggest: {v}", app.backend());
    v
}

async fn rules_before_any_model(app: &App) {
    let v = suggest_ok(
        app,
        json!({"text": "家里暖气不热，室温只有十五度，老人受不了。", "address": "鼓楼西大街12号院3号楼"}),
    )
    .await;
    let category = v["category"]["value"].as_str().unwrap_or_default();
    assert!(category.starts_with("heating."), "{v}");
    assert_eq!(v["category"]["source"], "rules");
    assert!(
        v["category"]["label"]
            .as_str()
            .is_some_and(|l| l.contains("供暖"))
    );
    assert_eq!(v["street"]["code"], STREET, "{v}");
    assert_eq!(v["street"]["source"], "address");
    assert!(v["street"]["confidence"].as_f64().is_some_and(|c| c >= 0.5));
    assert!(!v["address_evidence"].as_array().is_none_or(Vec::is_empty));
    // heating.no-heat is routed to the heating company.
    assert_eq!(v["unit"]["value"], "heating", "{v}");
    assert_eq!(v["unit"]["source"], "rules");
    assert_eq!(v["request_type"]["value"], "complaint");
    assert_eq!(v["request_type"]["source"], "rules");
    // Cold for an elderly person is urgent (hours), not a transfer to 119/120.
    assert_ne!(v["emergency"]["level"], "immediate", "{v}");
    assert_eq!(v["duplicates"], json!([]));

    // Type cue words; a street-routed category goes to the resolved street's office.
    let v = suggest_ok(
        app,
        json!({"text": "请问楼道灯坏了找谁修？", "address": "大栅栏西街8号"}),
    )
    .await;
    assert_eq!(v["request_type"]["value"], "consultation", "{v}");
    assert_eq!(v["category"]["value"], "property.facilities", "{v}");
    assert_eq!(v["street"]["code"], "110102013", "{v}");
    assert_eq!(v["unit"]["value"], "110102013", "{v}");

    // Nothing recognisable: unknown, and a human is asked.
    let v = suggest_ok(app, json!({"text": "你好", "address": "幸福小区3号楼"})).await;
    assert_eq!(v["category"]["value"], Value::Null, "{v}");
    assert_eq!(v["street"], Value::Null, "{v}");
    assert_eq!(v["needs_review"], true);
    // The operator's own street wins over the address.
    let v = suggest_ok(
        app,
        json!({"text": "暖气不热", "address": "鼓楼西大街1号", "street": "110102020"}),
    )
    .await;
    assert_eq!(v["street"]["code"], "110102020");
    assert_eq!(v["street"]["source"], "operator");
}

#[tokio::test]
async fn heating_text_routes_by_rules_and_resolves_the_address() {
    on_every_backend!(rules_before_any_model);
}

async fn emergencies(app: &App) {
    let v = suggest_ok(
        app,
        json!({"text": "楼道里有很大的煤气味，可能是燃气泄漏，请赶紧派人来！", "address": "柳荫街5号"}),
    )
    .await;
    assert_eq!(v["emergency"]["level"], "immediate", "{v}");
    let evidence = v["emergency"]["evidence"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!evidence.is_empty(), "{v}");
    assert_eq!(v["needs_review"], true);
    // Intake returns the flag and never sets `urgent` behind the operator's back.
    let (s, v) = app
        .post(
            "operator",
            "/api/v1/requests",
            json!({"request_type": "help_request", "text": "家里燃气泄漏了，闻到很重的煤气味", "address": "柳荫街5号"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["suggestions"]["emergency"]["level"], "immediate", "{v}");
    assert_eq!(v["intake"]["urgent"], false, "{v}");
}

#[tokio::test]
async fn gas_leak_is_flagged_with_evidence() {
    on_every_backend!(emergencies);
}

const FIRST: &str = "小区物业不清理楼道杂物，堆了两个月了，存在消防隐患，希望尽快处理。";
const AGAIN: &str = "小区物业不清理楼道杂物，已经堆了两个多月了，存在消防隐患，希望尽快处理！";

async fn duplicates_and_storage(app: &App) {
    let first = app.intake(json!({"text": FIRST})).await;
    let (_, original) = app
        .get("dispatcher", &format!("/api/v1/requests/{first}"))
        .await;
    // Dry run at the same street: the earlier request is a merge candidate.
    let v = suggest_ok(
        app,
        json!({"text": AGAIN, "street": STREET, "community": COMMUNITY}),
    )
    .await;
    let dups = v["duplicates"].as_array().cloned().unwrap_or_default();
    assert_eq!(dups.len(), 1, "{v}");
    assert_eq!(dups[0]["id"], first);
    assert_eq!(dups[0]["tracking_code"], original["tracking_code"]);
    assert_eq!(dups[0]["status"], "received");
    assert!(
        dups[0]["similarity"].as_f64().is_some_and(|s| s >= 0.8),
        "{v}"
    );
    assert_eq!(v["needs_review"], true);
    // The same words in another street are another matter.
    let v = suggest_ok(app, json!({"text": AGAIN, "street": OTHER_STREET_OFFICE})).await;
    assert_eq!(v["duplicates"], json!([]), "{v}");
    // An unrelated text at the same place is not a candidate.
    let v = suggest_ok(
        app,
        json!({"text": "楼上邻居每天深夜跺脚，噪音很大。", "street": STREET}),
    )
    .await;
    assert_eq!(v["duplicates"], json!([]), "{v}");

    // Intake returns the suggestion and stores it beside the operator's choice.
    let (s, v) = app
        .post(
            "operator",
            "/api/v1/requests",
            json!({
                "request_type": "complaint", "category": STREET_CATEGORY, "street": STREET,
                "community": COMMUNITY, "address": "鼓楼西大街12号院3号楼", "text": AGAIN,
                "dispatch_to": STREET,
            }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let second = v["id"].as_i64().expect("id");
    assert_eq!(v["suggestions"]["duplicates"][0]["id"], first, "{v}");
    assert!(v["suggestions"]["category"]["value"].is_string(), "{v}");
    let stored = app.store.suggestion(second).await.expect("read suggestion");
    let Some((suggestion, chosen)) = stored else {
        panic!("[{}] no suggestion stored", app.backend())
    };
    let suggestion: Value = serde_json::from_str(&suggestion).expect("suggestion json");
    let chosen: Value = serde_json::from_str(&chosen).expect("chosen json");
    assert_eq!(suggestion["duplicates"][0]["id"], first);
    assert_eq!(suggestion["category"], v["suggestions"]["category"]);
    assert_eq!(chosen["category"], STREET_CATEGORY);
    assert_eq!(chosen["request_type"], "complaint");
    assert_eq!(chosen["community"], COMMUNITY);
    assert_eq!(chosen["unit"], STREET);
    // The new request is a candidate for the next one.
    let v = suggest_ok(app, json!({"text": FIRST, "street": STREET})).await;
    let ids: Vec<i64> = v["duplicates"]
        .as_array()
        .map(|a| a.iter().filter_map(|d| d["id"].as_i64()).collect())
        .unwrap_or_default();
    assert!(ids.contains(&first) && ids.contains(&second), "{v}");
    // An idempotent replay stores nothing new and does not list itself.
    let body = json!({"request_type": "complaint", "text": "路灯不亮好几天了", "street": STREET, "idempotency_key": "k-1"});
    let (_, a) = app.post("operator", "/api/v1/requests", body.clone()).await;
    let (s, b) = app.post("operator", "/api/v1/requests", body).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["replayed"], true);
    assert!(
        b["suggestions"]["duplicates"]
            .as_array()
            .is_some_and(|d| d.iter().all(|x| x["id"] != a["id"])),
        "{b}"
    );
}

#[tokio::test]
async fn near_duplicates_are_listed_and_suggestions_stored_beside_the_choice() {
    on_every_backend!(duplicates_and_storage);
}

const FEE_TEXTS: &[&str] = &[
    "请问供暖费在哪里缴纳？",
    "想咨询一下今年的取暖费什么时候交",
    "请问暖气费可以线上缴纳吗",
    "咨询供暖费发票怎么开",
    "请问采暖费的收费标准是多少",
    "家里没人住，供暖可以报停吗，请问怎么办理",
];
const NOISE_TEXTS: &[&str] = &[
    "楼上邻居每天深夜跺脚，噪音很大",
    "楼下广场舞音乐声太大，吵得没法休息",
    "隔壁邻居家的狗叫了一整夜",
    "楼上深夜大声喧哗，影响休息",
    "邻居噪音扰民，晚上十二点还在吵闹",
    "小区里有人深夜唱歌，太吵了",
];

async fn models_take_over(app: &App) {
    // Close requests at intake: 咨询 answered on the spot, complaints handed elsewhere.
    for round in 0..3 {
        for t in FEE_TEXTS {
            let (s, v) = app
                .post(
                    "operator",
                    "/api/v1/requests",
                    json!({"request_type": "consultation", "category": "heating.fee",
                           "text": format!("{t}（{round}）"), "answer": "可在热力集团营业厅或线上缴纳。"}),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{v}");
        }
        for t in NOISE_TEXTS {
            let (s, v) = app
                .post(
                    "operator",
                    "/api/v1/requests",
                    json!({"request_type": "complaint", "category": "noise.neighborhood",
                           "text": format!("{t}（{round}）"), "special_handling": "outside_duty"}),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{v}");
        }
    }
    let report = jiesu_server::api::suggest::train_from_store(&app.store, &app.dir, 50_000)
        .await
        .expect("training");
    assert_eq!(report.closed_requests, 36);
    assert!(!report.subsampled);
    let by_kind = |k: &str| report.models.iter().find(|m| m.kind == k).cloned();
    assert_eq!(by_kind("category").and_then(|m| m.version), Some(1));
    assert_eq!(by_kind("request_type").and_then(|m| m.version), Some(1));
    // No request here was dispatched: no unit labels, rules stay in force for the unit.
    assert!(by_kind("unit").is_some_and(|m| m.version.is_none() && m.skipped.is_some()));

    // Only an administrator reloads; afterwards the models answer.
    let (s, _) = app
        .post("operator", "/api/v1/models/reload", json!({}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = app.post("admin", "/api/v1/models/reload", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["models"]["category"], 1, "{v}");
    assert_eq!(v["models"]["unit"], Value::Null, "{v}");
    let v = suggest_ok(app, json!({"text": "楼上邻居深夜噪音太大，吵得睡不着"})).await;
    assert_eq!(v["category"]["source"], "model", "{v}");
    assert_eq!(v["category"]["model_version"], 1, "{v}");
    assert_eq!(v["category"]["value"], "noise.neighborhood", "{v}");
    assert_eq!(v["request_type"]["source"], "model", "{v}");
    assert_eq!(v["unit"]["source"], "rules", "{v}");
    let v = suggest_ok(app, json!({"text": "请问今年供暖费什么时候缴纳"})).await;
    assert_eq!(v["category"]["value"], "heating.fee", "{v}");
    assert_eq!(v["request_type"]["value"], "consultation", "{v}");
    // A second training stores version 2, which a reload picks up.
    let report = jiesu_server::api::suggest::train_from_store(&app.store, &app.dir, 30)
        .await
        .expect("training");
    assert!(report.subsampled);
    let (_, v) = app.post("admin", "/api/v1/models/reload", json!({})).await;
    assert_eq!(v["models"]["category"], 2, "{v}");
}

#[tokio::test]
async fn after_training_suggestions_come_from_the_model() {
    on_every_backend!(models_take_over);
}

async fn bad_input(app: &App) {
    let expect = |s: StatusCode, v: &Value, status: StatusCode, field: Option<&str>| {
        assert_eq!(s, status, "[{}] {v}", app.backend());
        if let Some(f) = field {
            assert_eq!(v["field"], f, "{v}");
        }
    };
    let (s, v) = suggest(app, "operator", json!({"text": ""})).await;
    expect(s, &v, StatusCode::UNPROCESSABLE_ENTITY, Some("text"));
    // Control and zero-width characters only: nothing left to read.
    let (s, v) = suggest(app, "operator", json!({"text": "\u{0}\u{7}\u{200B} \t"})).await;
    expect(s, &v, StatusCode::UNPROCESSABLE_ENTITY, Some("text"));
    // 100 KB: refused before parsing.
    let big = "暖".repeat(34_000);
    let (s, v) = suggest(app, "operator", json!({"text": big})).await;
    expect(s, &v, StatusCode::PAYLOAD_TOO_LARGE, None);
    let (s, v) = app
        .post(
            "operator",
            "/api/v1/requests",
            json!({"request_type": "complaint", "text": "暖".repeat(34_000)}),
        )
        .await;
    expect(s, &v, StatusCode::PAYLOAD_TOO_LARGE, None);
    // Under the byte limit but over the character limit.
    let (s, v) = suggest(app, "operator", json!({"text": "暖".repeat(12_000)})).await;
    expect(s, &v, StatusCode::UNPROCESSABLE_ENTITY, Some("text"));
    let (s, v) = suggest(app, "operator", json!({"text": "暖气", "street": "999"})).await;
    expect(s, &v, StatusCode::UNPROCESSABLE_ENTITY, Some("street"));
    let (s, v) = suggest(app, "operator", json!({"text": "暖气", "colour": "red"})).await;
    assert!(s.is_client_error(), "{v}");
    let (s, _) = suggest(app, "handler", json!({"text": "暖气不热"})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = app
        .call(
            "POST",
            None,
            "/api/v1/requests/suggest",
            Some(json!({"text": "暖气不热"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Emoji, mixed scripts and control characters inside real text: a sensible answer.
    let v = suggest_ok(
        app,
        json!({"text": "🔥🔥 暖气不热!!! heating broken 😡\u{7}\u{200B} 室温15°C", "address": "鼓楼西大街\u{0}12号 🏠"}),
    )
    .await;
    assert_eq!(v["category"]["value"], "heating.no-heat", "{v}");
    assert_eq!(v["street"]["code"], STREET, "{v}");
    let v = suggest_ok(app, json!({"text": "👍👍👍"})).await;
    assert_eq!(v["category"]["value"], Value::Null, "{v}");
    // A long but acceptable text is answered.
    let v = suggest_ok(app, json!({"text": "暖气不热，".repeat(1_900)})).await;
    assert_eq!(v["category"]["value"], "heating.no-heat", "{v}");
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_or_a_sensible_answer() {
    on_every_backend!(bad_input);
}

/// Intakes whose suggestion agreed, disagreed or is not yet known are tallied against where
/// the requests stand now.
async fn accuracy_in_production(app: &App) {
    // Heating text at a known address, recorded by the operator with the suggested category
    // and the street left to the address; then dispatched to the heating company.
    let heating = json!({
        "request_type": "complaint",
        "category": "heating.no-heat",
        "street": null,
        "community": null,
        "address": "鼓楼西大街12号院3号楼",
        "text": "家里暖气不热，室温只有十五度，老人受不了。",
    });
    let id = app.intake(heating.clone()).await;
    app.act_ok("dispatcher", id, "dispatch", json!({"unit": "heating"}))
        .await;
    // The same text filed under another category and never dispatched: the category
    // disagrees, the unit is not known yet.
    let mut other = heating.clone();
    other["category"] = json!(STREET_CATEGORY);
    other["text"] = json!("暖气片漏水，家里暖气不热，地板都泡了。");
    app.intake(other).await;

    let (s, v) = app
        .get("supervisor", "/api/v1/suggestions/accuracy?period=2026-11")
        .await;
    assert_eq!(s, StatusCode::OK, "[{}] {v}", app.backend());
    assert_eq!(v["period"], "2026-11");
    assert_eq!(v["requests"], 2, "{v}");
    assert_eq!(v["unreadable"], 0);
    let category = &v["category"];
    assert_eq!(category["evaluated"], 2, "{v}");
    assert_eq!(category["agreed"], 1, "{v}");
    assert_eq!(category["accuracy"], 0.5);
    assert_eq!(category["by_source"]["rules"]["suggested"], 2, "{v}");
    // Only the dispatched request tells whether the unit was right.
    assert_eq!(v["unit"]["evaluated"], 1, "{v}");
    assert_eq!(v["unit"]["agreed"], 1, "{v}");
    assert_eq!(v["request_type"]["agreed"], 2, "{v}");

    // Nothing from another month; a bad period is named; a handler may not look.
    let (_, v) = app
        .get("dispatcher", "/api/v1/suggestions/accuracy?period=2026-10")
        .await;
    assert_eq!(v["requests"], 0);
    assert_eq!(v["category"]["accuracy"], Value::Null);
    let (s, v) = app
        .get("supervisor", "/api/v1/suggestions/accuracy?period=November")
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["field"], "period", "{v}");
    let (s, _) = app
        .get("handler", "/api/v1/suggestions/accuracy?period=2026-11")
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn suggestion_accuracy_is_tracked_against_the_final_routing() {
    on_every_backend!(accuracy_in_production);
}
