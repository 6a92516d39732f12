//! The web UI over HTTP: sessions and CSRF, each desk's page, forms that show the engine's
//! refusals beside the field and store nothing, the citizen portal's upload limits, and admin
//! edits that take effect at once and are audited. (The browser journey is `e2e/journey.mjs`.)

mod common;

use common::{App, STREET};
use jiesu_store::ListFilter;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

struct Browser<'a> {
    app: &'a App,
    http: reqwest::Client,
    cookie: String,
    csrf: String,
}

impl<'a> Browser<'a> {
    fn of(app: &'a App, user: &str) -> Browser<'a> {
        let token = app.tokens[user].clone();
        Browser {
            app,
            http: no_redirects(),
            csrf: jiesu_server::web::csrf_token(&token),
            cookie: format!("jiesu_session={token}"),
        }
    }
    async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = self
            .http
            .get(format!("{}{path}", self.app.base))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .expect("get");
        (r.status(), r.text().await.unwrap_or_default())
    }
    /// Posts a form; `csrf: true` adds the session's token.
    async fn post(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        csrf: bool,
    ) -> (StatusCode, String, Option<String>) {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        if csrf {
            form.push(("csrf", &self.csrf));
        }
        let r = self
            .http
            .post(format!("{}{path}", self.app.base))
            .header(COOKIE, &self.cookie)
            .form(&form)
            .send()
            .await
            .expect("post");
        let loc = r
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        (r.status(), r.text().await.unwrap_or_default(), loc)
    }
}

async fn count(app: &App) -> usize {
    app.store
        .list(&ListFilter {
            limit: 500,
            ..Default::default()
        })
        .await
        .expect("list")
        .items
        .len()
}

async fn desks_and_sessions(app: &App) {
    // Without a session every desk sends the browser to the login form, remembering where.
    let r = no_redirects()
        .get(format!("{}/intake", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/login?next=/intake");

    for (user, path, marker) in [
        ("operator", "/intake", "受理台"),
        ("dispatcher", "/board", "派单台"),
        ("handler", "/queue", "承办队列"),
        ("callback", "/callback", "回访台"),
        ("supervisor", "/dashboard", "考评态势"),
        ("admin", "/admin", "系统管理"),
        ("supervisor", "/requests?status=open", "诉求查询"),
    ] {
        let (s, html) = Browser::of(app, user).get(path).await;
        assert_eq!(s, StatusCode::OK, "{user} {path}: {html}");
        assert!(html.contains(marker), "{user} {path}");
    }
    // The dashboard reports how the intake suggestions fared this month.
    let (_, html) = Browser::of(app, "supervisor").get("/dashboard").await;
    assert!(html.contains("id=\"suggestion-accuracy\""), "{html}");
    assert!(html.contains("问题分类") && html.contains("承办单位"));
    // A desk of another role is refused with a page, not an empty list.
    let (s, html) = Browser::of(app, "handler").get("/board").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(html.contains("不能使用此页面"));

    // Login form: a wrong password is answered on the form; the right one sets an HttpOnly,
    // SameSite=Strict cookie and goes to the role's desk.
    let http = no_redirects();
    let r = http
        .post(format!("{}/login", app.base))
        .form(&[("username", "operator"), ("password", "wrong-password")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("用户名或密码错误"));
    let r = http
        .post(format!("{}/login", app.base))
        .form(&[("username", "operator"), ("password", common::PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/intake");
    let set = r.headers()[SET_COOKIE].to_str().unwrap().to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let token = set
        .trim_start_matches("jiesu_session=")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let cookie = format!("jiesu_session={token}");
    // Logout needs the CSRF token; with it the session is revoked.
    let r = http
        .post(format!("{}/logout", app.base))
        .header(COOKIE, &cookie)
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let csrf = jiesu_server::web::csrf_token(&token);
    let r = http
        .post(format!("{}/logout", app.base))
        .header(COOKIE, &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = http
        .get(format!("{}/intake", app.base))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "session ended");
}

#[tokio::test]
async fn desks_and_sessions_work() {
    on_every_backend!(desks_and_sessions);
}

async fn intake_desk(app: &App) {
    let op = Browser::of(app, "operator");
    let before = count(app).await;
    let fields = [
        ("request_type", "complaint"),
        ("channel", "hotline"),
        ("text", "什刹海西四北三条路灯不亮一周了"),
        ("street", STREET),
        ("disposition", "dispatch"),
        ("dispatch_to", STREET),
        ("idem", "form-1"),
    ];
    // A forged form (no CSRF token) is refused and stores nothing.
    let (s, _, _) = op.post("/intake", &fields, false).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(count(app).await, before);
    // Missing text and missing unit: both messages beside their fields, nothing stored.
    let (s, html, _) = op
        .post(
            "/intake",
            &[
                ("request_type", "complaint"),
                ("text", ""),
                ("disposition", "dispatch"),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请填写诉求内容") && html.contains("请选择承办单位"));
    assert_eq!(count(app).await, before);
    // An engine refusal (unknown street) comes back as the field's message.
    let (s, html, _) = op
        .post(
            "/intake",
            &[
                ("request_type", "complaint"),
                ("text", "路灯不亮"),
                ("street", "nowhere"),
                ("disposition", "record"),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("aria-invalid"));
    assert_eq!(count(app).await, before);
    // The real thing: recorded and dispatched in one action; a resubmitted form stores once.
    let (s, _, loc) = op.post("/intake", &fields, true).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, _, loc2) = op.post("/intake", &fields, true).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(loc, loc2, "same form key, same request");
    assert_eq!(count(app).await, before + 1);
    let id: i64 = loc
        .unwrap()
        .trim_start_matches("/intake?done=")
        .parse()
        .unwrap();
    let st = app.store.get(id).await.unwrap().unwrap();
    assert_eq!(st.status.as_str(), "dispatched");
    assert_eq!(st.lead_unit.as_deref(), Some(STREET));
    let (_, html) = op.get(&format!("/intake?done={id}")).await;
    assert!(html.contains(&st.tracking_code));
    assert!(
        html.contains(r#"id="shift-counter">1<"#),
        "shift counter counts it"
    );

    // Suggestions as the text is typed (an htmx partial).
    let (s, html, _) = op
        .post(
            "/intake/suggest",
            &[("text", "厨房燃气泄漏，闻到很大的煤气味")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("id=\"emergency\""),
        "gas leak flagged: {html}"
    );
}

#[tokio::test]
async fn intake_desk_records_and_refuses() {
    on_every_backend!(intake_desk);
}

async fn request_page(app: &App) {
    let id = app
        .intake(serde_json::json!({"caller_name": "张三", "caller_phone": "13912345678"}))
        .await;
    app.act_ok(
        "dispatcher",
        id,
        "dispatch",
        serde_json::json!({"unit": STREET}),
    )
    .await;
    // Another unit's handler: the same 404 as a missing id.
    let (s, _) = Browser::of(app, "handler-other")
        .get(&format!("/r/{id}"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The supervisor sees the caller masked; the handler sees them, and that view is logged.
    let (_, html) = Browser::of(app, "supervisor")
        .get(&format!("/r/{id}"))
        .await;
    assert!(html.contains("139****5678") && !html.contains("13912345678"));
    let handler = Browser::of(app, "handler");
    let (s, html) = handler.get(&format!("/r/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("13912345678"));
    let audit = app
        .store
        .audit_for("request", &id.to_string())
        .await
        .unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.username == "handler" && a.action == "view_caller_identity")
    );
    // What the engine does not allow yet is shown disabled, with its reason.
    assert!(
        html.contains(r#"id="act-reply" aria-disabled="true""#),
        "{html}"
    );
    assert!(html.contains(r#"id="act-accept""#) && html.contains(r#"id="do-accept""#));
    // Sign, then reply before contacting: refused by the rule of 条例 Art.15, nothing changes.
    let (s, _, loc) = handler
        .post(&format!("/r/{id}/act/accept"), &[], true)
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(loc.as_deref(), Some(format!("/r/{id}?ok=accept").as_str()));
    let version = app.store.get(id).await.unwrap().unwrap().version;
    let (s, html, _) = handler
        .post(&format!("/r/{id}/act/reply"), &[("text", "已修复")], true)
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(html.contains("答复前须先联系诉求人"), "{html}");
    assert_eq!(app.store.get(id).await.unwrap().unwrap().version, version);
    // A bad field value is named beside its field.
    let (s, html, _) = handler
        .post(
            &format!("/r/{id}/act/extend"),
            &[("working_days", "lots"), ("reason", "材料采购")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请填写延期的工作日数"));
    // Forged action form: refused, nothing changes.
    let (s, _, _) = handler
        .post(
            &format!("/r/{id}/act/contact"),
            &[("method", "phone"), ("reached", "yes")],
            false,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(app.store.get(id).await.unwrap().unwrap().version, version);
    // The queue shows it with the time left.
    let (_, html) = handler.get("/queue").await;
    let code = app.store.get(id).await.unwrap().unwrap().tracking_code;
    assert!(html.contains(&code) && html.contains("剩"));
}

#[tokio::test]
async fn request_page_enforces_the_engine() {
    on_every_backend!(request_page);
}

fn multipart(fields: &[(&str, &str)], photo: Option<(&str, Vec<u8>)>) -> reqwest::multipart::Form {
    let mut f = reqwest::multipart::Form::new();
    for (k, v) in fields {
        f = f.text(k.to_string(), v.to_string());
    }
    if let Some((name, bytes)) = photo {
        f = f.part(
            "photo",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
        );
    }
    f
}

async fn portal(app: &App) {
    let http = no_redirects();
    let url = format!("{}/portal", app.base);
    let fields = [
        ("request_type", "complaint"),
        ("text", "西四北三条的下水道堵了"),
        ("address", "西四北三条"),
        ("caller_phone", "13800001111"),
    ];
    let before = count(app).await;
    // A photo that is not an image (whatever its name says) is refused beside the field.
    let r = http
        .post(&url)
        .multipart(multipart(
            &fields,
            Some(("x.jpg", b"<html>not a photo".to_vec())),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("只接受 JPG、PNG 或 WebP"));
    // Over the limit: refused, nothing filed.
    let mut big = vec![0xFFu8, 0xD8, 0xFF];
    big.resize(jiesu_server::web::MAX_UPLOAD_BYTES + 200_000, 0);
    let r = http
        .post(&url)
        .multipart(multipart(&fields, Some(("big.jpg", big))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.text().await.unwrap().contains("照片不能超过"));
    assert_eq!(count(app).await, before);
    // A PNG: filed, a tracking code, the photo visible to staff who may see the request.
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    png.extend_from_slice(&[0u8; 64]);
    let r = http
        .post(&url)
        .multipart(multipart(&fields, Some(("p.png", png.clone()))))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let loc = r.headers()[LOCATION].to_str().unwrap().to_string();
    assert!(loc.starts_with("/portal/track?code=XC"), "{loc}");
    assert_eq!(count(app).await, before + 1);
    let code = loc
        .trim_start_matches("/portal/track?code=")
        .split('&')
        .next()
        .unwrap()
        .to_string();
    let st = app
        .store
        .get_by_tracking_code(&code)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(st.intake.channel.as_str(), "web");
    let photo = no_redirects()
        .get(format!("{}/r/{}/photo/0", app.base, st.id))
        .header(
            COOKIE,
            format!("jiesu_session={}", app.tokens["dispatcher"]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(photo.status(), StatusCode::OK);
    assert_eq!(photo.headers()["content-type"], "image/png");
    assert_eq!(photo.bytes().await.unwrap().to_vec(), png);
    // Anyone with the code follows it, without the caller's details.
    let page = http
        .get(format!("{}/portal/track?code={code}", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("已受理") && !page.contains("13800001111"));
    // Rating: not before a reply; then once.
    let rate = |s: &'static str| {
        http.post(format!("{}/portal/rate", app.base))
            .form(&[("code", code.as_str()), ("satisfaction", s)])
            .send()
    };
    assert_eq!(
        rate("satisfied").await.unwrap().status(),
        StatusCode::CONFLICT
    );
    let id = st.id;
    app.act_ok(
        "dispatcher",
        id,
        "dispatch",
        serde_json::json!({"unit": STREET}),
    )
    .await;
    app.act_ok("handler", id, "accept", serde_json::json!({}))
        .await;
    app.act_ok(
        "handler",
        id,
        "contact",
        serde_json::json!({"method": "phone", "reached": true}),
    )
    .await;
    app.act_ok(
        "handler",
        id,
        "reply",
        serde_json::json!({"text": "已疏通"}),
    )
    .await;
    assert_eq!(
        rate("satisfied").await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    let again = rate("unsatisfied").await.unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(again.text().await.unwrap().contains("只能评价一次"));
    let st = app.store.get(id).await.unwrap().unwrap();
    assert_eq!(st.citizen_rating.map(|s| s.as_str()), Some("satisfied"));
}

#[tokio::test]
async fn portal_files_tracks_and_rates_once() {
    on_every_backend!(portal);
}

async fn admin(app: &App) {
    let admin = Browser::of(app, "admin");
    let weights = |r: &str, res: &str| {
        [
            ("w.response", r.to_string()),
            ("w.resolution", res.to_string()),
            ("w.satisfaction", "40".to_string()),
            ("w.satisfied_score", "100".to_string()),
            ("w.basically_satisfied_score", "80".to_string()),
            ("w.unsatisfied_score", "0".to_string()),
        ]
    };
    let bad = weights("-5", "40");
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (s, html, _) = admin.post("/admin/weights", &bad, true).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请填写 0–100 之间的数"));
    // 30 + 40 + 40 = 110: refused by the rule the weights file is held to, not saved.
    let over = weights("30", "40");
    let over: Vec<(&str, &str)> = over.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (s, html, _) = admin.post("/admin/weights", &over, true).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("之和须为 100，现为 110"),
        "weights summing to 110 accepted"
    );
    // Only an admin edits.
    let good = weights("20", "40");
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (s, _, _) = Browser::of(app, "supervisor")
        .post("/admin/weights", &good, true)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, loc) = admin.post("/admin/weights", &good, true).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{loc:?}");
    // In force at once (the API answers with the new weights) and audited.
    let (_, v) = app
        .get("supervisor", "/api/v1/assessment?period=2026-11")
        .await;
    assert_eq!(v["weights"]["response"], 20.0);
    let audit = app.store.audit_for("world", "weights").await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "edit_weights");
    // A holiday added makes the calendar skip it.
    let (s, _, _) = admin
        .post(
            "/admin/holidays",
            &[
                ("h.date", "2026-11-03"),
                ("h.kind", "holiday"),
                ("h.name", "测试假日"),
                ("h.op", "add"),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, html) = admin.get("/admin").await;
    assert!(html.contains("测试假日"));
    let (s, html, _) = admin
        .post(
            "/admin/holidays",
            &[("h.date", "11/03"), ("h.op", "add"), ("h.name", "x")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("日期格式应为"));
    // A category routed to another unit: the next intake's routing follows at once.
    let (s, _, _) = admin
        .post(
            "/admin/category",
            &[
                ("c.code", common::STREET_CATEGORY),
                ("c.responsible", "housing-admin"),
                ("c.sla", "nonsense"),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let sla = app.dir.world.sla.classes[0].code.clone();
    let (s, _, _) = admin
        .post(
            "/admin/category",
            &[
                ("c.code", common::STREET_CATEGORY),
                ("c.responsible", "housing-admin"),
                ("c.sla", sla.as_str()),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, html) = admin.get("/admin").await;
    assert!(html.contains("分类的责任单位和时限已保存") || html.contains("系统管理"));
    let audit = app
        .store
        .audit_for("world", common::STREET_CATEGORY)
        .await
        .unwrap();
    assert_eq!(audit[0].action, "edit_category");
    let world = app.store.load_world().await.unwrap().unwrap();
    let cat = world
        .categories
        .iter()
        .find(|c| c.code == common::STREET_CATEGORY)
        .unwrap();
    assert_eq!(
        cat.responsible,
        Some(jiesu_world::Responsible::Unit("housing-admin".into()))
    );
    // Accounts: a weak password is refused beside the field.
    let (s, html, _) = admin
        .post(
            "/admin/users",
            &[
                ("username", "newop"),
                ("password", "short"),
                ("role", "operator"),
            ],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // The password rule in Chinese, with its bound; never the engine's English.
    assert!(html.contains("至少10位"), "{html}");
    assert!(!html.contains("at least 10 characters"));
}

#[tokio::test]
async fn admin_edits_apply_at_once_and_are_audited() {
    on_every_backend!(admin);
}

async fn webhooks_page(app: &App) {
    let admin = Browser::of(app, "admin");
    let (s, html) = admin.get("/admin/webhooks").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("还没有订阅方") && html.contains("没有死信"),
        "{html}"
    );
    let (s, _) = Browser::of(app, "supervisor").get("/admin/webhooks").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // A scheme other than http(s) is refused beside the field and nothing is stored.
    let (s, html, _) = admin
        .post(
            "/admin/webhooks",
            &[("name", "区数据中心"), ("url", "ftp://10.0.0.5/hook")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("id=\"w-url\"") && html.contains("aria-invalid"),
        "{html}"
    );
    assert!(
        html.contains("ftp://10.0.0.5/hook"),
        "the typed URL is kept"
    );
    assert!(app.store.webhooks().await.unwrap().is_empty());
    // Without the form token nothing happens either.
    let (s, _, _) = admin
        .post(
            "/admin/webhooks",
            &[("name", "x"), ("url", "http://10.0.0.5/hook")],
            false,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Added: the secret is on this answer only, and the change is audited.
    let (s, html, _) = admin
        .post(
            "/admin/webhooks",
            &[("name", "区数据中心"), ("url", "https://10.0.0.5/hook")],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("id=\"secret\">whsec_"), "{html}");
    let hooks = app.store.webhooks().await.unwrap();
    assert_eq!(hooks.len(), 1);
    let id = hooks[0].id;
    let audit = app
        .store
        .audit_for("webhook", &id.to_string())
        .await
        .unwrap();
    assert_eq!(audit[0].action, "create_webhook");
    let (_, html) = admin.get("/admin/webhooks").await;
    assert!(html.contains("区数据中心") && !html.contains("whsec_"));
    // Disabled from the page.
    let (s, _, loc) = admin
        .post(&format!("/admin/webhooks/{id}/disable"), &[], true)
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{loc:?}");
    assert!(app.store.webhooks().await.unwrap()[0].disabled_at.is_some());
    let (_, html) = admin.get("/admin/webhooks?ok=disabled").await;
    assert!(html.contains("已停用"));
    // Retrying every dead letter (none here) is fine; a dead letter that does not exist is 404.
    let (s, _, _) = admin.post("/admin/webhooks/retry", &[], true).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, _, _) = admin
        .post("/admin/webhooks/retry", &[("id", "999999")], true)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn webhooks_and_dead_letters_from_the_admin_page() {
    on_every_backend!(webhooks_page);
}

async fn dispatch_form(app: &App) {
    let b = app.backend();
    let id = app.intake(serde_json::json!({})).await;
    let dispatcher = Browser::of(app, "dispatcher");
    let (s, html) = dispatcher.get(&format!("/r/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    // Nothing is preselected but the unit the category and street route to, marked.
    assert!(
        html.contains(r#"<option value="">请选择承办单位</option>"#),
        "[{b}] no empty first choice"
    );
    assert_eq!(
        html.matches(" selected>").count(),
        1,
        "[{b}] one preselected unit"
    );
    assert!(
        html.contains(&format!(r#"<option value="{STREET}" selected>"#)),
        "[{b}] the routed street office is not preselected"
    );
    assert!(html.contains("（建议）"));
    // Another street's office: asked twice, nothing changes the first time.
    let path = format!("/r/{id}/act/dispatch");
    let (s, html, _) = dispatcher
        .post(&path, &[("unit", common::OTHER_STREET_OFFICE)], true)
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "[{b}] a form error");
    assert!(html.contains("不辖本诉求所在的"), "[{b}] no street warning");
    assert_eq!(
        app.state(id).await["status"],
        "received",
        "[{b}] dispatched anyway"
    );
    let (s, _, loc) = dispatcher
        .post(
            &path,
            &[
                ("unit", common::OTHER_STREET_OFFICE),
                ("cross_street", "yes"),
            ],
            true,
        )
        .await;
    assert!(
        s.is_redirection(),
        "[{b}] confirmed cross-street dispatch: {s}"
    );
    assert!(loc.unwrap_or_default().contains("ok=dispatch"));
    assert_eq!(
        app.state(id).await["lead_unit"],
        common::OTHER_STREET_OFFICE
    );
    // A department covers the whole district: no question asked.
    let other = app.intake(serde_json::json!({})).await;
    let (s, _, _) = dispatcher
        .post(
            &format!("/r/{other}/act/dispatch"),
            &[("unit", "housing-admin")],
            true,
        )
        .await;
    assert!(s.is_redirection(), "[{b}] department dispatch: {s}");
}

#[tokio::test]
async fn dispatch_preselects_the_routed_unit_and_asks_before_another_street() {
    on_every_backend!(dispatch_form);
}

/// `html` without the elements named `tag` (and what they hold).
fn without(html: &str, tag: &str) -> String {
    let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
    let mut out = String::new();
    let mut rest = html;
    while let Some(i) = rest.find(&open) {
        out.push_str(&rest[..i]);
        rest = rest[i..]
            .find(&close)
            .map(|j| &rest[i + j + close.len()..])
            .unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// The words of a page a person reads: tags, scripts, styles, `<code>`, `<kbd>` and `<bdi>` (a
/// person's name as they typed it) removed.
fn visible_text(html: &str) -> String {
    let mut rest = html.to_string();
    for tag in ["script", "style", "code", "bdi", "kbd"] {
        rest = without(&rest, tag);
    }
    let mut text = String::new();
    let mut in_tag = false;
    for c in rest.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// Latin words in a page's visible text, except codes, ids and product names.
fn english_words(html: &str) -> Vec<String> {
    const ALLOWED: &[&str] = &[
        "API", "CSV", "XLSX", "JSON", "Open311", "Webhook", "CSRF", "ID", "OK", "nbsp", "amp",
        "quot", "lt", "gt", "http", "https", "jiesu", "JPG", "PNG", "WebP", "MB", "KB",
    ];
    visible_text(html)
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| w.len() >= 2 && w.chars().any(|c| c.is_ascii_alphabetic()))
        // Codes and ids carry digits (XC26120263TKHK, 110102018); words do not.
        .filter(|w| !w.chars().any(|c| c.is_ascii_digit()))
        .filter(|w| !ALLOWED.contains(w))
        .map(str::to_string)
        .collect()
}

async fn chinese_everywhere(app: &App) {
    let id = app
        .intake(serde_json::json!({"caller_name": "张三", "caller_phone": "13912345678"}))
        .await;
    // Before dispatch: the callback desk's refusals (role and state) are Chinese sentences.
    let cb = Browser::of(app, "dispatcher");
    let (_, html) = cb.get(&format!("/r/{id}")).await;
    assert!(
        !html.contains("is not possible") && !html.contains("may do this"),
        "{html}"
    );
    assert!(html.contains("诉求当前为“已受理”"), "{html}");
    // Dispatch: the confirmation does not repeat the button's label.
    let (s, _, loc) = cb
        .post(&format!("/r/{id}/act/dispatch"), &[("unit", STREET)], true)
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{loc:?}");
    let (_, html) = cb.get(loc.as_deref().unwrap_or_default()).await;
    assert!(html.contains("派单已生效"), "{html}");
    assert!(!html.contains("已派单 / 改派"));
    // The handler signs; the timeline names roles and units, never login names.
    let handler = Browser::of(app, "handler");
    handler
        .post(&format!("/r/{id}/act/accept"), &[], true)
        .await;
    let (_, html) = handler.get(&format!("/r/{id}")).await;
    let unit = app.store.get(id).await.unwrap().unwrap();
    assert_eq!(unit.lead_unit.as_deref(), Some(STREET));
    assert!(html.contains("承办人 · "), "{html}");
    assert!(!html.contains("handler（") && !html.contains("dispatcher（"));
    // A reply refused by the engine's rule, in Chinese; a too-long reason names its field.
    let (s, html, _) = handler
        .post(
            &format!("/r/{id}/act/return"),
            &[("reason", &"长".repeat(6000))],
            true,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
    assert!(html.contains("理由过长，最多"), "{html}");
    // Every desk page reads in Chinese.
    for (user, path) in [
        ("dispatcher", format!("/r/{id}")),
        ("handler", format!("/r/{id}")),
        ("dispatcher", "/board".to_string()),
        ("handler", "/queue".to_string()),
        ("callback", "/callback".to_string()),
        ("supervisor", "/requests".to_string()),
        ("admin", "/admin".to_string()),
        ("operator", "/intake".to_string()),
    ] {
        let (s, html) = Browser::of(app, user).get(&path).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        let words = english_words(&html);
        assert!(words.is_empty(), "{user} {path}: English words {words:?}");
    }
    // The admin's unit table names kinds in Chinese.
    let (_, html) = Browser::of(app, "admin").get("/admin").await;
    assert!(html.contains("街道办事处") && html.contains("职能部门"));
    assert!(!html.contains(">Street<") && !html.contains(">Department<"));
    // The portal's phone error is Chinese for citizens.
    let form = multipart(
        &[
            ("request_type", "complaint"),
            ("text", "小区门口路灯坏了很久没人修"),
            ("caller_phone", "12345"),
        ],
        None,
    );
    let r = no_redirects()
        .post(format!("{}/portal", app.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("联系电话格式不正确"), "{html}");
    assert!(
        english_words(&html).is_empty(),
        "{:?}",
        english_words(&html)
    );
    // Exports: 渠道 in words, the code kept in its own `channel` column.
    let (s, _, csv) = app
        .page(Some("supervisor"), "/api/v1/requests/export?format=csv")
        .await;
    assert_eq!(s, StatusCode::OK);
    let mut lines = csv.trim_start_matches('\u{feff}').lines();
    let head: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let zh = head.iter().position(|h| *h == "渠道").expect("渠道");
    let code = head.iter().position(|h| *h == "channel").expect("channel");
    let row = lines.next().unwrap_or_default();
    let cells: Vec<&str> = row.split(',').collect();
    assert!(
        ["12345热线", "网站"].contains(&cells.get(zh).copied().unwrap_or_default()),
        "{row}"
    );
    assert!(["hotline", "web"].contains(&cells.get(code).copied().unwrap_or_default()));
}

#[tokio::test]
async fn every_page_and_message_is_chinese() {
    on_every_backend!(chinese_everywhere);
}

async fn red_only_when_overdue(app: &App) {
    let id = app.intake(serde_json::json!({})).await;
    app.act_ok(
        "dispatcher",
        id,
        "dispatch",
        serde_json::json!({"unit": STREET}),
    )
    .await;
    // The response deadline passes unsigned; the completion deadline is days away.
    let st = app.store.get(id).await.unwrap().unwrap();
    let (resp, done) = (st.response_due.unwrap(), st.completion_due.unwrap());
    let t = resp + jiff::SignedDuration::from_mins(5);
    assert!(t < done);
    app.advance_to(&t.to_string());
    app.store.sweep_sla(t).await.unwrap();
    assert!(app.store.get(id).await.unwrap().unwrap().response_overdue);
    let (_, html) = Browser::of(app, "handler").get("/queue").await;
    let row = html
        .split(&format!("<tr data-id=\"{id}\""))
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .unwrap_or_default()
        .to_string();
    // The tag says what ran out, in the colour of the time it shows: not red.
    assert!(row.contains("响应超时 · 剩"), "{row}");
    assert!(!row.contains("sla-overdue"), "{row}");
    // Past the completion deadline it is red.
    let late = done + jiff::SignedDuration::from_mins(5);
    app.advance_to(&late.to_string());
    app.store.sweep_sla(late).await.unwrap();
    let (_, html) = Browser::of(app, "handler").get("/queue").await;
    let row = html
        .split(&format!("<tr data-id=\"{id}\""))
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .unwrap_or_default()
        .to_string();
    assert!(row.contains("sla-overdue") && row.contains("超时"), "{row}");
}

#[tokio::test]
async fn time_left_tags_are_red_only_when_overdue() {
    on_every_backend!(red_only_when_overdue);
}
