//! 一键呼 alarm desk pages over HTTP (issue 15, item 5), on every backend: an alarm raised by a
//! device (handed to the ingestion use case directly, no broker) is listed on the desk and in
//! the fragment it polls; 「接警」 moves it; the alarm's page shows the elder's profile with the
//! medical notes to the desk and nothing to a handler; a step the state does not allow is
//! refused in Chinese on the page (never a 5xx); the next steps run to a linked 12345 request
//! and a closed alarm; the devices page lists the silent device and renders the month's KPIs;
//! no page shows English words.

mod common;

use common::{App, Browser, COMMUNITY, STREET};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A logged-in browser: the session cookie and the CSRF token forms carry.
/// A page's visible text: tags dropped, and the content of `script`, `style`, `code`, `kbd`
/// and `bdi` (codes, keys and names as typed) left out, as the browser journey's scan does.
fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        out.push(' ');
        let after = &rest[lt + 1..];
        let gt = after.find('>').map(|i| i + 1).unwrap_or(after.len());
        let tag: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        rest = &after[gt..];
        if ["script", "style", "code", "kbd", "bdi"].contains(&tag.as_str()) {
            let close = format!("</{tag}");
            match rest.to_ascii_lowercase().find(&close) {
                Some(i) => {
                    let r = &rest[i..];
                    rest = r.find('>').map(|j| &r[j + 1..]).unwrap_or("");
                }
                None => rest = "",
            }
        }
    }
    out.push_str(rest);
    out
}

/// Latin words in a page's visible text, except codes and ids (they carry digits) and names.
fn english_words(html: &str) -> Vec<String> {
    const ALLOWED: &[&str] = &["ID", "OK", "nbsp", "amp", "quot", "lt", "gt", "CSRF"];
    visible_text(html)
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| w.len() >= 2 && w.chars().any(|c| c.is_ascii_alphabetic()))
        .filter(|w| !w.chars().any(|c| c.is_ascii_digit()))
        .filter(|w| !ALLOWED.contains(w))
        .map(str::to_string)
        .collect()
}

fn assert_chinese(who: &str, path: &str, html: &str) {
    let words = english_words(html);
    assert!(words.is_empty(), "{who} {path}: English words {words:?}");
}

fn elder() -> Value {
    json!({
        "name": "王桂兰",
        "id_number": jiesu_domain::care::person::with_check_character("11010219380506003"),
        "phone": "13900003333", "birth_date": "1938-05-06",
        "street": STREET, "community": COMMUNITY, "address": "前海北沿8号院2号楼101",
        "living_alone": true, "basic_service_object": false,
        "family": [{"name": "王强", "relation": "儿子", "phone": "13700004444"}],
        "care_manager": "care-manager", "medical_notes": "冠心病，随身带硝酸甘油",
        "consent": {"date": "2026-10-01", "scope": ["基本信息", "健康信息"]},
    })
}

const DEVICE: &str = "YJH-W001";

/// The device's alarm, handed to the ingestion use case as the MQTT consumer would.
async fn raise(app: &App, reference: &str, code: &str) -> i64 {
    let body = json!({"reference": reference, "device_type": "pendant", "status_code": code,
        "priority": 1, "room": "卫生间", "time": app.app.now().to_string()})
    .to_string();
    let (_, reply) = jiesu_app::alarms::ingest::mqtt(
        &app.app,
        &format!("jiesu/v1/devices/{DEVICE}/alarm"),
        body.as_bytes(),
    )
    .await
    .expect("ingest")
    .expect("a reply to the device");
    // The server's clock task writes liveness transitions each second; here the test does.
    app.app.alarms.live.flush(&app.app).await.expect("flush");
    let v = serde_json::to_value(&reply).expect("reply json");
    assert_eq!(v["result"], "accepted", "{v}");
    v["alarm_id"].as_i64().expect("alarm id")
}

async fn status_of(app: &App, id: i64) -> String {
    let (_, v) = app.get("operator", &format!("/api/v1/alarms/{id}")).await;
    v["alarm"]["status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn scenario(app: &App) {
    // -- provisioning through the JSON API: a vendor, an elder, a device in the elder's home --
    let (s, v) = app
        .post(
            "care-admin",
            "/api/v1/devices/vendors",
            json!({"code": "acme", "name": "安康一键呼"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = app.post("care-admin", "/api/v1/care/elders", elder()).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let elder_id = v["id"].as_i64().expect("elder id");
    let (s, v) = app
        .post(
            "care-admin",
            "/api/v1/devices",
            json!({"device_id": DEVICE, "vendor": "acme", "model": "AK-100", "elder_id": elder_id,
                "installed_on": "2026-10-01", "room": "卧室", "heartbeat_secs": 60}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");

    let operator = Browser::of(app, "operator");
    let (s, html) = operator.get("/alarms").await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("id=\"no-alarms\""), "{html}");

    // -- an alarm: listed on the desk and in the fragment the desk polls every second --
    let id = raise(app, "W1", "fall").await;
    let (s, html) = operator.get("/alarms").await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains(&format!("id=\"alarm-{id}\"")), "{html}");
    assert!(html.contains("hx-get=\"/alarms/feed\""), "{html}");
    assert!(html.contains("hx-trigger=\"every 1s\""), "{html}");
    assert!(html.contains("/alarms/desk.js") && html.contains("声音提醒"));
    assert!(html.contains("跌倒") && html.contains("什刹海街道") && html.contains("待接警"));
    let (s, js) = operator.get("/alarms/desk.js").await;
    assert_eq!(s, StatusCode::OK);
    assert!(js.contains("AudioContext") && js.contains("htmx:afterSwap"));
    let (s, feed) = operator.get("/alarms/feed").await;
    assert_eq!(s, StatusCode::OK, "{feed}");
    assert!(!feed.contains("<html"), "a fragment, not a page: {feed}");
    assert!(
        feed.contains(&format!("data-alarm=\"{id}\" data-status=\"raised\"")),
        "{feed}"
    );
    assert!(feed.contains(&format!("id=\"ack-{id}\"")), "{feed}");
    // A second alarm appears in the next poll, the unacknowledged ones first.
    let id2 = raise(app, "W2", "button").await;
    let (_, feed) = operator.get("/alarms/feed").await;
    assert!(feed.contains(&format!("id=\"alarm-{id2}\"")), "{feed}");
    assert!(feed.contains("id=\"raised-count\">2<"), "{feed}");
    // The care manager of the street works it too; a handler has no desk.
    let (s, html) = Browser::of(app, "care-manager").get("/alarms").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains(&format!("id=\"alarm-{id}\"")));
    for path in ["/alarms", "/alarms/feed"] {
        let (s, _) = Browser::of(app, "handler").get(path).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
    }

    // -- the alarm's page: the elder at a glance for the desk; nothing for a handler --
    let (s, html) = operator.get(&format!("/alarms/{id}")).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    for want in [
        "王桂兰",
        "冠心病，随身带硝酸甘油",
        "13900003333",
        "王强",
        "13700004444",
        "前海北沿8号院2号楼101",
        "AK-100",
        "卧室",
        "卫生间",
        "id=\"device-online\">在线<",
        "id=\"do-acknowledge\"",
    ] {
        assert!(html.contains(want), "{want}: {html}");
    }
    assert!(!html.contains("id=\"resolve-form\""), "not before 接警");
    for who in ["handler", "provider", "callback"] {
        let (s, html) = Browser::of(app, who).get(&format!("/alarms/{id}")).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{who}");
        assert!(!html.contains("冠心病"), "{who}");
    }
    let (s, _) = operator.get("/alarms/999999").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = operator.get("/alarms/abc").await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // -- a step the state does not allow: refused in Chinese on the page, nothing changes --
    for action in ["close", "on_site"] {
        let (s, html, _) = operator
            .post(&format!("/alarms/{id}/act/{action}"), &[])
            .await;
        assert!(s.is_client_error(), "{action}: {s}");
        assert!(
            html.contains("报警当前为“待接警”，不能执行此操作。"),
            "{action}: {html}"
        );
        assert_chinese("operator", action, &html);
    }
    // Resolving as anything but a false alarm before dispatch is refused too.
    let (s, html, _) = operator
        .post(
            &format!("/alarms/{id}/act/resolve"),
            &[("outcome", "helped_at_home")],
        )
        .await;
    assert!(s.is_client_error(), "{s}");
    assert!(html.contains("报警当前为"), "{html}");
    assert_eq!(status_of(app, id).await, "raised");
    // A form without its CSRF token is refused.
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .post(format!("{}/alarms/{id}/act/acknowledge", app.base))
        .header(reqwest::header::COOKIE, &operator.cookie)
        .form(&[("x", "1")])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A handler may not act either.
    let (s, _, _) = Browser::of(app, "handler")
        .post(&format!("/alarms/{id}/act/acknowledge"), &[])
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // -- 「接警」 from the desk: acknowledged, then the alarm's page --
    let (s, _, loc) = operator
        .post(&format!("/alarms/{id}/act/acknowledge"), &[])
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(loc, format!("/alarms/{id}?ok=acknowledge"));
    assert_eq!(status_of(app, id).await, "acknowledged");
    let (_, html) = operator.get(&loc).await;
    assert!(html.contains("已接警，请立即联系老人"), "{html}");
    assert!(html.contains("id=\"contact-form\"") && html.contains("id=\"dispatch-form\""));
    assert!(!html.contains("id=\"do-acknowledge\""));
    let (_, feed) = operator.get("/alarms/feed").await;
    assert!(
        feed.contains(&format!("data-alarm=\"{id}\" data-status=\"acknowledged\"")),
        "{feed}"
    );
    assert!(!feed.contains(&format!("id=\"ack-{id}\"")), "{feed}");
    assert!(feed.contains("用时") && feed.contains("id=\"raised-count\">1<"));
    // Taking it twice: the second desk is told in Chinese.
    let (s, html, _) = operator
        .post(&format!("/alarms/{id}/act/acknowledge"), &[])
        .await;
    assert!(s.is_client_error(), "{s}");
    assert!(html.contains("报警当前为“已接警”"), "{html}");

    // -- the next steps: a form left blank names its field; contact, dispatch, on site --
    let (s, html, _) = operator
        .post(&format!("/alarms/{id}/act/dispatch"), &[("note", "")])
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请选择派出的人员。"), "{html}");
    let (s, html, _) = operator
        .post(&format!("/alarms/{id}/act/contact"), &[])
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请选择是否联系到老人。"), "{html}");
    let (s, html, _) = operator
        .post(
            &format!("/alarms/{id}/act/contact"),
            &[("reached", "yes"), ("note", "老人在卫生间摔倒，意识清醒")],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{html}");
    let long = "长".repeat(600);
    let (s, html, _) = operator
        .post(
            &format!("/alarms/{id}/act/dispatch"),
            &[("responder", "family"), ("note", long.as_str())],
        )
        .await;
    assert!(s.is_client_error(), "{s}");
    assert!(html.contains("派员："), "{html}");
    assert_chinese("operator", "dispatch too long", &html);
    let (s, _, _) = operator
        .post(
            &format!("/alarms/{id}/act/dispatch"),
            &[("responder", "family"), ("note", "儿子王强十分钟到")],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, html) = operator.get(&format!("/alarms/{id}")).await;
    assert!(html.contains("接警后尚无人到场"), "{html}");
    assert!(html.contains("派员：家属") && html.contains("儿子王强十分钟到"));
    let (s, _, _) = operator
        .post(&format!("/alarms/{id}/act/on_site"), &[])
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, _, _) = operator
        .post(
            &format!("/alarms/{id}/act/resolve"),
            &[("outcome", "helped_at_home"), ("note", "扶起，无明显外伤")],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(status_of(app, id).await, "resolved");
    // Follow-up: the linked 12345 request, linked from the alarm's page.
    let (s, _, loc) = operator
        .post(&format!("/alarms/{id}/act/follow_up"), &[])
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, html) = operator.get(&loc).await;
    let (_, v) = app.get("operator", &format!("/api/v1/alarms/{id}")).await;
    let rid = v["alarm"]["request_id"].as_i64().expect("linked request");
    assert!(html.contains(&format!("href=\"/r/{rid}\"")), "{html}");
    assert!(html.contains("已生成接诉工单"), "{html}");
    let (s, _) = operator.get(&format!("/r/{rid}")).await;
    assert_eq!(s, StatusCode::OK, "the linked request's page opens");
    let (s, html, _) = operator
        .post(&format!("/alarms/{id}/act/follow_up"), &[])
        .await;
    assert!(s.is_client_error(), "{s}");
    assert!(html.contains("该报警已关联诉求工单"), "{html}");
    let (s, _, _) = operator.post(&format!("/alarms/{id}/act/close"), &[]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(status_of(app, id).await, "closed");
    let (_, feed) = operator.get("/alarms/feed").await;
    assert!(
        !feed.contains(&format!("id=\"alarm-{id}\"")),
        "closed: off the desk"
    );

    // A false alarm may be resolved right after 接警; the elder's other alarm is listed.
    let (s, _, _) = operator
        .post(&format!("/alarms/{id2}/act/acknowledge"), &[])
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, html) = operator.get(&format!("/alarms/{id2}")).await;
    assert!(html.contains("派员前只能按误报处置"), "{html}");
    assert!(
        html.contains(&format!("href=\"/alarms/{id}\"")),
        "recent: {html}"
    );
    let (s, _, _) = operator
        .post(
            &format!("/alarms/{id2}/act/resolve"),
            &[("outcome", "false_alarm")],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(status_of(app, id2).await, "resolved");

    // -- devices and the month's KPIs: the device silent past three heartbeats is offline --
    app.clock
        .set(app.app.now() + jiff::SignedDuration::from_secs(181));
    app.app
        .alarms
        .live
        .sweep(&app.app)
        .await
        .expect("liveness sweep");
    let (s, html) = Browser::of(app, "care-admin")
        .get("/alarms/devices?month=2026-11")
        .await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("id=\"kpi-alarms\">2<"), "{html}");
    assert!(html.contains("id=\"kpi-60\"") && html.contains("98.5%"));
    assert!(html.contains("id=\"kpi-false\">50.0%<"), "{html}");
    assert!(html.contains(DEVICE), "{html}");
    assert!(html.contains("离线设备（1台）"), "{html}");
    assert!(html.contains("超过3个心跳周期无消息"), "{html}");
    let (s, html) = Browser::of(app, "care-admin")
        .get("/alarms/devices?month=2026-13")
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(html.contains("id=\"kpi-error\""), "{html}");
    assert_chinese("care-admin", "bad month", &html);
    let (s, html) = Browser::of(app, "care-manager")
        .get("/alarms/devices")
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains(DEVICE), "{html}");
    let (s, html) = Browser::of(app, "supervisor").get("/alarms/devices").await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(
        html.contains("href=\"/alarms/devices\""),
        "supervisor's nav link"
    );
    let (s, _) = Browser::of(app, "handler").get("/alarms/devices").await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // -- every page reads in Chinese --
    let id3 = raise(app, "W3", "smoke").await;
    // Nobody takes it for a minute: the chain's first step fires, shown on the desk and the
    // timeline in Chinese.
    app.store
        .sweep_case_timers::<jiesu_domain::alarms::Alarm>(
            app.app.now() + jiff::SignedDuration::from_secs(61),
        )
        .await
        .expect("sweep");
    let (_, feed) = operator.get("/alarms/feed").await;
    assert!(feed.contains("已升级1次"), "{feed}");
    let (_, html) = operator.get(&format!("/alarms/{id3}")).await;
    assert!(html.contains("第1级升级，通知接警台值班长"), "{html}");
    for (who, path) in [
        ("operator", "/alarms".to_string()),
        ("operator", "/alarms/feed".to_string()),
        ("operator", format!("/alarms/{id}")),
        ("operator", format!("/alarms/{id3}")),
        ("dispatcher", format!("/alarms/{id2}")),
        ("care-manager", "/alarms".to_string()),
        ("care-admin", "/alarms/devices".to_string()),
        ("supervisor", "/alarms/devices".to_string()),
        ("operator", "/alarms/devices".to_string()),
    ] {
        let (s, html) = Browser::of(app, who).get(&path).await;
        assert_eq!(s, StatusCode::OK, "{who} {path}");
        assert_chinese(who, &path, &html);
    }
    let (_, html) = operator.get("/alarms").await;
    assert!(html.contains("href=\"/alarms\""), "the desk's nav link");
}

#[tokio::test]
async fn alarm_desk_pages() {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    on_every_backend!(scenario);
}

#[test]
fn the_scan_skips_scripts_and_names() {
    let html = "<p>报警 <bdi>care-manager</bdi></p><script>var x = 1;</script><b>Hello</b>";
    assert_eq!(english_words(html), vec!["Hello".to_string()]);
}
