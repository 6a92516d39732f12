//! 身份鉴别 (issue 12), on every backend: the password policy, an admin's reset with a forced
//! change, changing one's own password, disabling accounts and revoking sessions, the idle
//! timeout, login throttling that persists across restarts and is per (name, address) so the
//! real user is not locked out, and every security event in the audit log.

mod common;

use common::*;
use jiesu_server::AppState;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Another server process on the same database (a restart, or a second server).
async fn second_server(app: &App, configure: impl FnOnce(&mut AppState)) -> String {
    let mut state = AppState::new(
        app.store.clone(),
        jiesu_domain::Directory::new(world()),
        app.clock.clone(),
    );
    configure(&mut state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = jiesu_server::serve(listener, state, std::future::pending()).await;
    });
    format!("http://{addr}")
}

async fn login_at(
    app: &App,
    base: &str,
    user: &str,
    password: &str,
    from: Option<&str>,
) -> (StatusCode, Value) {
    let mut rb = app
        .client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": user, "password": password}));
    if let Some(ip) = from {
        rb = rb.header("x-forwarded-for", ip);
    }
    let r = rb.send().await.expect("send");
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn call_as(
    app: &App,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let url = format!("{}{path}", app.base);
    let mut rb = match method {
        "GET" => app.client.get(url),
        _ => app.client.post(url),
    };
    rb = rb.bearer_auth(token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.expect("send");
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

fn actions(audit: &[jiesu_store::AuditEntry]) -> Vec<String> {
    audit.iter().map(|a| a.action.clone()).collect()
}

async fn accounts_under_the_policy(app: &App) {
    // The policy: length, three kinds, not the username, not a well-known password.
    for (pw, why) in [
        ("aaaaaaaaaa", "one kind"),
        ("zhao.2026.Xc", "contains the username"),
        ("P@ssw0rd1234", "well-known"),
        ("Xicheng12345", "the district's own weak list"),
        ("Sh0rt-pw", "short"),
    ] {
        let (s, v) = app
            .post(
                "admin",
                "/api/v1/users",
                json!({"username": "zhao", "password": pw, "role": "operator"}),
            )
            .await;
        assert_eq!(
            (s, v["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("password")),
            "{why}: {v}"
        );
        assert_eq!(v["code"], "weak_password", "{why}: {v}");
    }
    let (s, v) = app
        .post(
            "admin",
            "/api/v1/users",
            json!({"username": "zhao", "password": "Strong-pass-2026", "role": "operator"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let zhao = v["id"].as_i64().expect("id");
    let (s, v) = login_at(app, &app.base, "zhao", "Strong-pass-2026", None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["must_change_password"], false);
    let first = v["token"].as_str().expect("token").to_string();

    // Only the admin manages accounts, and never its own this way.
    let (s, _) = app
        .post(
            "supervisor",
            &format!("/api/v1/users/{zhao}/disable"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, me) = app.get("admin", "/api/v1/auth/me").await;
    assert_eq!(s, StatusCode::OK);
    let admin_id = me["id"].as_i64().expect("admin id");
    let (s, v) = app
        .post(
            "admin",
            &format!("/api/v1/users/{admin_id}/disable"),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("own_account")),
        "{v}"
    );

    // A reset: the old session ends, the new password works once, and must be changed first.
    let (s, v) = app
        .post(
            "admin",
            &format!("/api/v1/users/{zhao}/password"),
            json!({"password": "aaaaaaaaaa"}),
        )
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("password"))
    );
    let (s, v) = app
        .post(
            "admin",
            &format!("/api/v1/users/{zhao}/password"),
            json!({"password": "Reset-pass-2026"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["must_change_password"], true);
    let (s, _) = call_as(app, &first, "GET", "/api/v1/auth/me", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "a reset ends the sessions");
    let (s, v) = login_at(app, &app.base, "zhao", "Reset-pass-2026", None).await;
    assert_eq!(
        (s, v["must_change_password"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{v}"
    );
    let t = v["token"].as_str().expect("token").to_string();
    let (s, v) = call_as(app, &t, "GET", "/api/v1/requests", None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("password_change_required")),
        "{v}"
    );
    let (s, _) = call_as(app, &t, "GET", "/api/v1/auth/me", None).await;
    assert_eq!(s, StatusCode::OK, "who am I stays open");
    for (body, field, code) in [
        (
            json!({"current_password": "wrong-Pass-1", "password": "Brand-new-2026"}),
            "current_password",
            "bad_credentials",
        ),
        (
            json!({"current_password": "Reset-pass-2026", "password": "Reset-pass-2026"}),
            "password",
            "reused_password",
        ),
        (
            json!({"current_password": "Reset-pass-2026", "password": "zhaozhaozhao1A"}),
            "password",
            "weak_password",
        ),
    ] {
        let (s, v) = call_as(app, &t, "POST", "/api/v1/auth/password", Some(body)).await;
        assert_eq!(
            (s, v["field"].as_str(), v["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field), Some(code)),
            "{v}"
        );
    }
    // A second session of the same account, which the change ends.
    let (_, v) = login_at(app, &app.base, "zhao", "Reset-pass-2026", None).await;
    let other = v["token"].as_str().expect("token").to_string();
    let (s, v) = call_as(
        app,
        &t,
        "POST",
        "/api/v1/auth/password",
        Some(json!({"current_password": "Reset-pass-2026", "password": "Brand-new-2026"})),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let (s, _) = call_as(app, &t, "GET", "/api/v1/requests", None).await;
    assert_eq!(
        s,
        StatusCode::OK,
        "the session in use stays, now unrestricted"
    );
    let (s, _) = call_as(app, &other, "GET", "/api/v1/auth/me", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "other sessions end");
    let (s, _) = login_at(app, &app.base, "zhao", "Reset-pass-2026", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // Disable: the session ends now and no login works; enable brings it back.
    let (s, v) = app
        .post("admin", &format!("/api/v1/users/{zhao}/disable"), json!({}))
        .await;
    assert_eq!(
        (s, v["disabled"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{v}"
    );
    let (s, _) = call_as(app, &t, "GET", "/api/v1/auth/me", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = login_at(app, &app.base, "zhao", "Brand-new-2026", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = app
        .post("admin", &format!("/api/v1/users/{zhao}/enable"), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = login_at(app, &app.base, "zhao", "Brand-new-2026", None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let t = v["token"].as_str().expect("token").to_string();

    // Revoke: every session of the account, counted.
    let (s, v) = app
        .post(
            "admin",
            &format!("/api/v1/users/{zhao}/sessions/revoke"),
            json!({}),
        )
        .await;
    assert_eq!((s, v["revoked"].as_i64()), (StatusCode::OK, Some(1)), "{v}");
    let (s, _) = call_as(app, &t, "GET", "/api/v1/auth/me", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = app
        .post("admin", "/api/v1/users/999999/disable", json!({}))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");

    // Every change by the admin, and every login event of the account, is in the audit log.
    let by_admin = app
        .store
        .audit_for("user", &zhao.to_string())
        .await
        .expect("audit");
    assert_eq!(
        actions(&by_admin),
        [
            "create_user",
            "reset_password",
            "change_password",
            "disable_user",
            "enable_user",
            "revoke_sessions"
        ],
        "[{}]",
        app.backend()
    );
    let logins = app.store.audit_for("user", "zhao").await.expect("audit");
    let seen = actions(&logins);
    assert_eq!(seen.iter().filter(|a| *a == "login").count(), 4, "{seen:?}");
    assert!(
        seen.iter().filter(|a| *a == "login_failed").count() >= 2,
        "{seen:?}"
    );
    let failed = logins
        .iter()
        .find(|a| a.action == "login_failed")
        .expect("a failure");
    assert_eq!((failed.user_id, failed.role.as_str()), (None, "none"));
    assert!(
        failed
            .detail
            .as_deref()
            .unwrap_or_default()
            .starts_with("from "),
        "{failed:?}"
    );
    let (s, _) = call_as(
        app,
        &app.tokens["operator"],
        "POST",
        "/api/v1/auth/logout",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let out = app
        .store
        .audit_for("user", "operator")
        .await
        .expect("audit");
    assert!(
        actions(&out).contains(&"logout".to_string()),
        "{:?}",
        actions(&out)
    );
}

#[tokio::test]
async fn passwords_and_accounts_follow_the_policy() {
    on_every_backend!(accounts_under_the_policy);
}

async fn throttling_survives_restarts_and_spares_the_real_user(app: &App) {
    // Five guesses at `callback` from this address lock that pair, even to the right password.
    for _ in 0..5 {
        let (s, _) = login_at(app, &app.base, "callback", "Wrong-guess-1", None).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let (s, v) = login_at(app, &app.base, "callback", PASSWORD, None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("too_many_attempts"))
    );
    // A restarted server (fresh process state, same database) still refuses.
    let restarted = second_server(app, |_| {}).await;
    let (s, _) = login_at(app, &restarted, "callback", PASSWORD, None).await;
    assert_eq!(
        s,
        StatusCode::TOO_MANY_REQUESTS,
        "[{}] the lock did not survive",
        app.backend()
    );
    // Behind a trusted proxy, the real user at another address is not locked out.
    let proxied = second_server(app, |s| s.trust_proxy = true).await;
    let (s, v) = login_at(app, &proxied, "callback", PASSWORD, Some("10.1.2.3")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // A forged header is ignored where no proxy is trusted: still this address, still locked.
    let (s, _) = login_at(app, &restarted, "callback", PASSWORD, Some("10.1.2.3")).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    // A spray from one address over many names is slowed after 20 failures, whatever the name.
    for i in 0..20 {
        let (s, _) = login_at(
            app,
            &proxied,
            &format!("guess{i}"),
            "Wrong-guess-1",
            Some("10.9.9.9"),
        )
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let (s, _) = login_at(app, &proxied, "supervisor", PASSWORD, Some("10.9.9.9")).await;
    assert_eq!(
        s,
        StatusCode::TOO_MANY_REQUESTS,
        "the spraying address is slowed"
    );
    let (s, _) = login_at(app, &proxied, "supervisor", PASSWORD, Some("10.9.9.10")).await;
    assert_eq!(s, StatusCode::OK, "everyone else is not");
    // The locks are audited once each.
    let audit = app
        .store
        .audit_for("user", "callback")
        .await
        .expect("audit");
    let locks: Vec<_> = audit.iter().filter(|a| a.action == "lockout").collect();
    assert_eq!(locks.len(), 1, "{:?}", actions(&audit));
    assert!(
        locks[0]
            .detail
            .as_deref()
            .unwrap_or_default()
            .contains("callback@"),
        "{:?}",
        locks[0]
    );
    let spray = app.store.audit_for("user", "guess19").await.expect("audit");
    assert!(
        spray.iter().any(|a| a.action == "lockout"
            && a.detail
                .as_deref()
                .unwrap_or_default()
                .contains("addr:10.9.9.9")),
        "{:?}",
        actions(&spray)
    );
}

#[tokio::test]
async fn login_throttling_persists_and_is_per_address() {
    on_every_backend!(throttling_survives_restarts_and_spares_the_real_user);
}

async fn idle_sessions_end(app: &App) {
    // This server keeps the default idle limit (the test harness lifts it for long scenarios).
    let base = second_server(app, |_| {}).await;
    let (s, v) = login_at(app, &base, "dispatcher", PASSWORD, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let token = v["token"].as_str().expect("token").to_string();
    let me = |at: &'static str| {
        let (app, base, token) = (app, base.clone(), token.clone());
        async move {
            app.advance_to(at);
            app.client
                .get(format!("{base}/api/v1/auth/me"))
                .bearer_auth(&token)
                .send()
                .await
                .expect("send")
                .status()
        }
    };
    assert_eq!(me("2026-11-02T09:20:00+08:00").await, StatusCode::OK);
    assert_eq!(
        me("2026-11-02T09:45:00+08:00").await,
        StatusCode::OK,
        "used 25 minutes ago"
    );
    assert_eq!(
        me("2026-11-02T10:20:00+08:00").await,
        StatusCode::UNAUTHORIZED,
        "idle 35 minutes"
    );
}

#[tokio::test]
async fn sessions_end_after_30_idle_minutes() {
    on_every_backend!(idle_sessions_end);
}

async fn admins_administer_only(app: &App) {
    let id = app.intake(json!({"dispatch_to": STREET})).await;
    let (s, v) = app
        .post("admin", "/api/v1/requests", json!({"request_type": "complaint", "text": "楼道堆满杂物，存在消防隐患。", "street": STREET}))
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden_role")),
        "{v}"
    );
    for action in ["accept", "escalate", "callback", "close"] {
        let (s, v) = app
            .post(
                "admin",
                &format!("/api/v1/requests/{id}/{action}"),
                json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{action}: {v}");
    }
    // Reading stays (oversight), and nothing changed.
    assert_eq!(app.state(id).await["status"], "dispatched");
    let (s, _) = app.get("admin", &format!("/api/v1/requests/{id}")).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn the_admin_does_not_handle_or_score_cases() {
    on_every_backend!(admins_administer_only);
}
