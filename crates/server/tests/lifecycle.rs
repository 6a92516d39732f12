//! Every action of the request lifecycle and every kind of refusal, through HTTP, on every
//! backend.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::json;

async fn happy_path(app: &App) {
    let id = app.intake(json!({})).await;
    let v = app.state(id).await;
    assert_eq!(v["status"], "received");
    assert!(
        v["tracking_code"]
            .as_str()
            .is_some_and(|c| c.starts_with("XC261102"))
    );

    app.act_ok("dispatcher", id, "dispatch", json!({"unit": STREET}))
        .await;
    let v = app.state(id).await;
    assert_eq!(v["status"], "dispatched");
    assert_eq!(v["lead_unit"], STREET);
    assert_eq!(v["direct_dispatch"], true, "a street office is 直派");
    // ordinary class: response 1 working day, completion 7 working days (Mon 2 Nov → Wed 11 Nov).
    assert_eq!(v["response_due"], "2026-11-03T15:59:59Z");
    assert_eq!(v["completion_due"], "2026-11-11T15:59:59Z");

    app.act_ok("handler", id, "accept", json!({})).await;
    app.act_ok(
        "handler",
        id,
        "contact",
        json!({"method": "phone", "reached": true, "note": "约定周三上门"}),
    )
    .await;
    assert_eq!(app.state(id).await["status"], "in_progress");
    app.act_ok(
        "handler",
        id,
        "reply",
        json!({"text": "已协调物业清理楼道杂物。"}),
    )
    .await;
    assert_eq!(app.state(id).await["status"], "replied");
    app.act_ok(
        "callback",
        id,
        "callback",
        json!({"reached": true, "resolved": true, "satisfaction": "satisfied"}),
    )
    .await;
    let v = app.act_ok("callback", id, "close", json!({})).await;
    assert_eq!(v["status"], "closed");
    assert_eq!(v["close_outcome"], "resolved");

    let (s, ev) = app
        .get("dispatcher", &format!("/api/v1/requests/{id}/events"))
        .await;
    assert_eq!(s, StatusCode::OK);
    let kinds: Vec<&str> = ev
        .as_array()
        .expect("array")
        .iter()
        .map(|e| e["kind"]["type"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        kinds,
        [
            "received",
            "dispatched",
            "accepted",
            "contacted",
            "replied",
            "callback_recorded",
            "closed"
        ]
    );
    // Who and when on every event.
    for e in ev.as_array().expect("array") {
        assert!(e["actor"]["username"].is_string());
        assert!(e["at"].is_string());
        assert!(e["label"].is_string());
    }
}

#[tokio::test]
async fn happy_path_from_intake_to_close() {
    on_every_backend!(happy_path);
}

async fn refusals(app: &App) {
    let id = app.intake(json!({})).await;
    // Wrong state: accept before dispatch (handler cannot even see it yet → 404).
    app.act_refused(
        "handler",
        id,
        "accept",
        json!({}),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // Wrong role: a callback agent cannot dispatch.
    app.act_refused(
        "callback",
        id,
        "dispatch",
        json!({"unit": STREET}),
        StatusCode::FORBIDDEN,
        "forbidden_role",
    )
    .await;
    // Invalid field.
    app.act_refused(
        "dispatcher",
        id,
        "dispatch",
        json!({"unit": "no-such-unit"}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_unit",
    )
    .await;
    app.act_refused(
        "dispatcher",
        id,
        "close",
        json!({}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "required",
    )
    .await;
    app.act_ok("dispatcher", id, "dispatch", json!({"unit": STREET}))
        .await;
    // Other unit's request: invisible.
    app.act_refused(
        "handler-other",
        id,
        "accept",
        json!({}),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let (s, _) = app
        .get("handler-other", &format!("/api/v1/requests/{id}"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Wrong state: reply before accept.
    app.act_refused(
        "handler",
        id,
        "reply",
        json!({"text": "x"}),
        StatusCode::CONFLICT,
        "illegal_transition",
    )
    .await;
    app.act_ok("handler", id, "accept", json!({})).await;
    // Reply before contacting the caller (Art.15).
    app.act_refused(
        "handler",
        id,
        "reply",
        json!({"text": "已处理"}),
        StatusCode::CONFLICT,
        "contact_required",
    )
    .await;
    // Callback before the reply and before the deadline.
    app.act_refused(
        "callback",
        id,
        "callback",
        json!({"reached": true, "resolved": true, "satisfaction": "satisfied"}),
        StatusCode::CONFLICT,
        "illegal_transition",
    )
    .await;
    // Missing required field.
    app.act_refused(
        "handler",
        id,
        "return",
        json!({}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
    )
    .await;
    app.act_refused(
        "handler",
        id,
        "return",
        json!({"reason": "   "}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "required",
    )
    .await;
    // A department may not whistle; a street may not whistle a street.
    app.act_refused(
        "handler",
        id,
        "whistle",
        json!({"units": [OTHER_STREET_OFFICE], "reason": "协同"}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "not_a_department",
    )
    .await;
    // Unknown action, unknown id, malformed id.
    let (s, v) = app
        .post(
            "dispatcher",
            &format!("/api/v1/requests/{id}/fly"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_action"))
    );
    let (s, _) = app
        .post(
            "dispatcher",
            "/api/v1/requests/999999/escalate",
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = app.get("dispatcher", "/api/v1/requests/abc").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    // Manual escalation (督办) by a supervisor works and counts.
    let v = app
        .act_ok(
            "supervisor",
            id,
            "escalate",
            json!({"reason": "群众反映强烈"}),
        )
        .await;
    assert_eq!(v["escalation_level"], 1);
}

#[tokio::test]
async fn refusals_leave_nothing_behind() {
    on_every_backend!(refusals);
}

async fn returns_and_overrule(app: &App) {
    let id = app.intake(json!({})).await;
    app.act_ok("dispatcher", id, "dispatch", json!({"unit": STREET}))
        .await;
    let before = app.state(id).await;
    app.act_ok(
        "handler",
        id,
        "return",
        json!({"reason": "不属于本街道管辖"}),
    )
    .await;
    let v = app.state(id).await;
    assert_eq!(v["status"], "returned");
    assert_eq!(v["returns"], 1);
    // Overruling needs a reason, then keeps the unit and its original deadlines.
    app.act_refused(
        "dispatcher",
        id,
        "dispatch",
        json!({"unit": STREET}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "required",
    )
    .await;
    app.advance_to("2026-11-02T15:00:00+08:00");
    let v = app
        .act_ok(
            "dispatcher",
            id,
            "dispatch",
            json!({"unit": STREET, "reason": "地址在本街道"}),
        )
        .await;
    assert_eq!(v["status"], "dispatched");
    assert_eq!(v["completion_due"], before["completion_due"]);
    // Returned again and re-routed: the new unit gets a fresh clock.
    app.act_ok("handler", id, "return", json!({"reason": "应由房管局处理"}))
        .await;
    let v = app
        .act_ok(
            "dispatcher",
            id,
            "dispatch",
            json!({"unit": "housing-admin"}),
        )
        .await;
    assert_eq!(v["lead_unit"], "housing-admin");
    assert_eq!(v["direct_dispatch"], false);
    let (s, _) = app.get("handler", &format!("/api/v1/requests/{id}")).await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "the former unit no longer sees it"
    );
    let (s, _) = app
        .get("handler-housing", &format!("/api/v1/requests/{id}"))
        .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn return_overrule_and_reroute() {
    on_every_backend!(returns_and_overrule);
}

async fn extension(app: &App) {
    let id = app.intake(json!({})).await;
    app.act_ok("dispatcher", id, "dispatch", json!({"unit": STREET}))
        .await;
    app.act_ok("handler", id, "accept", json!({})).await;
    let due0: jiff::Timestamp = app.state(id).await["completion_due"]
        .as_str()
        .expect("due")
        .parse()
        .expect("ts");
    app.act_refused(
        "handler",
        id,
        "extend",
        json!({"working_days": 99, "reason": "需协调多部门"}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "out_of_range",
    )
    .await;
    app.act_ok(
        "handler",
        id,
        "extend",
        json!({"working_days": 5, "reason": "需协调多部门"}),
    )
    .await;
    assert_eq!(app.state(id).await["sla_state"], "paused");
    app.act_refused(
        "handler",
        id,
        "extend",
        json!({"working_days": 5, "reason": "again"}),
        StatusCode::CONFLICT,
        "extension_pending",
    )
    .await;
    // Only a dispatcher or supervisor decides.
    app.act_refused(
        "handler",
        id,
        "decide-extension",
        json!({"approve": true}),
        StatusCode::FORBIDDEN,
        "forbidden_role",
    )
    .await;
    // Decided a day later: the day of pause is added back, then 5 working days.
    app.advance_to("2026-11-03T09:00:00+08:00");
    let v = app
        .act_ok(
            "dispatcher",
            id,
            "decide-extension",
            json!({"approve": true}),
        )
        .await;
    let due1: jiff::Timestamp = v["completion_due"]
        .as_str()
        .expect("due")
        .parse()
        .expect("ts");
    assert!(due1 > due0, "an extension never shortens the deadline");
    // 11 Nov + 1 day pause → 12 Nov, + 5 working days → Thu 19 Nov 23:59:59.
    assert_eq!(v["completion_due"], "2026-11-19T15:59:59Z");
    assert_eq!(v["extensions_granted"], 1);
    // A refused extension still gives the paused time back, and needs a reason.
    app.act_ok(
        "handler",
        id,
        "extend",
        json!({"working_days": 3, "reason": "再延"}),
    )
    .await;
    app.advance_to("2026-11-03T11:00:00+08:00");
    app.act_refused(
        "supervisor",
        id,
        "decide-extension",
        json!({"approve": false}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "required",
    )
    .await;
    let v = app
        .act_ok(
            "supervisor",
            id,
            "decide-extension",
            json!({"approve": false, "reason": "理由不充分"}),
        )
        .await;
    assert_eq!(v["completion_due"], "2026-11-19T17:59:59Z");
    assert_eq!(v["extensions_granted"], 1);
}

#[tokio::test]
async fn extension_pauses_and_extends_the_clock() {
    on_every_backend!(extension);
}

async fn sla_breach(app: &App) {
    let id = app.intake(json!({})).await;
    app.act_ok("dispatcher", id, "dispatch", json!({"unit": STREET}))
        .await;
    let fresh = app.intake(json!({})).await;
    app.act_ok("dispatcher", fresh, "dispatch", json!({"unit": STREET}))
        .await;
    app.act_ok("handler", fresh, "accept", json!({})).await;
    app.act_ok(
        "handler",
        fresh,
        "contact",
        json!({"method": "phone", "reached": true}),
    )
    .await;
    // 80% of the 7 working days: both requests are in the warning band before any breach.
    let (_, l) = app.get("supervisor", "/api/v1/requests?sla=warning").await;
    assert_eq!(l["items"].as_array().map(Vec::len), Some(0));
    // Past the response deadline (Tue 3 Nov 23:59:59) but not the completion deadline.
    app.advance_to("2026-11-04T08:00:00+08:00");
    let (s, r) = app.post("supervisor", "/api/v1/sla/sweep", json!({})).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["escalations"], 1, "{r}");
    let v = app.state(id).await;
    assert_eq!(v["response_overdue"], true);
    assert_eq!(v["completion_overdue"], false);
    assert_eq!(v["sla_state"], "overdue");
    assert_eq!(app.state(fresh).await["response_overdue"], false);
    // Sweeping again, and two sweeps at once, raise nothing more.
    let (_, r) = app.post("supervisor", "/api/v1/sla/sweep", json!({})).await;
    assert_eq!(r["escalations"], 0);
    let now = app.clock.now();
    let (a, b) = tokio::join!(app.store.sweep_sla(now), app.store.sweep_sla(now));
    assert_eq!(
        a.expect("sweep").escalations + b.expect("sweep").escalations,
        0
    );
    app.advance_to("2026-11-10T12:00:00+08:00");
    let (_, l) = app.get("supervisor", "/api/v1/requests?sla=warning").await;
    assert_eq!(l["items"].as_array().map(Vec::len), Some(2), "{l}");
    assert_eq!(l["items"][0]["sla_state"], "warning");
    // Past completion: exactly one more, for each request.
    app.advance_to("2026-11-12T08:00:00+08:00");
    let (a, b) = tokio::join!(
        app.store.sweep_sla(app.clock.now()),
        app.store.sweep_sla(app.clock.now())
    );
    assert_eq!(
        a.expect("sweep").escalations + b.expect("sweep").escalations,
        2
    );
    let events = app.store.events(id).await.expect("events");
    let auto: Vec<_> = events
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                jiesu_domain::EventKind::Escalated {
                    automatic: true,
                    ..
                }
            )
        })
        .collect();
    assert_eq!(auto.len(), 2, "response + completion, once each");
    assert_eq!(app.state(id).await["escalation_level"], 2);
    // Overdue filter.
    let (_, l) = app.get("supervisor", "/api/v1/requests?overdue=true").await;
    assert_eq!(l["items"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn sla_breach_escalates_exactly_once() {
    on_every_backend!(sla_breach);
}

async fn whistle(app: &App) {
    let id = app.intake(json!({})).await;
    app.act_ok("dispatcher", id, "dispatch", json!({"unit": STREET}))
        .await;
    app.act_ok("handler", id, "accept", json!({})).await;
    let (s, _) = app
        .get("handler-housing", &format!("/api/v1/requests/{id}"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let v = app
        .act_ok(
            "handler",
            id,
            "whistle",
            json!({"units": ["housing-admin", "ecology"], "reason": "楼体渗水涉及多部门"}),
        )
        .await;
    assert_eq!(v["co_handlers"].as_array().map(Vec::len), Some(2));
    // Co-handlers now see the request and report, once.
    app.act_ok(
        "handler-housing",
        id,
        "report",
        json!({"note": "已到场查看"}),
    )
    .await;
    app.act_refused(
        "handler-housing",
        id,
        "report",
        json!({}),
        StatusCode::CONFLICT,
        "already_reported",
    )
    .await;
    // A co-handler is not the lead.
    app.act_refused(
        "handler-housing",
        id,
        "reply",
        json!({"text": "x"}),
        StatusCode::FORBIDDEN,
        "forbidden_role",
    )
    .await;
    app.act_refused(
        "handler",
        id,
        "whistle",
        json!({"units": ["housing-admin"], "reason": "again"}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "already_involved",
    )
    .await;
    // The unreported department breaches its own clock (24 h) exactly once.
    app.advance_to("2026-11-03T10:00:00+08:00");
    let r = app.store.sweep_sla(app.clock.now()).await.expect("sweep");
    assert_eq!(r.escalations, 1);
    let v = app.state(id).await;
    let eco = v["co_handlers"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["unit"] == "ecology"))
        .cloned()
        .expect("ecology");
    assert_eq!(eco["overdue"], true);
    let (_, l) = app.get("handler-ecology", "/api/v1/requests").await;
    assert_eq!(
        l["items"].as_array().map(Vec::len),
        Some(1),
        "co-handler's queue"
    );
}

#[tokio::test]
async fn whistle_and_report() {
    on_every_backend!(whistle);
}

async fn merge_reopen_suspend(app: &App) {
    let master = app.intake(json!({})).await;
    let child = app
        .intake(json!({"text": "楼道杂物堆积很久了，物业一直不管，请处理。"}))
        .await;
    app.act_ok("dispatcher", master, "dispatch", json!({"unit": STREET}))
        .await;
    app.act_refused(
        "operator",
        child,
        "merge",
        json!({"master_id": master}),
        StatusCode::FORBIDDEN,
        "forbidden_role",
    )
    .await;
    app.act_refused(
        "dispatcher",
        child,
        "merge",
        json!({"master_id": child}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "self_merge",
    )
    .await;
    let v = app
        .act_ok("dispatcher", child, "merge", json!({"master_id": master}))
        .await;
    assert_eq!(v["status"], "merged");
    assert_eq!(v["merged_into"], master);
    assert_eq!(app.state(master).await["merged_children"], json!([child]));
    let third = app.intake(json!({})).await;
    app.act_refused(
        "dispatcher",
        third,
        "merge",
        json!({"master_id": child}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "master_finished",
    )
    .await;

    // Unresolved callback → 重办 with a new deadline.
    app.act_ok("handler", master, "accept", json!({})).await;
    app.act_ok(
        "handler",
        master,
        "contact",
        json!({"method": "visit", "reached": true}),
    )
    .await;
    app.act_ok("handler", master, "reply", json!({"text": "已清理"}))
        .await;
    app.act_refused(
        "callback",
        master,
        "callback",
        json!({"reached": true}),
        StatusCode::UNPROCESSABLE_ENTITY,
        "required",
    )
    .await;
    app.act_ok(
        "callback",
        master,
        "callback",
        json!({"reached": true, "resolved": false, "satisfaction": "unsatisfied", "note": "只清理了一半"}),
    )
    .await;
    app.advance_to("2026-11-05T10:00:00+08:00");
    let v = app
        .act_ok(
            "callback",
            master,
            "reopen",
            json!({"reason": "诉求人称未解决"}),
        )
        .await;
    assert_eq!(v["status"], "dispatched");
    assert_eq!(v["reopen_count"], 1);
    assert_eq!(v["completion_due"], "2026-11-16T15:59:59Z");

    // 挂账: a dispatcher suspends a long-term matter, then closes it as such.
    app.act_ok("handler", master, "accept", json!({})).await;
    app.act_refused(
        "handler",
        master,
        "suspend",
        json!({"reason": "x"}),
        StatusCode::FORBIDDEN,
        "forbidden_role",
    )
    .await;
    app.act_ok(
        "dispatcher",
        master,
        "suspend",
        json!({"reason": "涉及历史遗留产权问题"}),
    )
    .await;
    let v = app.act_ok("dispatcher", master, "close", json!({})).await;
    assert_eq!(v["close_outcome"], "long_term");
}

#[tokio::test]
async fn merge_reopen_and_suspend() {
    on_every_backend!(merge_reopen_suspend);
}

async fn intake_closings(app: &App) {
    // Art.11 special handling closes at intake in the same action.
    let (s, v) = app
        .post(
            "operator",
            "/api/v1/requests",
            json!({"request_type": "help_request", "text": "家里老人摔倒了起不来，需要急救。", "special_handling": "transfer_120", "urgent": true}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["status"], "closed");
    assert_eq!(v["close_outcome"], "special");
    assert_eq!(v["special"], "transfer_120");
    // A 咨询 answered on the spot.
    let (s, v) = app
        .post(
            "operator",
            "/api/v1/requests",
            json!({"request_type": "consultation", "text": "请问供暖费在哪里缴纳？", "answer": "可在热力集团营业厅或线上缴纳。"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["close_outcome"], "answered");
    // A complaint cannot be "answered" away.
    let (s, v) = app
        .post(
            "operator",
            "/api/v1/requests",
            json!({"request_type": "complaint", "text": "噪音扰民", "answer": "知道了"}),
        )
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("answer"))
    );
    // Dispatch in the same action.
    let (s, v) = app
        .post(
            "operator",
            "/api/v1/requests",
            json!({"request_type": "complaint", "category": "heating.no-heat", "street": STREET, "text": "暖气不热，室温只有15度。", "dispatch_to": "heating"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["status"], "dispatched");
    // utility class: 24 calendar hours.
    assert_eq!(v["completion_due"], "2026-11-03T01:00:00Z");
    // A handler cannot record requests.
    let (s, _) = app
        .post(
            "handler",
            "/api/v1/requests",
            json!({"request_type": "complaint", "text": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn special_handling_answer_and_dispatch_at_intake() {
    on_every_backend!(intake_closings);
}
