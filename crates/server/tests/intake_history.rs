//! Caller history at intake (issue 13, item 3): as the operator types the phone, the caller's
//! earlier requests appear beside the form (how many, the last three with status and date,
//! links); each lookup is audited like the phone search; no history without CSRF. On every
//! backend.

mod common;

use common::App;
use reqwest::StatusCode;
use serde_json::json;

async fn history_post(app: &App, user: &str, phone: &str, csrf: bool) -> (StatusCode, String) {
    let token = app.tokens[user].clone();
    let mut form = vec![("caller_phone", phone.to_string())];
    if csrf {
        form.push(("csrf", jiesu_server::web::csrf_token(&token)));
    }
    let r = reqwest::Client::new()
        .post(format!("{}/intake/history", app.base))
        .header("cookie", format!("jiesu_session={token}"))
        .form(&form)
        .send()
        .await
        .expect("post");
    (r.status(), r.text().await.unwrap_or_default())
}

async fn caller_history(app: &App) {
    let phone = "13698765432";
    let mut codes = Vec::new();
    for i in 0..4 {
        let id = app
            .intake(json!({
                "caller_phone": phone,
                "text": format!("第{i}次反映：楼下餐馆油烟很大，晚上一直排放，影响休息。"),
            }))
            .await;
        codes.push(
            app.state(id).await["tracking_code"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    // Someone else's request is not in this caller's history.
    let other = app.intake(json!({"caller_phone": "13500001111"})).await;
    let other_code = app.state(other).await["tracking_code"]
        .as_str()
        .unwrap()
        .to_string();

    let index = app.store.pii().phone_index(phone).expect("index");
    let before = app
        .store
        .audit_for("phone", &index)
        .await
        .expect("audit")
        .len();
    let (s, html) = history_post(app, "operator", "136 9876 5432", true).await;
    assert_eq!(s, StatusCode::OK, "[{}] {html}", app.backend());
    assert!(html.contains("共有 <strong>4</strong> 件"), "{html}");
    // The last three, newest first, with their status and a link; not the oldest.
    for c in &codes[1..] {
        assert!(html.contains(c.as_str()), "{c} missing: {html}");
    }
    assert!(!html.contains(codes[0].as_str()));
    assert!(!html.contains(other_code.as_str()));
    assert!(html.contains("已受理") && html.contains("href=\"/r/"));
    // Each lookup is audited as a phone search by the operator (the blind index, not the number).
    let audit = app.store.audit_for("phone", &index).await.expect("audit");
    assert_eq!(audit.len(), before + 1, "one audit entry per lookup");
    let last = audit.last().expect("entry");
    assert_eq!(
        (last.action.as_str(), last.username.as_str()),
        ("search_by_phone", "operator")
    );
    assert!(
        !last.target_id.contains(phone) && !last.detail.clone().unwrap_or_default().contains(phone)
    );
    // A new caller: no history, said in words.
    let (_, html) = history_post(app, "operator", "13711112222", true).await;
    assert!(html.contains("该号码没有历史诉求"), "{html}");
    // Too short to be a phone: nothing looked up.
    let (_, html) = history_post(app, "operator", "1369", true).await;
    assert!(!html.contains("历史诉求"));
    // A forged post: refused.
    let (s, _) = history_post(app, "operator", phone, false).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // A role without the intake desk: refused.
    let (s, _) = history_post(app, "handler", phone, true).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // The intake form asks for it as the phone is typed.
    let (_, _, page) = app.page(Some("operator"), "/intake").await;
    assert!(page.contains("hx-post=\"/intake/history\""));
}

#[tokio::test]
async fn intake_shows_the_callers_earlier_requests() {
    on_every_backend!(caller_history);
}
